"""proposals

Members' proposals with their comments and votes, and each member's latest booking (from booking's events),
which with their published offers makes them eligible to propose and vote.

Revision ID: f3a9c7d1e508
Revises: d9b3f5a7c204
Create Date: 2026-11-29 01:20:00
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = 'f3a9c7d1e508'
down_revision = 'd9b3f5a7c204'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('proposals',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('proposer_id', sa.String(length=36), nullable=True),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('created_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('voting_opens_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('voting_closes_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('opening_announced_at', shared.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', shared.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('carried_out_at', shared.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('carried_out', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposals_proposer_id'), ['proposer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_voting_opens_at'), ['voting_opens_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_voting_closes_at'), ['voting_closes_at'], unique=False)
    op.create_table('proposal_comments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('proposal_id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('proposal_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_comments_proposal_id'), ['proposal_id'], unique=False)
    op.create_table('proposal_votes',
    sa.Column('proposal_id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('choice', sa.String(length=10), nullable=False),
    sa.Column('voted_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], ),
    sa.PrimaryKeyConstraint('proposal_id', 'member_id')
    )
    with op.batch_alter_table('proposal_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_votes_member_id'), ['member_id'], unique=False)
    op.create_table('member_booking_activity',
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('last_booked_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('member_id')
    )
    with op.batch_alter_table('member_booking_activity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_booking_activity_last_booked_at'), ['last_booked_at'],
                              unique=False)


def downgrade() -> None:
    op.drop_table('member_booking_activity')
    op.drop_table('proposal_votes')
    op.drop_table('proposal_comments')
    op.drop_table('proposals')
