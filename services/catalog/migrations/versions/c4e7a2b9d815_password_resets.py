"""password resets by mail: token digests, valid once until they expire

Revision ID: c4e7a2b9d815
Revises: a5d8c3e1f692
Create Date: 2026-11-29 01:05:00.000000
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = 'c4e7a2b9d815'
down_revision = 'a5d8c3e1f692'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('password_resets',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', shared.db.UtcDateTime(), nullable=False),
    sa.Column('expires_at', shared.db.UtcDateTime(), nullable=False),
    sa.Column('used_at', shared.db.UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.PrimaryKeyConstraint('digest')
    )
    with op.batch_alter_table('password_resets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_resets_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_password_resets_member_id'), ['member_id'], unique=False)


def downgrade() -> None:
    op.drop_table('password_resets')
