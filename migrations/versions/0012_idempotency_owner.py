"""idempotency records scoped by owner (an account or an Open311 key), not only by user

Idempotency-Key answers are kept 24 hours per client; Open311 systems are clients without an
account. The table is rebuilt with `owner` ("user:<id>" | "open311:<id>") in its primary key;
the answers kept so far move over, so a retry that spans the upgrade is still answered once.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 14:40:00
"""
import sqlalchemy as sa
from alembic import op

import models.base

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

COLUMNS = ["key", "request_fingerprint", "created_at", "completed_at", "response_status", "response_body", "response_headers"]


def _create(with_owner: bool) -> None:
    key_columns = [sa.Column('owner', sa.String(length=40), nullable=False)] if with_owner else []
    op.create_table('idempotency_records',
    *key_columns,
    sa.Column('user_id', sa.Integer(), nullable=with_owner),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('response_headers', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_records_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('owner' if with_owner else 'user_id', 'key', name=op.f('pk_idempotency_records'))
    )
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_records_created_at'), ['created_at'], unique=False)
        if with_owner:
            batch_op.create_index(batch_op.f('ix_idempotency_records_user_id'), ['user_id'], unique=False)


def _table(with_owner: bool):
    names = (["owner"] if with_owner else []) + ["user_id"] + COLUMNS
    types = {"created_at": models.base.UTCDateTime(timezone=True), "completed_at": models.base.UTCDateTime(timezone=True),
             "response_headers": sa.JSON()}
    return sa.table('idempotency_records', *(sa.column(n, types.get(n)) for n in names))


def upgrade() -> None:
    kept = op.get_bind().execute(sa.select(_table(False))).mappings().all()
    op.drop_table('idempotency_records')
    _create(with_owner=True)
    if kept:
        op.bulk_insert(_table(True), [dict(row, owner=f"user:{row['user_id']}") for row in kept])


def downgrade() -> None:
    kept = [row for row in op.get_bind().execute(sa.select(_table(True))).mappings().all() if row["user_id"] is not None]
    op.drop_table('idempotency_records')
    _create(with_owner=False)
    if kept:
        op.bulk_insert(_table(False), [{k: v for k, v in row.items() if k != "owner"} for row in kept])
