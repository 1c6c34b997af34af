"""messaging

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('app_settings',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_app_settings'))
    )
    op.create_table('audience_members',
    sa.Column('owner', sa.String(length=120), nullable=False),
    sa.Column('profile_id', sa.String(length=40), nullable=False),
    sa.Column('record', sa.String(length=200), nullable=True),
    sa.Column('grp', sa.String(length=10), nullable=False),
    sa.Column('assigned_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('owner', 'profile_id', name=op.f('pk_audience_members'))
    )
    op.create_table('campaigns',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('segment', sa.String(length=100), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('audience', sa.Integer(), nullable=True),
    sa.Column('holdout', sa.Integer(), nullable=True),
    sa.Column('queued', sa.Integer(), nullable=True),
    sa.Column('suppressed', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('launched_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_campaigns'))
    )
    op.create_table('clicks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
              nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('link', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.Text(), nullable=True),
    sa.Column('bot', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clicks'))
    )
    with op.batch_alter_table('clicks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clicks_message_id'), ['message_id'], unique=False)

    op.create_table('consents',
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('source', sa.String(length=30), nullable=False),
    sa.Column('proof', sa.Text(), server_default='{}', nullable=False),
    sa.Column('profile_id', sa.String(length=40), nullable=True),
    sa.Column('record', sa.String(length=200), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'address', 'purpose', name=op.f('pk_consents'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_profile_id'), ['profile_id'], unique=False)

    op.create_table('coupon_pools',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('prefix', sa.String(length=8), server_default='', nullable=False),
    sa.Column('length', sa.Integer(), server_default='8', nullable=False),
    sa.Column('offer', sa.Text(), server_default='', nullable=False),
    sa.Column('valid_days', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_coupon_pools'))
    )
    op.create_table('coupons',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('pool', sa.String(length=100), nullable=False),
    sa.Column('campaign', sa.String(length=100), nullable=True),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('profile_id', sa.String(length=40), nullable=True),
    sa.Column('record', sa.String(length=200), nullable=True),
    sa.Column('issued_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('redeemed_at', sa.DateTime(), nullable=True),
    sa.Column('redeemed_order', sa.String(length=120), nullable=True),
    sa.Column('redeemed_store', sa.String(length=60), nullable=True),
    sa.Column('redeemed_channel', sa.String(length=30), nullable=True),
    sa.Column('redeemed_source', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_coupons'))
    )
    with op.batch_alter_table('coupons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupons_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coupons_pool'), ['pool'], unique=False)

    op.create_table('locks',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('n', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_locks'))
    )
    op.create_table('messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
              nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('campaign', sa.String(length=100), nullable=True),
    sa.Column('journey', sa.String(length=100), nullable=True),
    sa.Column('step', sa.String(length=100), nullable=True),
    sa.Column('variant', sa.String(length=40), nullable=True),
    sa.Column('template', sa.String(length=100), nullable=True),
    sa.Column('template_version', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('provider', sa.String(length=60), nullable=True),
    sa.Column('profile_id', sa.String(length=40), nullable=False),
    sa.Column('record', sa.String(length=200), nullable=True),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('context', sa.Text(), server_default='{}', nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('quiet_policy', sa.String(length=10), server_default='wait', nullable=False),
    sa.Column('fallback', sa.Text(), nullable=True),
    sa.Column('fallback_of', sa.BigInteger(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('claimed_by', sa.String(length=60), nullable=True),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('provider_id', sa.String(length=120), nullable=True),
    sa.Column('cost', sa.BigInteger(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('subject', sa.Text(), nullable=True),
    sa.Column('links', sa.Text(), nullable=True),
    sa.Column('coupon', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('key', name=op.f('uq_messages_key'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_address_due', ['address', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_campaign'), ['campaign'], unique=False)
        batch_op.create_index('ix_messages_journey', ['journey'], unique=False,
                              sqlite_where=sa.text('journey IS NOT NULL'),
                              postgresql_where=sa.text('journey IS NOT NULL'))
        batch_op.create_index('ix_messages_profile_due', ['profile_id', 'due_at'], unique=False)
        batch_op.create_index('ix_messages_provider_id', ['provider_id'], unique=False,
                              sqlite_where=sa.text('provider_id IS NOT NULL'),
                              postgresql_where=sa.text('provider_id IS NOT NULL'))
        batch_op.create_index('ix_messages_status_due', ['status', 'due_at'], unique=False)

    op.create_table('pending_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
              nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('event', sa.String(length=60), nullable=False),
    sa.Column('user_id', sa.String(length=200), nullable=True),
    sa.Column('anonymous_id', sa.String(length=200), nullable=True),
    sa.Column('timestamp', sa.DateTime(), nullable=False),
    sa.Column('properties', sa.Text(), nullable=False),
    sa.Column('context', sa.Text(), nullable=True),
    sa.Column('relayed_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_events')),
    sa.UniqueConstraint('message_id', name=op.f('uq_pending_events_message_id'))
    )
    with op.batch_alter_table('pending_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_events_relayed_at'), ['relayed_at'],
                              unique=False)

    op.create_table('privacy_requests',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('profile_id', sa.String(length=40), nullable=False),
    sa.Column('records', sa.Text(), server_default='[]', nullable=False),
    sa.Column('summary', sa.Text(), server_default='{}', nullable=False),
    sa.Column('requested_by', sa.String(length=120), nullable=True),
    sa.Column('done_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_requests'))
    )
    op.create_table('provider_tokens',
    sa.Column('provider', sa.String(length=60), nullable=False),
    sa.Column('access_token', sa.Text(), nullable=False),
    sa.Column('refresh_token', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('provider', name=op.f('pk_provider_tokens'))
    )
    op.create_table('providers',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('config', sa.Text(), server_default='{}', nullable=False),
    sa.Column('secrets', sa.Text(), server_default='', nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('priority', sa.Integer(), server_default='100', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_providers'))
    )
    op.create_table('push_subscriptions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('endpoint_hash', sa.String(length=64), nullable=False),
    sa.Column('endpoint', sa.Text(), nullable=False),
    sa.Column('p256dh', sa.String(length=200), nullable=False),
    sa.Column('auth', sa.String(length=100), nullable=False),
    sa.Column('record', sa.String(length=200), nullable=True),
    sa.Column('source', sa.String(length=100), nullable=True),
    sa.Column('user_agent', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('removed_at', sa.DateTime(), nullable=True),
    sa.Column('removed_reason', sa.String(length=60), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_subscriptions')),
    sa.UniqueConstraint('endpoint_hash', name=op.f('uq_push_subscriptions_endpoint_hash'))
    )
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_push_subscriptions_record'), ['record'], unique=False)

    op.create_table('templates',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.Text(), nullable=True),
    sa.Column('body', sa.Text(), server_default='', nullable=False),
    sa.Column('html', sa.Text(), nullable=True),
    sa.Column('data', sa.Text(), server_default='{}', nullable=False),
    sa.Column('strip_diacritics', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('archived', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_templates'))
    )
    op.create_table('unreachable',
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('reason', sa.String(length=60), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'address', name=op.f('pk_unreachable'))
    )


def downgrade() -> None:
    op.drop_table('unreachable')
    op.drop_table('templates')
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_push_subscriptions_record'))

    op.drop_table('push_subscriptions')
    op.drop_table('providers')
    op.drop_table('provider_tokens')
    op.drop_table('privacy_requests')
    with op.batch_alter_table('pending_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_events_relayed_at'))

    op.drop_table('pending_events')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_status_due')
        batch_op.drop_index('ix_messages_provider_id')
        batch_op.drop_index('ix_messages_profile_due')
        batch_op.drop_index('ix_messages_journey')
        batch_op.drop_index(batch_op.f('ix_messages_campaign'))
        batch_op.drop_index('ix_messages_address_due')

    op.drop_table('messages')
    op.drop_table('locks')
    with op.batch_alter_table('coupons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coupons_pool'))
        batch_op.drop_index(batch_op.f('ix_coupons_message_id'))

    op.drop_table('coupons')
    op.drop_table('coupon_pools')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consents_profile_id'))

    op.drop_table('consents')
    with op.batch_alter_table('clicks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clicks_message_id'))

    op.drop_table('clicks')
    op.drop_table('campaigns')
    op.drop_table('audience_members')
    op.drop_table('app_settings')
