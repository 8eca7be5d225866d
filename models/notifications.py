"""Devices, notification preferences, the in-app inbox and push deliveries.

- A `Device` is a phone's FCM registration token, owned by the login session that registered
  it: logging out detaches it, so a shared phone stops hearing the previous user's news.
- `NotificationPreferences`: pushes per category, districts for news, quiet hours. A missing
  row means the defaults (everything on but district news, no quiet hours).
- A `Notification` is an inbox item: every event lands there, push or not.
- A `PushDelivery` is one push to one device (or, for broadcasts, to one FCM topic), drained
  by the worker with retries like any outbox row.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, utcnow
from .delivery import Deliverable
from .errors import Conflict, Invalid, NotFound
from .outbox import CATEGORIES

BERLIN = ZoneInfo("Europe/Berlin")
PLATFORMS = ("android", "ios", "web")
LOCALES = ("de", "en")
MAX_TOKEN_LENGTH = 4096
DEFAULT_PUSH = {"idea_updates": True, "report_updates": True, "budget": True, "district_news": False}


def token_digest(token: str) -> str:
    # Tokens are long (up to 4 KB accepted): the unique index is on their digest, which
    # every database indexes cheaply (PostgreSQL's B-tree refuses entries above ~2.7 KB).
    return hashlib.sha256(token.encode()).hexdigest()


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (Index("ix_devices_user", "user_id", "id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    # None once detached (logout, deleted): kept only until its topics are unsubscribed.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    auth_session_id: Mapped[str | None] = mapped_column(ForeignKey("auth_sessions.id", ondelete="SET NULL"), index=True)
    token: Mapped[str] = mapped_column(String(MAX_TOKEN_LENGTH))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    platform: Mapped[str] = mapped_column(String(10))
    locale: Mapped[str] = mapped_column(String(2))
    # FCM topics this token is subscribed to, as far as the worker has done it; `topics_due`
    # marks devices whose wanted topics may differ (preferences changed, moved, detached).
    topics: Mapped[list] = mapped_column(JSON, default=list)
    topics_due: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationPreferences(Base):
    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    idea_updates: Mapped[bool] = mapped_column(Boolean, default=True)
    report_updates: Mapped[bool] = mapped_column(Boolean, default=True)
    budget: Mapped[bool] = mapped_column(Boolean, default=True)
    district_news: Mapped[bool] = mapped_column(Boolean, default=False)
    districts: Mapped[list] = mapped_column(JSON, default=list)
    # "HH:MM" in Europe/Berlin; a window may cross midnight (22:00-07:00).
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """One item of a user's inbox."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_inbox", "user_id", "id"),
        Index("ix_notifications_unread", "user_id", "read_at"),
        Index("ix_notifications_object", "object_type", "object_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("notification_events.id", ondelete="SET NULL"), index=True)
    type: Mapped[str] = mapped_column(String(50))
    object_type: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    read_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when every push of it failed for good: the inbox shows it all the same.
    push_failed: Mapped[bool] = mapped_column(Boolean, default=False)


class PushDelivery(Deliverable, Base):
    __tablename__ = "push_deliveries"
    __table_args__ = (Index("ix_push_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("notification_events.id", ondelete="CASCADE"), index=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    # A personal push goes to a device; a broadcast to an FCM topic (one per district and locale).
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(2), default="de")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# ---------------------------------------------------------------------------------------------
# Devices


def register_device(session: Session, user, auth_session_id: str | None, token: str, platform: str, locale: str) -> Device:
    """Register a phone's token for the caller; a token already known moves to the caller."""
    # Blocked users may still register: they keep hearing about their own content.
    digest = token_digest(token)
    now = utcnow()
    for _ in range(3):
        device = session.scalar(
            select(Device).where(Device.token_digest == digest).with_for_update().execution_options(populate_existing=True)
        )
        if device is not None:
            # A shared phone, a reinstall: the token now speaks for this login.
            device.user_id = user.id
            device.auth_session_id = auth_session_id
            device.platform = platform
            device.locale = locale
            device.topics_due = True
            device.updated_at = now
            session.flush()
            return device
        device = Device(
            user_id=user.id, auth_session_id=auth_session_id, token=token, token_digest=digest,
            platform=platform, locale=locale, topics=[], topics_due=True, created_at=now, updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(device)
            return device
        except IntegrityError:
            # The app sent the same token twice at once (start-up and token refresh): the
            # other request's row is the device; look again and take it over.
            continue
    raise Conflict("conflict_duplicate")


def own_devices(session: Session, user_id: int) -> list[Device]:
    return list(session.scalars(select(Device).where(Device.user_id == user_id).order_by(Device.id)))


def detach_devices(session: Session, *where) -> int:
    """Devices matching `where` stop receiving their user's pushes at once.

    The rows stay (without a user) until the worker has unsubscribed their topics.
    """
    result = session.execute(
        update(Device).where(*where).values(user_id=None, auth_session_id=None, topics_due=True, updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


def detach_device(session: Session, user_id: int, device_id: int) -> None:
    """DELETE /devices/{id}: by its owner only; anyone else is told it does not exist."""
    if not detach_devices(session, Device.id == device_id, Device.user_id == user_id):
        raise NotFound()


def detach_session_devices(session: Session, auth_session_id: str) -> None:
    """Logout: the session's devices stop receiving its user's pushes at once."""
    detach_devices(session, Device.auth_session_id == auth_session_id)


def forget_device(session: Session, device_id: int) -> None:
    """FCM said the token is dead (unregistered, invalid): it never receives another send."""
    session.execute(delete(Device).where(Device.id == device_id))


# ---------------------------------------------------------------------------------------------
# Preferences


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(BERLIN).time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # crosses midnight

    def ends_after(self, moment: datetime) -> datetime:
        """The first end of the quiet hours after `moment` (UTC), for a message that waits."""
        local = moment.astimezone(BERLIN)
        candidate = datetime.combine(local.date(), self.end, tzinfo=BERLIN)
        if candidate <= local:
            candidate = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=BERLIN)
        # Normalise through UTC: wall-clock times on days the clocks change.
        return candidate.astimezone(utcnow().tzinfo).replace(microsecond=0)


def parse_clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def quiet_hours_of(start: str | None, end: str | None) -> QuietHours | None:
    if not start or not end:
        return None
    return QuietHours(parse_clock(start), parse_clock(end))


def preferences_of(session: Session, user_id: int) -> dict:
    row = session.get(NotificationPreferences, user_id)
    if row is None:
        return {"push": dict(DEFAULT_PUSH), "districts": [], "quiet_hours": None}
    return {
        "push": {c: getattr(row, c) for c in CATEGORIES},
        "districts": list(row.districts or []),
        "quiet_hours": {"start": row.quiet_start, "end": row.quiet_end} if row.quiet_start else None,
    }


def set_preferences(session: Session, user_id: int, push: dict, districts: list[str], quiet_hours: dict | None) -> dict:
    from .reference import district_exists

    unknown = [d for d in districts if not district_exists(session, d)]
    if unknown:
        raise Invalid("districts", "unknown_district")
    row = session.get(NotificationPreferences, user_id, with_for_update=True)
    if row is None:
        try:
            with session.begin_nested():
                session.add(NotificationPreferences(user_id=user_id))
        except IntegrityError:
            pass  # a simultaneous first save made the row; the lock below waits for it
        # PUT replaces: whichever request comes second overwrites, neither is refused (409).
        row = session.get(NotificationPreferences, user_id, with_for_update=True, populate_existing=True)
    for category in CATEGORIES:
        setattr(row, category, bool(push.get(category, DEFAULT_PUSH[category])))
    row.districts = sorted(dict.fromkeys(districts))
    row.quiet_start = quiet_hours["start"] if quiet_hours else None
    row.quiet_end = quiet_hours["end"] if quiet_hours else None
    row.updated_at = utcnow()
    # News topics follow the preferences: the worker re-subscribes the user's devices.
    session.execute(update(Device).where(Device.user_id == user_id).values(topics_due=True))
    session.flush()
    return preferences_of(session, user_id)


# ---------------------------------------------------------------------------------------------
# Inbox


def mark_read(session: Session, user_id: int, notification_id: int) -> None:
    found = session.scalar(select(Notification.id).where(Notification.id == notification_id, Notification.user_id == user_id))
    if found is None:
        raise NotFound()
    session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )


def mark_all_read(session: Session, user_id: int) -> int:
    result = session.execute(
        update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None)).values(read_at=utcnow())
    )
    return result.rowcount or 0


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    ) or 0


def news_topic(district: str | None, locale: str) -> str:
    """The FCM topic of one district's news in one language; `None`: city-wide news."""
    return f"news-{district or 'dortmund'}-{locale}"


def news_topics(districts: list[str], locale: str) -> list[str]:
    """FCM topics of a news subscriber: one per chosen district and locale, plus city-wide."""
    return sorted({news_topic(d, locale) for d in districts} | {news_topic(None, locale)})
