"""members and invoices: the buyer's postal address, kept from member.updated and snapshotted at issue

Revision ID: c3b7e2d8f451
Revises: 15e15d2393d4
Create Date: 2026-11-29 03:55:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = 'c3b7e2d8f451'
down_revision = '15e15d2393d4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('members', sa.Column('postal_address', sa.JSON(), nullable=True))
    op.add_column('invoices', sa.Column('buyer_address', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('invoices', 'buyer_address')
    op.drop_column('members', 'postal_address')
