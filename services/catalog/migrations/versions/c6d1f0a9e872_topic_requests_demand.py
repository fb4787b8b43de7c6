"""topic requests, demand read model

topic_requests with their votes (a counter beside the rows, for sorting) and the offers that answer them;
demand_quarters and competence_demand keep the anonymised demand that assessment last published.

Revision ID: c6d1f0a9e872
Revises: 9a4c2e7b1d53
Create Date: 2026-11-28 20:30:00
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = 'c6d1f0a9e872'
down_revision = '9a4c2e7b1d53'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('topic_requests',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('competences', sa.JSON(), nullable=False),
    sa.Column('preferred_formats', sa.JSON(), nullable=False),
    sa.Column('region', sa.String(length=6), nullable=True),
    sa.Column('votes', sa.Integer(), nullable=False),
    sa.Column('created_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('topic_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topic_requests_member_id'), ['member_id'], unique=False)
    op.create_table('topic_request_votes',
    sa.Column('topic_request_id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('voted_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['topic_request_id'], ['topic_requests.id'], ),
    sa.PrimaryKeyConstraint('topic_request_id', 'member_id')
    )
    with op.batch_alter_table('topic_request_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topic_request_votes_member_id'), ['member_id'], unique=False)
    op.create_table('topic_request_answers',
    sa.Column('topic_request_id', sa.String(length=36), nullable=False),
    sa.Column('offer_id', sa.String(length=36), nullable=False),
    sa.Column('offer_title', sa.String(length=200), nullable=False),
    sa.Column('provider_id', sa.String(length=36), nullable=False),
    sa.Column('answered_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['topic_request_id'], ['topic_requests.id'], ),
    sa.PrimaryKeyConstraint('topic_request_id', 'offer_id')
    )
    op.create_table('demand_quarters',
    sa.Column('quarter', sa.String(length=7), nullable=False),
    sa.Column('updated_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('quarter')
    )
    op.create_table('competence_demand',
    sa.Column('competence', sa.String(length=60), nullable=False),
    sa.Column('area', sa.String(length=60), nullable=False),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.Column('members_with_gap', sa.Integer(), nullable=False),
    sa.Column('gap_sum', sa.Integer(), nullable=False),
    sa.Column('importance_sum', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('competence')
    )


def downgrade() -> None:
    op.drop_table('competence_demand')
    op.drop_table('demand_quarters')
    op.drop_table('topic_request_answers')
    with op.batch_alter_table('topic_request_votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topic_request_votes_member_id'))
    op.drop_table('topic_request_votes')
    with op.batch_alter_table('topic_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topic_requests_member_id'))
    op.drop_table('topic_requests')
