"""search generation: what kept search answers are valid under

One row, raised by every transaction that writes a table an offer search reads; each process reuses a kept search
answer only while it is unchanged.

Revision ID: b2f6d4e8a1c7
Revises: f1c9e4a7b362
Create Date: 2026-11-29 06:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = 'b2f6d4e8a1c7'
down_revision = 'f1c9e4a7b362'
branch_labels = None
depends_on = None


def upgrade() -> None:
    generation = op.create_table(
        'search_generation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('generation', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(generation, [{'id': 1, 'generation': 0}])


def downgrade() -> None:
    op.drop_table('search_generation')
