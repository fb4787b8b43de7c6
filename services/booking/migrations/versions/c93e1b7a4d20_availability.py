"""availability: when a session's seats changed since its last announcement

Revision ID: c93e1b7a4d20
Revises: b8d4e6f21a57
Create Date: 2026-11-28 17:10:00
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = 'c93e1b7a4d20'
down_revision = 'b8d4e6f21a57'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('sessions', sa.Column('availability_changed_at', shared.db.UtcDateTime(timezone=True),
                                        nullable=True))
    op.create_index('ix_sessions_availability_changed_at', 'sessions', ['availability_changed_at'], unique=False)
    # Every session announces its seats once, so consumers start from the state as it is.
    op.execute("UPDATE sessions SET availability_changed_at = starts_at")


def downgrade() -> None:
    op.drop_index('ix_sessions_availability_changed_at', table_name='sessions')
    op.execute("ALTER TABLE sessions DROP COLUMN availability_changed_at")
