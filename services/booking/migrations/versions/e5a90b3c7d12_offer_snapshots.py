"""offer snapshots: co-providers, the offer's cancellation policy, withdrawal; members' organisations

Revision ID: e5a90b3c7d12
Revises: d47f0c2e8b91
Create Date: 2026-11-28 19:40:00
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = 'e5a90b3c7d12'
down_revision = 'd47f0c2e8b91'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('offers', sa.Column('provider_ids', sa.JSON(), nullable=True))
    op.add_column('offers', sa.Column('cancellation_policy', sa.JSON(), nullable=True))
    op.add_column('offers', sa.Column('withdrawn_at', shared.db.UtcDateTime(timezone=True), nullable=True))
    op.add_column('members', sa.Column('organisation', sa.String(length=200), nullable=True))
    op.add_column('members', sa.Column('updated_at', shared.db.UtcDateTime(timezone=True), nullable=True))
    op.add_column('members', sa.Column('deleted_at', shared.db.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Native DROP COLUMN: a batch rebuild of a table others reference breaks their foreign keys on SQLite.
    op.execute("ALTER TABLE members DROP COLUMN deleted_at")
    op.execute("ALTER TABLE members DROP COLUMN updated_at")
    op.execute("ALTER TABLE members DROP COLUMN organisation")
    op.execute("ALTER TABLE offers DROP COLUMN withdrawn_at")
    op.execute("ALTER TABLE offers DROP COLUMN cancellation_policy")
    op.execute("ALTER TABLE offers DROP COLUMN provider_ids")
