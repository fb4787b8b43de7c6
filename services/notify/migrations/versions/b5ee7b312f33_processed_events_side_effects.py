"""processed events, side effects

The consumer's table of applied event ids is renamed from inbox to processed_events (notify's inbox is the
members' one); side_effects holds work for the dispatcher; purges by age get their indexes.

Revision ID: b5ee7b312f33
Revises: d73336482b7a
Create Date: 2026-11-28 15:40:00
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = 'b5ee7b312f33'
down_revision = 'd73336482b7a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.rename_table('inbox', 'processed_events')
    with op.batch_alter_table('processed_events', schema=None) as batch_op:
        batch_op.create_index('ix_processed_events_handled', ['handled_at'], unique=False)
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index('ix_idempotency_keys_created', ['created_at'], unique=False)
    op.create_table('side_effects',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('created_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', shared.db.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('side_effects', schema=None) as batch_op:
        batch_op.create_index('ix_side_effects_due', ['status', 'due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('side_effects', schema=None) as batch_op:
        batch_op.drop_index('ix_side_effects_due')
    op.drop_table('side_effects')
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_idempotency_keys_created')
    with op.batch_alter_table('processed_events', schema=None) as batch_op:
        batch_op.drop_index('ix_processed_events_handled')
    op.rename_table('processed_events', 'inbox')
