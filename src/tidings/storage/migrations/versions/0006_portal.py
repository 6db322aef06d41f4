"""portal: users and sessions

Revision ID: 0006
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tidings.storage.types

revision = '0006'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('portal_users',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('login', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('party', sa.String(length=128), nullable=True),
    sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False),
    sa.Column('locked_until', tidings.storage.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', tidings.storage.types.UTCDateTime(), nullable=False),
    sa.Column('last_login_at', tidings.storage.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_users')),
    sa.UniqueConstraint('login', name=op.f('uq_portal_users_login'))
    )
    op.create_index(op.f('ix_portal_users_tenant_role'), 'portal_users', ['tenant', 'role'], unique=False)
    op.create_table('portal_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', tidings.storage.types.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', tidings.storage.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', tidings.storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['portal_users.id'], name=op.f('fk_portal_sessions_user_id_portal_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_portal_sessions'))
    )
    op.create_index(op.f('ix_portal_sessions_expires_at'), 'portal_sessions', ['expires_at'], unique=False)
    op.create_index(op.f('ix_portal_sessions_user_id'), 'portal_sessions', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_portal_sessions_user_id'), table_name='portal_sessions')
    op.drop_index(op.f('ix_portal_sessions_expires_at'), table_name='portal_sessions')
    op.drop_table('portal_sessions')
    op.drop_index(op.f('ix_portal_users_tenant_role'), table_name='portal_users')
    op.drop_table('portal_users')
