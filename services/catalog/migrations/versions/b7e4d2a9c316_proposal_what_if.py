"""proposals: billing's what-if for a policy proposal (proposal.simulated)

Revision ID: b7e4d2a9c316
Revises: f3a9c7d1e508
Create Date: 2026-11-29 03:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = 'b7e4d2a9c316'
down_revision = 'f3a9c7d1e508'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('proposals', sa.Column('what_if', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('proposals', 'what_if')
