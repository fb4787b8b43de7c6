"""member deletion

members.deleted_at marks an account its member deleted; the row stays, anonymised.

Revision ID: 5e2f7a8c4d10
Revises: 3b8d0e6a91c4
Create Date: 2026-11-28 20:35:00
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = '5e2f7a8c4d10'
down_revision = '3b8d0e6a91c4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', shared.db.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')
