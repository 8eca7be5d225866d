"""Two-factor login for the staff console: TOTP (RFC 6238, through pyotp) and recovery codes.

A secret is stored when enrolment starts and counts only once a code from the phone has
confirmed it. Recovery codes are shown once and kept hashed; each works once. A code is
accepted once per 30-second step: the last step used is remembered, so a code read over a
shoulder cannot be replayed within its window.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, utcnow

ISSUER = "Dortmund Beteiligung"
RECOVERY_CODES = 10


class TwoFactor(Base):
    __tablename__ = "two_factor"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    confirmed_at: Mapped[datetime | None]
    # The last 30-second step whose code was accepted (replays within it are refused).
    last_step: Mapped[int | None] = mapped_column(Integer)
    recovery_hashes: Mapped[list | None] = mapped_column(JSON)

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None


def _hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").strip().lower().encode()).hexdigest()


def enrolment(session: Session, user_id: int) -> TwoFactor:
    """The user's pending enrolment (a new secret unless one is pending already)."""
    row = session.get(TwoFactor, user_id)
    if row is None:
        row = TwoFactor(user_id=user_id, secret=pyotp.random_base32())
        session.add(row)
        session.flush()
    return row


def provisioning_uri(row: TwoFactor, account_name: str) -> str:
    return pyotp.TOTP(row.secret).provisioning_uri(name=account_name, issuer_name=ISSUER)


def _accept_code(row: TwoFactor, code: str, now: datetime | None = None) -> bool:
    code = (code or "").replace(" ", "").strip()
    if not (len(code) == 6 and code.isdigit()):
        return False
    totp = pyotp.TOTP(row.secret)
    moment = (now or utcnow()).timestamp()
    for offset in (0, -1, 1):  # the phone's clock may be a step off
        step = int(moment // totp.interval) + offset
        if hmac.compare_digest(totp.at(step * totp.interval), code):
            if row.last_step is not None and step <= row.last_step:
                return False
            row.last_step = step
            return True
    return False


def confirm_enrolment(session: Session, row: TwoFactor, code: str) -> list[str] | None:
    """Activate with a first code; returns the recovery codes (shown once), or None for a wrong code."""
    if row.is_active or not _accept_code(row, code):
        return None
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    row.recovery_hashes = [_hash(c) for c in codes]
    row.confirmed_at = utcnow()
    return codes


def verify(session: Session, user_id: int, code: str) -> bool:
    """A login's second step: a current code, or one unused recovery code (then spent)."""
    row = session.get(TwoFactor, user_id, with_for_update=True)
    if row is None or not row.is_active:
        return False
    if _accept_code(row, code):
        return True
    digest = _hash(code or "")
    remaining = list(row.recovery_hashes or [])
    for stored in remaining:
        if hmac.compare_digest(stored, digest):
            remaining.remove(stored)
            row.recovery_hashes = remaining
            return True
    return False


def is_enrolled(session: Session, user_id: int) -> bool:
    row = session.get(TwoFactor, user_id)
    return row is not None and row.is_active
