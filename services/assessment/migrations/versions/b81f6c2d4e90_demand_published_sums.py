"""demand cells: published sums, and the members who changed a group since they were published

Cells published so far stay as they are: their live sums become their published ones.

Revision ID: b81f6c2d4e90
Revises: 9d4e2b7c1a35
Create Date: 2026-11-29 00:55:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = 'b81f6c2d4e90'
down_revision = '9d4e2b7c1a35'
branch_labels = None
depends_on = None

MEASURES = ("members", "gap_sum", "importance_sum", "members_with_gap")


def upgrade() -> None:
    op.create_table('demand_changes',
    sa.Column('quarter', sa.String(length=7), nullable=False),
    sa.Column('career_path', sa.String(length=60), nullable=False),
    sa.Column('region', sa.String(length=10), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('quarter', 'career_path', 'region', 'format', 'member_id')
    )
    with op.batch_alter_table('demand_cells', schema=None) as batch_op:
        for measure in MEASURES:
            batch_op.add_column(sa.Column(f'published_{measure}', sa.Integer(), server_default='0', nullable=False))
    op.execute("UPDATE demand_cells SET " + ", ".join(f"published_{m} = {m}" for m in MEASURES))


def downgrade() -> None:
    with op.batch_alter_table('demand_cells', schema=None) as batch_op:
        for measure in MEASURES:
            batch_op.drop_column(f'published_{measure}')
    op.drop_table('demand_changes')
