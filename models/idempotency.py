"""Stored answers of creating requests, so a retried request never creates a duplicate."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, utcnow

KEEP_FOR = timedelta(hours=24)
# A request that holds its key longer than this died without committing anything
# (the answer is stored in the same transaction as the change), so its key may be reused.
ABANDONED_AFTER = timedelta(minutes=5)


class IdempotencyRecord(Base):
    """One client's answer to one `Idempotency-Key`.

    Keys are the client's own, so they are scoped by who sent them: `owner` is `user:<id>` for
    an account, `open311:<id>` for an Open311 key. The account's records go with the account.
    """

    __tablename__ = "idempotency_records"

    owner: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    completed_at: Mapped[datetime | None]
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    response_headers: Mapped[dict | None] = mapped_column(JSON)

    def is_expired(self, now: datetime) -> bool:
        return now - self.created_at > KEEP_FOR

    def is_abandoned(self, now: datetime) -> bool:
        return self.completed_at is None and now - self.created_at > ABANDONED_AFTER


def user_owner(user_id: int) -> str:
    return f"user:{user_id}"


def open311_owner(key_id: int) -> str:
    return f"open311:{key_id}"


def purge_expired(session: Session) -> int:
    result = session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - KEEP_FOR)
    )
    return result.rowcount or 0
