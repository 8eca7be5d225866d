"""Single-use links mailed to an account: password reset and e-mail confirmation.

Only a SHA-256 digest of each token is stored: a copy of the database does not let anyone
reset a password. The token is random (32 bytes), so an unsalted digest is enough, and it
can be looked up by its digest.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import users
from .account_mails import render
from .base import Base, utcnow
from .errors import Invalid
from .mail import queue_mail
from .users import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, User

PASSWORD_RESET = "password_reset"
EMAIL_CONFIRMATION = "email_confirmation"
VALID_FOR = {PASSWORD_RESET: timedelta(hours=1), EMAIL_CONFIRMATION: timedelta(days=7)}
# Longer strings are no token of ours; refused before hashing or querying.
MAX_TOKEN_LENGTH = 200


class AccountToken(Base):
    __tablename__ = "account_tokens"
    __table_args__ = (Index("ix_account_tokens_user_purpose", "user_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


@dataclass(frozen=True)
class MailContext:
    """What a mail needs from the request that causes it: its language and where links point."""

    lang: str
    base_url: str

    def link(self, page: str, token: str | None = None) -> str:
        base = self.base_url.rstrip("/")
        return f"{base}/{page}" if token is None else f"{base}/{page}?token={token}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: Session, user: User, purpose: str) -> tuple[str, datetime]:
    """A new token for the account (returned in clear once, stored as digest) and its expiry."""
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + VALID_FOR[purpose]
    session.add(AccountToken(user_id=user.id, purpose=purpose, token_hash=_digest(token), expires_at=expires_at))
    return token, expires_at


def redeem(session: Session, purpose: str, token: str) -> User:
    """The account a valid token belongs to; the token is used up. Otherwise 422 on `token`.

    Used, expired, unknown and foreign tokens are one answer: nothing to learn from it.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH or "\x00" in token:
        raise Invalid("token", "token_unusable")
    now = utcnow()
    # The update is the check: of two requests with the same token, exactly one changes the
    # row (PostgreSQL re-checks `used_at` after waiting for the other's row lock).
    found = session.execute(
        update(AccountToken)
        .where(
            AccountToken.token_hash == _digest(token),
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(AccountToken.user_id),
        execution_options={"synchronize_session": False},
    ).first()
    user = session.get(User, found[0]) if found is not None else None
    if user is None or user.deleted_at is not None or user.email is None:
        raise Invalid("token", "token_unusable")
    return user


def void(session: Session, user_id: int, purpose: str) -> None:
    """Outstanding tokens of the account stop working (a password change voids reset links)."""
    session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user_id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None))
        .values(used_at=utcnow()),
        execution_options={"synchronize_session": False},
    )


def _mail(session: Session, user: User, kind: str, context: MailContext, link: str, discard_after=None) -> None:
    subject, text = render(kind, context.lang, name=user.display_name, link=link)
    queue_mail(session, user.email, subject, text, kind, user_id=user.id, discard_after=discard_after)


def _set_password(session: Session, user: User, password: str, field: str) -> None:
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        raise Invalid(field, "password_length", min=PASSWORD_MIN_LENGTH, max=PASSWORD_MAX_LENGTH)
    user.password_hash = users.hash_password(password)
    void(session, user.id, PASSWORD_RESET)


# --- operations -------------------------------------------------------------------------------


def request_password_reset(session: Session, email: str, context: MailContext) -> None:
    """Mail a reset link if the address belongs to an account; silently nothing otherwise."""
    if len(email) > 254 or "\x00" in email:
        return
    user = users.find_by_email(session, email)
    if user is None or user.deleted_at is not None or user.email is None:
        return
    token, expires_at = issue(session, user, PASSWORD_RESET)
    _mail(session, user, PASSWORD_RESET, context, context.link("reset-password", token), discard_after=expires_at)
    session.flush()


def reset_password(session: Session, token: str, password: str, context: MailContext) -> User:
    """Set a new password with a reset token; every login session of the account ends."""
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        # Checked before the token is used up: a too short password does not cost the link.
        raise Invalid("password", "password_length", min=PASSWORD_MIN_LENGTH, max=PASSWORD_MAX_LENGTH)
    user = redeem(session, PASSWORD_RESET, token)
    _set_password(session, user, password, "password")
    users.revoke_sessions(session, user.id)
    _mail(session, user, "password_changed", context, context.link("reset-password"))
    session.flush()
    return user


def change_password(
    session: Session, user: User, old_password: str, new_password: str, keep_session: str, context: MailContext
) -> None:
    """The owner changes the password: other login sessions end, the asking one stays."""
    if not users.check_password(user, old_password):
        raise Invalid("old_password", "wrong_password")
    _set_password(session, user, new_password, "new_password")
    users.revoke_sessions(session, user.id, keep=keep_session)
    _mail(session, user, "password_changed", context, context.link("reset-password"))
    session.flush()


def send_email_confirmation(session: Session, user: User, context: MailContext) -> bool:
    """Mail a confirmation link; False (and nothing mailed) when the address is confirmed already."""
    if user.email_confirmed_at is not None or user.email is None:
        return False
    token, expires_at = issue(session, user, EMAIL_CONFIRMATION)
    _mail(session, user, EMAIL_CONFIRMATION, context, context.link("confirm-email", token), discard_after=expires_at)
    session.flush()
    return True


def confirm_email(session: Session, token: str) -> User:
    user = redeem(session, EMAIL_CONFIRMATION, token)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    void(session, user.id, EMAIL_CONFIRMATION)
    session.flush()
    return user


def outstanding(session: Session, user_id: int, purpose: str) -> list[AccountToken]:
    """Tokens of the account that would still work (for tests and support)."""
    return list(
        session.scalars(
            select(AccountToken).where(
                AccountToken.user_id == user_id,
                AccountToken.purpose == purpose,
                AccountToken.used_at.is_(None),
                AccountToken.expires_at > utcnow(),
            )
        )
    )
