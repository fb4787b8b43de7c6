"""seats generation: kept search answers that do not ask for free seats outlive booking's seat counts

Revision ID: c4e8a2f6b913
Revises: b2f6d4e8a1c7
Create Date: 2026-11-29 12:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = 'c4e8a2f6b913'
down_revision = 'b2f6d4e8a1c7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('search_generation',
                  sa.Column('seats_generation', sa.BigInteger(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('search_generation') as batch:
        batch.drop_column('seats_generation')
