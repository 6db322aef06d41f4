"""feedback: suppression list, best status per message, receipts, cursors; Message-ID index

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tidings.storage.types

revision = '0004'
down_revision = '0001'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('suppressions',
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), server_default='', nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('message_id', _ID, nullable=True),
    sa.Column('created_at', tidings.storage.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', tidings.storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('tenant', 'address', name=op.f('pk_suppressions'))
    )
    op.create_index(op.f('ix_suppressions_tenant_created_at'), 'suppressions', ['tenant', 'created_at'], unique=False)
    op.create_table('message_feedback',
    sa.Column('message_id', _ID, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('status_rank', sa.Integer(), server_default='0', nullable=False),
    sa.Column('status_at', tidings.storage.types.UTCDateTime(), nullable=True),
    sa.Column('status_code', sa.String(length=64), nullable=True),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('human_opens', sa.Integer(), server_default='0', nullable=False),
    sa.Column('machine_opens', sa.Integer(), server_default='0', nullable=False),
    sa.Column('human_clicks', sa.Integer(), server_default='0', nullable=False),
    sa.Column('machine_clicks', sa.Integer(), server_default='0', nullable=False),
    sa.Column('first_open_at', tidings.storage.types.UTCDateTime(), nullable=True),
    sa.Column('first_click_at', tidings.storage.types.UTCDateTime(), nullable=True),
    sa.Column('updated_at', tidings.storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_message_feedback_message_id_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_message_feedback'))
    )
    op.create_table('feedback_receipts',
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('received_at', tidings.storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('source', 'key', name=op.f('pk_feedback_receipts'))
    )
    op.create_index(op.f('ix_feedback_receipts_received_at'), 'feedback_receipts', ['received_at'], unique=False)
    op.create_table('feedback_cursors',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('last_id', _ID, nullable=False),
    sa.Column('updated_at', tidings.storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_feedback_cursors'))
    )
    op.create_index(op.f('ix_messages_message_id_header'), 'messages', ['message_id_header'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_messages_message_id_header'), table_name='messages')
    op.drop_table('feedback_cursors')
    op.drop_index(op.f('ix_feedback_receipts_received_at'), table_name='feedback_receipts')
    op.drop_table('feedback_receipts')
    op.drop_table('message_feedback')
    op.drop_index(op.f('ix_suppressions_tenant_created_at'), table_name='suppressions')
    op.drop_table('suppressions')
