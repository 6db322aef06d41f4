"""ingest

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 18:05:06.262631
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tidings.storage.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('dead_letters',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('message_type', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('location', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('payload_bytes', sa.Integer(), nullable=False),
    sa.Column('truncated', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('context', sa.Text(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', tidings.storage.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', tidings.storage.types.UTCDateTime(), nullable=False),
    sa.Column('replayed_at', tidings.storage.types.UTCDateTime(), nullable=True),
    sa.Column('replayed_event_id', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dead_letters')),
    sa.UniqueConstraint('source', 'dedupe_key', name=op.f('uq_dead_letters_source_dedupe_key'))
    )
    with op.batch_alter_table('dead_letters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dead_letters_reason'), ['reason'], unique=False)
        batch_op.create_index(batch_op.f('ix_dead_letters_tenant_status_created_at'), ['tenant', 'status', 'created_at'], unique=False)

    op.create_table('source_status',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('tenant', sa.String(length=64), nullable=True),
    sa.Column('runs', sa.Integer(), server_default='0', nullable=False),
    sa.Column('accepted', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('duplicates', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('dead_lettered', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('last_run_at', tidings.storage.types.UTCDateTime(), nullable=True),
    sa.Column('last_ok_at', tidings.storage.types.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_at', tidings.storage.types.UTCDateTime(), nullable=True),
    sa.Column('next_run_at', tidings.storage.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_source_status'))
    )



def downgrade() -> None:

    op.drop_table('source_status')
    with op.batch_alter_table('dead_letters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dead_letters_tenant_status_created_at'))
        batch_op.drop_index(batch_op.f('ix_dead_letters_reason'))

    op.drop_table('dead_letters')

