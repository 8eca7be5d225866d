"""Columns of an outbox that a worker delivers from after commit (see notifications.worker).

A row is `pending` until a worker has sent it (`sent`) or given up on it (`failed`). A
worker claims rows before sending them: `claim_token` names the claim and `claimed_until`
ends it, so rows of a worker that died become claimable again instead of being lost, and
two workers never hold the same row at once.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import utcnow

PENDING, SENT, FAILED = "pending", "sent", "failed"


class Deliverable:
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    # Counted when a row is claimed, not when a send fails: a message that crashes the
    # worker every time still reaches the limit and is given up.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None]
    # Past this a message is worthless (a link that has expired): given up, not sent.
    discard_after: Mapped[datetime | None]
