"""Outbox of notification events: one row per change that someone should hear about.

A change records ONE event in its own transaction, naming its audience (the followers of an
idea, the members of a body, the subscribers of a district ...) rather than listing the
recipients: with 10,000 followers the request writes one row, as with none. The worker
(notifications.fanout) expands the event into inbox items and push deliveries after commit.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Iterable

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, utcnow
from .delivery import Deliverable

# Which preference (`GET /me/preferences`, `push.<category>`) switches a type's pushes off.
CATEGORIES = ("idea_updates", "report_updates", "budget", "district_news")
TYPE_CATEGORIES = {
    "idea_status_changed": "idea_updates",
    "idea_response": "idea_updates",
    "idea_comment": "idea_updates",
    "moderation_decision": "idea_updates",
    "budget_voting_opened": "budget",
    "budget_voting_closes_soon": "budget",
    "budget_results_published": "budget",
    "district_news": "district_news",
}


def category_of(event_type: str, object_type: str | None = None) -> str:
    if event_type == "moderation_decision" and object_type == "report":
        return "report_updates"
    return TYPE_CATEGORIES.get(event_type) or ("report_updates" if event_type.startswith("report_") else "idea_updates")


class NotificationEvent(Deliverable, Base):
    """A change to tell people about. `status` etc. (Deliverable) track its expansion."""

    __tablename__ = "notification_events"
    __table_args__ = (Index("ix_notification_events_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # idea_status_changed, idea_response, idea_comment, moderation_decision,
    # budget_voting_opened, budget_voting_closes_soon, budget_results_published, district_news
    type: Mapped[str] = mapped_column(String(50))
    # The object the phone opens (idea, comment, round, news ...), re-checked before sending.
    object_type: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int] = mapped_column(Integer)
    # Push payloads carry no names and no user-written text beyond the object's title.
    title: Mapped[str] = mapped_column(String(200))
    # Who hears it: {"kind": "idea_followers", "idea_id"} | {"kind": "report_followers",
    # "report_id"} | {"kind": "users", "ids"} |
    # {"kind": "body_members", "body_id", "on"} | {"kind": "district_subscribers", "district"}
    audience: Mapped[dict] = mapped_column(JSON)
    exclude: Mapped[list] = mapped_column(JSON, default=list)
    # Routing data for the app; all values strings (FCM's rule), see `record`.
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def record(
    session: Session,
    type: str,  # noqa: A002 - the event's type, as the inbox shows it
    object_type: str,
    object_id: int,
    title: str,
    audience: dict,
    exclude: Iterable[int | None] = (),
    data: dict | None = None,
) -> NotificationEvent:
    """Record that `type` happened to an object; the worker tells its audience later."""
    event = NotificationEvent(
        type=type,
        object_type=object_type,
        object_id=object_id,
        title=title[:200],
        audience=dict(audience),
        exclude=sorted({e for e in exclude if e is not None}),
        data={str(k): str(v) for k, v in (data or {}).items() if v is not None},
    )
    session.add(event)
    return event


def idea_followers(idea_id: int) -> dict:
    return {"kind": "idea_followers", "idea_id": idea_id}


def report_followers(report_id: int) -> dict:
    return {"kind": "report_followers", "report_id": report_id}


def users(ids: Iterable[int | None]) -> dict:
    return {"kind": "users", "ids": sorted({i for i in ids if i is not None})}


def body_members(body_id: int, on: date) -> dict:
    return {"kind": "body_members", "body_id": body_id, "on": on.isoformat()}


def district_subscribers(district: str | None) -> dict:
    """Subscribers of one district's news; `None`: city-wide news, every subscriber."""
    return {"kind": "district_subscribers", "district": district}

