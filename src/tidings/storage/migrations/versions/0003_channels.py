"""channels: operator objects, provider status tables, rate-limit buckets

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tidings.storage.types

revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('channel_configs',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('code', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('updated_at', tidings.storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_channel_configs')),
    sa.UniqueConstraint('code', name=op.f('uq_channel_configs_code'))
    )
    op.create_table('channel_providers',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('service_url', sa.String(length=500), nullable=True),
    sa.Column('user', sa.String(length=200), nullable=True),
    sa.Column('secret_env', sa.String(length=128), nullable=True),
    sa.Column('from_address', sa.String(length=400), nullable=True),
    sa.Column('bulk_size', sa.Integer(), nullable=False),
    sa.Column('interval_min', sa.String(length=8), nullable=False),
    sa.Column('interval_max', sa.String(length=8), nullable=False),
    sa.Column('retry_max_attempts', sa.Integer(), nullable=False),
    sa.Column('retry_interval_seconds', sa.Float(), nullable=False),
    sa.Column('retry_max_interval_seconds', sa.Float(), nullable=False),
    sa.Column('max_age_seconds', sa.Float(), nullable=False),
    sa.Column('rate_per_second', sa.Float(), nullable=True),
    sa.Column('open_tracking', sa.Boolean(), nullable=False),
    sa.Column('click_tracking', sa.Boolean(), nullable=False),
    sa.Column('settings', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('updated_at', tidings.storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_channel_providers'))
    )
    op.create_table('communication_channels',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('providers', sa.Text(), nullable=False),
    sa.Column('default_action', sa.String(length=32), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=True),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('updated_at', tidings.storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_communication_channels'))
    )
    op.create_table('provider_statuses',
    sa.Column('provider', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('updated_at', tidings.storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('provider', 'code', name=op.f('pk_provider_statuses'))
    )
    op.create_table('channel_catalog',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('synced_at', tidings.storage.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_catalog'))
    )
    op.create_table('rate_buckets',
    sa.Column('provider', sa.String(length=64), nullable=False),
    sa.Column('tokens', sa.Float(), nullable=False),
    sa.Column('refilled_at', tidings.storage.types.UTCDateTime(), nullable=False),
    sa.Column('blocked_until', tidings.storage.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('provider', name=op.f('pk_rate_buckets'))
    )


def downgrade() -> None:
    for table in ('rate_buckets', 'channel_catalog', 'provider_statuses',
                  'communication_channels', 'channel_providers', 'channel_configs'):
        op.drop_table(table)
