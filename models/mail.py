"""E-mail outbox: mails are rows written in the same transaction as the change that causes them.

`flask notifications drain` sends them after commit (notifications.worker); a request never
talks to a mail server. Subject and text are rendered when the mail is queued, in the
language of whoever caused it, so the worker needs no request and no translations.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, utcnow
from .delivery import Deliverable


class MailMessage(Deliverable, Base):
    __tablename__ = "mail_messages"
    __table_args__ = (Index("ix_mail_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Erasing an account drops its unsent mail with it.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # password_reset, email_confirmation, password_changed ...
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    # Emptied once the mail is sent or given up: it may carry a single-use link, and the
    # database should not keep a readable copy of what only the recipient should hold.
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def queue_mail(
    session: Session,
    to_address: str,
    subject: str,
    text: str,
    kind: str,
    user_id: int | None = None,
    discard_after: datetime | None = None,
) -> MailMessage:
    mail = MailMessage(
        user_id=user_id,
        kind=kind,
        to_address=to_address,
        subject=subject[:200],
        text=text,
        discard_after=discard_after,
    )
    session.add(mail)
    return mail
