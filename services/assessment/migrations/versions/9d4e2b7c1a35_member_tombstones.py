"""members: a tombstone for a deleted member

Revision ID: 9d4e2b7c1a35
Revises: a7c31e5b9d02
Create Date: 2026-11-29 00:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = '9d4e2b7c1a35'
down_revision = 'a7c31e5b9d02'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', shared.db.UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')
