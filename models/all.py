"""Imports every model module so that Base.metadata knows all tables (Alembic, tests)."""
from . import idempotency, reference, users  # noqa: F401
