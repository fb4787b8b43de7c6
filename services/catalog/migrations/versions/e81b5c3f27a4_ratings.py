"""ratings

attendance_records and session_attendees keep who attended which session (attendance.recorded); ratings hold
an attendee's stars (1-5) and comment per session, once, and the provider's answer.

Revision ID: e81b5c3f27a4
Revises: c6d1f0a9e872
Create Date: 2026-11-28 20:45:00
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = 'e81b5c3f27a4'
down_revision = 'c6d1f0a9e872'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('attendance_records',
    sa.Column('session_id', sa.String(length=36), nullable=False),
    sa.Column('offer_id', sa.String(length=36), nullable=False),
    sa.Column('provider_id', sa.String(length=36), nullable=False),
    sa.Column('recorded_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('session_id')
    )
    op.create_table('session_attendees',
    sa.Column('session_id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['attendance_records.session_id'], ),
    sa.PrimaryKeyConstraint('session_id', 'member_id')
    )
    with op.batch_alter_table('session_attendees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_attendees_member_id'), ['member_id'], unique=False)
    op.create_table('ratings',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('session_id', sa.String(length=36), nullable=False),
    sa.Column('offer_id', sa.String(length=36), nullable=False),
    sa.Column('provider_id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=True),
    sa.Column('stars', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_at', shared.db.UtcDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('stars BETWEEN 1 AND 5'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'member_id')
    )
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ratings_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ratings_offer_id'), ['offer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ratings_provider_id'), ['provider_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ratings_provider_id'))
        batch_op.drop_index(batch_op.f('ix_ratings_offer_id'))
        batch_op.drop_index(batch_op.f('ix_ratings_member_id'))
    op.drop_table('ratings')
    with op.batch_alter_table('session_attendees', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_attendees_member_id'))
    op.drop_table('session_attendees')
    op.drop_table('attendance_records')
