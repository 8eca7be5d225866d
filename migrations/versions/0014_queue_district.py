"""moderation queue: each entry's Stadtbezirk, for taking the queue district by district

Filled for the entries waiting now from their targets (a comment's district is its idea's).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 14:55:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('moderation_queue', schema=None) as batch_op:
        batch_op.add_column(sa.Column('district', sa.String(length=40), nullable=True))
        batch_op.create_index('ix_moderation_queue_district', ['district', 'id'], unique=False)
    op.execute("UPDATE moderation_queue SET district = (SELECT ideas.district FROM ideas WHERE ideas.id = moderation_queue.target_id)"
               " WHERE target_type = 'idea'")
    op.execute("UPDATE moderation_queue SET district = (SELECT reports.district FROM reports WHERE reports.id = moderation_queue.target_id)"
               " WHERE target_type = 'report'")
    op.execute("UPDATE moderation_queue SET district = (SELECT ideas.district FROM comments JOIN ideas ON ideas.id = comments.idea_id"
               " WHERE comments.id = moderation_queue.target_id) WHERE target_type = 'comment'")


def downgrade() -> None:
    with op.batch_alter_table('moderation_queue', schema=None) as batch_op:
        batch_op.drop_index('ix_moderation_queue_district')
        batch_op.drop_column('district')
