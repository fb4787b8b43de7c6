"""sessions: free seats per format as booking last reported them (availability.changed)

Revision ID: d9b3f5a7c204
Revises: c4e7a2b9d815
Create Date: 2026-11-29 01:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = 'd9b3f5a7c204'
down_revision = 'c4e7a2b9d815'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch rebuild): rebuilding sessions on SQLite would delete it under its bookings' keys.
    op.add_column('sessions', sa.Column('free_online', sa.Integer(), nullable=True))
    op.add_column('sessions', sa.Column('free_in_person', sa.Integer(), nullable=True))
    op.add_column('sessions', sa.Column('availability_at', shared.db.UtcDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column('sessions', 'availability_at')
    op.drop_column('sessions', 'free_in_person')
    op.drop_column('sessions', 'free_online')
