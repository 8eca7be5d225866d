"""notifications: events, devices, preferences, inbox, push deliveries

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 08:09:25.708340
"""
from alembic import op
import sqlalchemy as sa
import models.base


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Per-recipient rows written in the request gave way to one event per change, expanded
    # by the worker; nothing ever delivered the old rows.
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_messages_recipient_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_messages_delivered_at'))
    op.drop_table('outbox_messages')

    op.create_table('notification_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=50), nullable=False),
    sa.Column('object_type', sa.String(length=20), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('audience', sa.JSON(), nullable=False),
    sa.Column('exclude', sa.JSON(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claim_token', sa.String(length=32), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('sent_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('discard_after', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_events'))
    )
    with op.batch_alter_table('notification_events', schema=None) as batch_op:
        batch_op.create_index('ix_notification_events_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('notification_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('idea_updates', sa.Boolean(), nullable=False),
    sa.Column('report_updates', sa.Boolean(), nullable=False),
    sa.Column('budget', sa.Boolean(), nullable=False),
    sa.Column('district_news', sa.Boolean(), nullable=False),
    sa.Column('districts', sa.JSON(), nullable=False),
    sa.Column('quiet_start', sa.String(length=5), nullable=True),
    sa.Column('quiet_end', sa.String(length=5), nullable=True),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_preferences'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('type', sa.String(length=50), nullable=False),
    sa.Column('object_type', sa.String(length=20), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('read_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('push_failed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['notification_events.id'], name=op.f('fk_notifications_event_id_notification_events'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_event_id'), ['event_id'], unique=False)
        batch_op.create_index('ix_notifications_inbox', ['user_id', 'id'], unique=False)
        batch_op.create_index('ix_notifications_object', ['object_type', 'object_id'], unique=False)
        batch_op.create_index('ix_notifications_unread', ['user_id', 'read_at'], unique=False)

    op.create_table('devices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('auth_session_id', sa.String(length=32), nullable=True),
    sa.Column('token', sa.String(length=4096), nullable=False),
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('platform', sa.String(length=10), nullable=False),
    sa.Column('locale', sa.String(length=2), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('topics_due', sa.Boolean(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['auth_session_id'], ['auth_sessions.id'], name=op.f('fk_devices_auth_session_id_auth_sessions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_devices_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_devices')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_devices_token_digest')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_devices_auth_session_id'), ['auth_session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_devices_topics_due'), ['topics_due'], unique=False)
        batch_op.create_index('ix_devices_user', ['user_id', 'id'], unique=False)

    op.create_table('push_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('notification_id', sa.Integer(), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('topic', sa.String(length=100), nullable=True),
    sa.Column('locale', sa.String(length=2), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claim_token', sa.String(length=32), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('sent_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('discard_after', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_push_deliveries_device_id_devices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['notification_events.id'], name=op.f('fk_push_deliveries_event_id_notification_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_push_deliveries_notification_id_notifications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_deliveries'))
    )
    with op.batch_alter_table('push_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_push_deliveries_device_id'), ['device_id'], unique=False)
        batch_op.create_index('ix_push_deliveries_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_push_deliveries_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_push_deliveries_notification_id'), ['notification_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('push_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_push_deliveries_notification_id'))
        batch_op.drop_index(batch_op.f('ix_push_deliveries_event_id'))
        batch_op.drop_index('ix_push_deliveries_due')
        batch_op.drop_index(batch_op.f('ix_push_deliveries_device_id'))

    op.drop_table('push_deliveries')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_index('ix_devices_user')
        batch_op.drop_index(batch_op.f('ix_devices_topics_due'))
        batch_op.drop_index(batch_op.f('ix_devices_auth_session_id'))

    op.drop_table('devices')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_unread')
        batch_op.drop_index('ix_notifications_object')
        batch_op.drop_index('ix_notifications_inbox')
        batch_op.drop_index(batch_op.f('ix_notifications_event_id'))

    op.drop_table('notifications')
    op.drop_table('notification_preferences')
    with op.batch_alter_table('notification_events', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_events_due')

    op.drop_table('notification_events')
    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=50), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('read_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_outbox_messages_recipient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_messages_delivered_at'), ['delivered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_recipient_id'), ['recipient_id'], unique=False)
