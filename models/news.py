"""District news (the Dortmund-App information feed): news, events, consultations, office hours.

Staff post items for one district or the whole city (`district` None). Events and office hours
are appointments: they need a start and have a calendar entry (`GET /news/{id}.ics`); news and
consultations may carry a period and a place too (a consultation's deadline, say) but have no
calendar entry.

Withdrawing keeps the row (`withdrawn_at`): the item leaves the feed, yet its calendar entry
is still served as cancelled, so calendars that imported it learn that the date is off.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import outbox
from .base import Base, utcnow
from .errors import Invalid, NotFound
from .reference import district_exists
from .users import Caller

NEWS_KINDS = ("news", "event", "consultation", "office_hours")
# Kinds that are appointments: a start is required and a calendar entry exists.
CALENDAR_KINDS = ("event", "office_hours")
EDITABLE = ("title", "body", "kind", "district", "starts_at", "ends_at", "place")


class NewsItem(Base):
    __tablename__ = "news_items"
    __table_args__ = (
        # The feed: not withdrawn, one district (plus city-wide) or all, newest first.
        Index("ix_news_items_feed", "withdrawn_at", "district", "id"),
        Index("ix_news_items_kind", "withdrawn_at", "kind", "id"),
        # Calendar UIDs are built from the id: a reused id would overwrite someone's entry.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    district: Mapped[str | None] = mapped_column(ForeignKey("districts.slug"))
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    place: Mapped[str | None] = mapped_column(String(200))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    # iCalendar SEQUENCE: calendar apps replace an imported entry only by a higher one.
    sequence: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def has_calendar_entry(self) -> bool:
        return self.kind in CALENDAR_KINDS

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None


def _check(session: Session, fields: dict) -> None:
    """The rules on a whole item (after a partial edit, on the merged values)."""
    district = fields.get("district")
    if district is not None and not district_exists(session, district):
        raise Invalid("district", "unknown_district")
    starts_at, ends_at = fields.get("starts_at"), fields.get("ends_at")
    if fields["kind"] in CALENDAR_KINDS and starts_at is None:
        raise Invalid("starts_at", "news_starts_at_required")
    if ends_at is not None:
        if starts_at is None:
            raise Invalid("ends_at", "news_ends_without_start")
        if ends_at <= starts_at:
            raise Invalid("ends_at", "news_ends_before_start")


def post_news(
    session: Session,
    author: Caller,
    *,
    title: str,
    body: str,
    kind: str,
    district: str | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    place: str | None = None,
) -> NewsItem:
    """Publish an item and record one event for the district's (or the city's) subscribers."""
    fields = {"title": title, "body": body, "kind": kind, "district": district, "starts_at": starts_at, "ends_at": ends_at, "place": place or None}
    _check(session, fields)
    item = NewsItem(**fields, author_id=author.id)
    session.add(item)
    session.flush()
    outbox.record(
        session,
        "district_news",
        "news",
        item.id,
        item.title,
        outbox.district_subscribers(item.district),
        exclude=[author.id],
        data={"news_id": item.id, "kind": item.kind, "district": item.district or ""},
    )
    return item


def get_news(session: Session, news_id: int, *, withdrawn: bool = False) -> NewsItem:
    """An item; withdrawn ones only when asked for (the calendar entry), else 404."""
    item = session.get(NewsItem, news_id)
    if item is None or (item.withdrawn and not withdrawn):
        raise NotFound()
    return item


def edit_news(session: Session, item: NewsItem, changes: dict) -> NewsItem:
    """Change some fields; a real change raises the calendar SEQUENCE. No new notification:
    subscribers heard of the item once, and a typo fix is no news."""
    changes = {k: (v or None) if k == "place" else v for k, v in changes.items() if k in EDITABLE}
    merged = {name: changes.get(name, getattr(item, name)) for name in EDITABLE}
    _check(session, merged)
    changed = {k: v for k, v in changes.items() if getattr(item, k) != v}
    if changed:
        for name, value in changed.items():
            setattr(item, name, value)
        item.sequence += 1
        item.updated_at = utcnow()
        session.flush()
    return item


def withdraw_news(session: Session, item: NewsItem) -> None:
    """Take an item off the feed; its calendar entry turns into a cancellation."""
    if item.withdrawn:
        raise NotFound()
    now = utcnow()
    item.withdrawn_at = now
    item.updated_at = now
    item.sequence += 1
    session.flush()


def feed_query(district: str | None = None, kind: str | None = None):
    """The visible items, for one district (with the city-wide ones) or all of them."""
    stmt = select(NewsItem).where(NewsItem.withdrawn_at.is_(None))
    if district is not None:
        stmt = stmt.where(or_(NewsItem.district == district, NewsItem.district.is_(None)))
    if kind is not None:
        stmt = stmt.where(NewsItem.kind == kind)
    return stmt


def visible_news_ids(session: Session, ids: list[int]) -> set[int]:
    """Those of `ids` still on the feed (the notification worker re-checks before sending)."""
    if not ids:
        return set()
    return set(session.scalars(select(NewsItem.id).where(NewsItem.id.in_(list(ids)), NewsItem.withdrawn_at.is_(None))))
