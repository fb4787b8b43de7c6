"""one-click unsubscribe: a token per member

Revision ID: 3c1f0a9d2b7e
Revises: e72d59e676d1
Create Date: 2026-11-29 00:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '3c1f0a9d2b7e'
down_revision = 'e72d59e676d1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unsubscribe_token', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_members_unsubscribe_token'), ['unsubscribe_token'])


def downgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_members_unsubscribe_token'), type_='unique')
        batch_op.drop_column('unsubscribe_token')
