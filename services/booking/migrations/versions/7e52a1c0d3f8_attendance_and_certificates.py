"""members, attendance and certificates

Revision ID: 7e52a1c0d3f8
Revises: 3c1f7d2a9b40
Create Date: 2026-11-28 16:45:00
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = '7e52a1c0d3f8'
down_revision = '3c1f7d2a9b40'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('members',
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('member_id')
    )
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('competences', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('level', sa.String(length=20), nullable=True))
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attended', sa.Boolean(), nullable=True))
    op.create_table('certificates',
    sa.Column('id', sa.String(length=43), nullable=False),
    sa.Column('booking_id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('issued_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', shared.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('booking_id')
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_member_id'), ['member_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificates_member_id'))
    op.drop_table('certificates')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('attended')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_column('level')
        batch_op.drop_column('competences')
    op.drop_table('members')
