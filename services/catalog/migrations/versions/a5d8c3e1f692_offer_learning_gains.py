"""offer learning gains: what attendees say they learned, from learning_gain.recorded

Revision ID: a5d8c3e1f692
Revises: 8c3e1a5f0b27
Create Date: 2026-11-29 01:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = 'a5d8c3e1f692'
down_revision = '8c3e1a5f0b27'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('offer_learning_gains',
    sa.Column('offer_id', sa.String(length=36), nullable=False),
    sa.Column('respondents', sa.Integer(), nullable=False),
    sa.Column('competences', sa.JSON(), nullable=False),
    sa.Column('recorded_at', shared.db.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], ),
    sa.PrimaryKeyConstraint('offer_id')
    )


def downgrade() -> None:
    op.drop_table('offer_learning_gains')
