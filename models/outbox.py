"""Outbox: notifications recorded in the same transaction as the change that causes them.

A worker delivers them after commit (push through the configured gateway, in-app inbox),
never inside a request.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, utcnow


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # e.g. idea_status_changed, idea_response, idea_comment, moderation_decision, voting_opened ...
    type: Mapped[str] = mapped_column(String(50))
    # Push payloads carry no names and no user-written text beyond the object's title.
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    read_at: Mapped[datetime | None]


def notify(
    session: Session,
    recipient_ids: Iterable[int],
    type: str,  # noqa: A002 - the message's type, as the inbox shows it
    title: str,
    body: str,
    data: dict | None = None,
    exclude: Iterable[int] = (),
) -> int:
    """Queue one message per distinct recipient (the actor is usually excluded)."""
    skip = set(exclude)
    recipients = sorted({r for r in recipient_ids if r is not None and r not in skip})
    session.add_all(
        OutboxMessage(recipient_id=r, type=type, title=title[:200], body=body, data=dict(data or {}))
        for r in recipients
    )
    return len(recipients)
