"""Imports every model module so that Base.metadata knows all tables (Alembic, tests)."""
from . import audit, budgets, idempotency, ideas, moderation, outbox, reference, users  # noqa: F401
