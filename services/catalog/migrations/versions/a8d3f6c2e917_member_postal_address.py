"""members: the postal address invoices are made out to

Revision ID: a8d3f6c2e917
Revises: e5c2a7d9b413
Create Date: 2026-11-29 03:55:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = 'a8d3f6c2e917'
down_revision = 'e5c2a7d9b413'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('members', sa.Column('postal_address', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('members', 'postal_address')
