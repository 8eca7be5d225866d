"""ideas: an index by status for the staff console's list of ideas awaiting an answer

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 15:20:00
"""
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ideas', schema=None) as batch_op:
        batch_op.create_index('ix_ideas_public_status', ['is_public', 'status', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ideas', schema=None) as batch_op:
        batch_op.drop_index('ix_ideas_public_status')
