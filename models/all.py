"""Imports every model module so that Base.metadata knows all tables (Alembic, tests)."""
from . import account_tokens, audit, budgets, idempotency, ideas, mail, moderation, news, notifications, open311, outbox, reference, reports, two_factor, users  # noqa: F401
