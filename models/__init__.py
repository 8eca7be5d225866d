"""SQLAlchemy models and the domain operations on them (no Flask in here)."""
from .base import Base, utcnow  # noqa: F401
from .idempotency import IdempotencyRecord  # noqa: F401
from .reference import Body, Category, District  # noqa: F401
from .users import AuthSession, BodyMembership, User, UserRole  # noqa: F401
