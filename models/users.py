"""Accounts, roles, login sessions and memberships of bodies."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Date, ForeignKey, String, UniqueConstraint, bindparam, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from .base import Base, Revisioned, utcnow
from .errors import Conflict, Forbidden, Invalid
from .prepared import PreparedSelect, as_utc
from .reference import Body

ROLES = ("resident", "moderator", "staff", "admin")
EXTRA_ROLES = ("moderator", "staff", "admin")

EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 256

_hasher = PasswordHasher()
# Verifying against a throwaway hash keeps "unknown e-mail" as slow as "wrong password".
_dummy_hash: str | None = None


def configure_password_hashing(time_cost: int = 3, memory_cost: int = 65536) -> None:
    """Tests lower the Argon2 cost; production keeps the library's defaults."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=1)
    _dummy_hash = None


def normalize_email(email: str) -> str:
    return email.strip().lower()


def email_is_valid(email: str) -> bool:
    return len(email) <= 254 and EMAIL_PATTERN.match(email) is not None


class Permissions:
    """Role and block checks shared by the ORM `User` and the request's `Caller`.

    Needs `roles` (always with "resident") and `blocked_until`.
    """

    roles: list[str] | tuple[str, ...]
    blocked_until: datetime | None

    def has_role(self, role: str) -> bool:
        """Roles are additive and `admin` passes every check."""
        roles = self.roles
        return role in roles or "admin" in roles

    @property
    def is_moderator(self) -> bool:
        return self.has_role("moderator")

    @property
    def is_staff(self) -> bool:
        return self.has_role("staff")

    def is_blocked(self, now: datetime | None = None) -> bool:
        if self.blocked_until is None:
            return False
        return self.blocked_until > (now or utcnow())

    def ensure_may_contribute(self) -> None:
        """A blocked user may read but not create or change anything."""
        if self.is_blocked():
            raise Forbidden("user_blocked", until=self.blocked_until)


@dataclass(frozen=True)
class Caller(Permissions):
    """The authenticated caller of a request, read with two small queries per request.

    Authorization and viewer checks need only this; operations that change the account
    itself load the `User`.
    """

    id: int
    roles: tuple[str, ...]
    blocked_until: datetime | None
    session_id: str
    # Only asked for where REQUIRE_CONFIRMED_EMAIL is on (api.security.login_required).
    email_confirmed: bool = False


class User(Permissions, Revisioned, Base):
    __tablename__ = "users"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254))
    # Lower-cased copy: e-mail addresses compare case-insensitively on every database.
    email_key: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    blocked_until: Mapped[datetime | None]
    block_reason: Mapped[str | None] = mapped_column(String(500))
    deleted_at: Mapped[datetime | None]
    # Set when the owner followed the link mailed to the address (models.account_tokens);
    # accounts made by operators count as confirmed from the start.
    email_confirmed_at: Mapped[datetime | None]
    # Staff only: the department whose report queue is theirs (it filters, it grants nothing).
    department: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    # Bumped on every ORM update (models.base.Revisioned): caches of what others see of
    # this account (name, erased or not) key on it.
    revision: Mapped[int] = mapped_column(default=0)

    # Loaded on access: authors shown in lists need neither; the caller's own are loaded
    # eagerly with the login session (see `active_session`).
    role_rows: Mapped[list[UserRole]] = relationship(back_populates="user", cascade="all, delete-orphan")
    memberships: Mapped[list[BodyMembership]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def roles(self) -> list[str]:
        extra = {r.role for r in self.role_rows}
        return ["resident"] + [r for r in EXTRA_ROLES if r in extra]

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_rows")


class AuthSession(Base):
    """One login. Access and refresh tokens name it (`sid`); revoking it ends both, on every worker."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class BodyMembership(Base):
    """Membership of a body for an inclusive term of dates (Europe/Berlin calendar days)."""

    __tablename__ = "body_memberships"
    __table_args__ = (UniqueConstraint("body_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    term_start: Mapped[date] = mapped_column(Date)
    term_end: Mapped[date] = mapped_column(Date)

    user: Mapped[User] = relationship(back_populates="memberships")
    body: Mapped[Body] = relationship(lazy="joined")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password(user: User, password: str) -> bool:
    """Whether `password` is the account's (overlong input is wrong without being hashed)."""
    if user.password_hash is None or len(password) > PASSWORD_MAX_LENGTH:
        return False
    return _verify(user.password_hash, password)


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email_key == normalize_email(email)))


def check_display_name(display_name: str) -> None:
    """A name residents choose passes the pre-screen (operators' names on the command line
    are not screened): a hit is 422 on `display_name` with the reason."""
    from .prescreen import screen_display_name

    reasons = screen_display_name(display_name)
    if reasons:
        # Passing oneself off as the city is the reason to name, whatever else was found.
        reason = "impersonation" if "impersonation" in reasons else reasons[0]
        raise Invalid("display_name", f"display_name_{reason}")


def register(session: Session, email: str, password: str, display_name: str, *, screen_name: bool = False) -> User:
    """A new account. `screen_name` for names residents choose (registration over the API)."""
    if screen_name:
        check_display_name(display_name.strip())
    if find_by_email(session, email) is not None:
        raise Conflict("email_taken")
    user = User(
        email=email.strip(),
        email_key=normalize_email(email),
        password_hash=hash_password(password),
        display_name=display_name.strip(),
    )
    session.add(user)
    session.flush()
    return user


def rename(session: Session, user: User, display_name: str) -> User:
    """A resident renames themself: not while blocked, and the name passes the pre-screen."""
    user.ensure_may_contribute()
    check_display_name(display_name.strip())
    user.display_name = display_name.strip()
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    global _dummy_hash
    if len(password) > PASSWORD_MAX_LENGTH or len(email) > 254 or "\x00" in email:
        # No account has such a password or address (PostgreSQL cannot even compare text
        # with NUL): wrong credentials, without hashing whatever a client sends.
        return None
    user = find_by_email(session, email)
    if user is None or user.password_hash is None or user.deleted_at is not None:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash(secrets.token_hex(8))
        _verify(_dummy_hash, password)
        return None
    if not _verify(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def open_session(session: Session, user: User) -> AuthSession:
    auth_session = AuthSession(id=secrets.token_hex(16), user=user, user_id=user.id)
    session.add(auth_session)
    session.flush()
    return auth_session


def revoke_session(session: Session, session_id: str) -> None:
    auth_session = session.get(AuthSession, session_id)
    if auth_session is not None and auth_session.revoked_at is None:
        auth_session.revoked_at = utcnow()


def revoke_sessions(session: Session, user_id: int, keep: str | None = None) -> None:
    """End every login session of the account, except `keep` (the one asking, say)."""
    from .notifications import Device, detach_devices

    stmt = update(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep)
    session.execute(stmt.values(revoked_at=utcnow()), execution_options={"synchronize_session": False})
    # Phones of the ended sessions (whoever held the account) stop hearing its news too.
    others = [(Device.auth_session_id != keep) | Device.auth_session_id.is_(None)] if keep is not None else []
    detach_devices(session, Device.user_id == user_id, *others)


_CALLER = PreparedSelect(
    lambda: select(
        AuthSession.user_id,
        AuthSession.revoked_at,
        User.deleted_at,
        User.blocked_until,
        User.email_confirmed_at,
        func.aggregate_strings(UserRole.role, ","),
    )
    .join(User, User.id == AuthSession.user_id)
    .outerjoin(UserRole, UserRole.user_id == AuthSession.user_id)
    .where(AuthSession.id == bindparam("session_id"))
    .group_by(AuthSession.user_id, AuthSession.revoked_at, User.deleted_at, User.blocked_until, User.email_confirmed_at)
)


def caller_for_session(session: Session, session_id: str, user_id: str) -> Caller | None:
    """The caller behind a token's login session (one query), or None when revoked or erased."""
    found = _CALLER.rows(session, (), {"session_id": session_id})
    if not found:
        return None
    owner_id, revoked_at, deleted_at, blocked_until, confirmed_at, role_list = found[0]
    if revoked_at is not None or deleted_at is not None or str(owner_id) != user_id:
        return None
    extra = set(role_list.split(",")) if role_list else set()
    roles = ("resident", *(r for r in EXTRA_ROLES if r in extra))
    return Caller(
        id=owner_id,
        roles=roles,
        blocked_until=as_utc(blocked_until),
        session_id=session_id,
        email_confirmed=confirmed_at is not None,
    )


def grant_role(session: Session, user: User, role: str) -> None:
    if role not in ROLES:
        raise Invalid("role", "unknown_role", role=role)
    if role != "resident" and role not in {r.role for r in user.role_rows}:
        user.role_rows.append(UserRole(role=role))


def create_or_promote(session: Session, email: str, password: str, role: str, department: str | None = None) -> tuple[User, bool]:
    """The `users create` command: a new account, or one more role for an existing one.

    An existing account keeps its password: granting a role must not reset credentials.
    """
    from .reference import department_exists

    if role not in ROLES:
        raise Invalid("role", "unknown_role", role=role)
    if department is not None and not department_exists(session, department):
        raise Invalid("department", "unknown_department", department=department)
    if not email_is_valid(email.strip()):
        raise Invalid("email", "invalid_email")
    user = find_by_email(session, email)
    created = user is None
    if created:
        if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
            raise Invalid("password", "password_length", min=PASSWORD_MIN_LENGTH, max=PASSWORD_MAX_LENGTH)
        user = register(session, email, password, display_name=email.split("@")[0][:50])
        # An operator vouches for the address; nobody would receive a link for it.
        user.email_confirmed_at = utcnow()
    grant_role(session, user, role)
    if department is not None:
        user.department = department
    session.flush()
    return user, created
