"""Imports every model module so that Base.metadata knows all tables (Alembic, tests)."""
from . import account_tokens, audit, budgets, idempotency, ideas, mail, moderation, news, notifications, outbox, reference, users  # noqa: F401
