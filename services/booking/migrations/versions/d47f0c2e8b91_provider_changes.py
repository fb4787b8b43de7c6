"""provider changes: cancelled sessions, free cancellation after a move

Revision ID: d47f0c2e8b91
Revises: c93e1b7a4d20
Create Date: 2026-11-28 17:20:00
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = 'd47f0c2e8b91'
down_revision = 'c93e1b7a4d20'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('sessions', sa.Column('cancelled_at', shared.db.UtcDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('free_cancellation_until', shared.db.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('free_cancellation_until')
    op.execute("ALTER TABLE sessions DROP COLUMN cancelled_at")
