"""framework 2026.1, assessments, demand cells, reassessments; read models of offers v2, sessions, members

Loads the framework version 2026.1 from services/assessment/framework/2026.1.json (a published version is never
edited: a new one gets a new file and a new migration). The offers table kept offer.published v1 (free-text
competences, basic/advanced/expert levels), which no framework code matches: it is rebuilt empty for v2.

Revision ID: a7c31e5b9d02
Revises: f2a39afd1dbc
Create Date: 2026-11-28 20:20:00
"""

import json
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op

import shared.db

revision = 'a7c31e5b9d02'
down_revision = 'f2a39afd1dbc'
branch_labels = None
depends_on = None

FRAMEWORK_FILE = Path(__file__).resolve().parents[2] / "framework" / "2026.1.json"


def upgrade() -> None:
    frameworks = op.create_table('frameworks',
    sa.Column('version', sa.String(length=20), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('loaded_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('announced_at', shared.db.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('version')
    )
    op.bulk_insert(frameworks, [{"version": "2026.1", "document": json.loads(FRAMEWORK_FILE.read_text("utf-8")),
                                 "loaded_at": datetime.now(UTC), "announced_at": None}])
    op.drop_table('offers')
    op.create_table('offers',
    sa.Column('offer_id', sa.String(length=36), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('competences', sa.JSON(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('region', sa.String(length=10), nullable=True),
    sa.Column('as_of', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', shared.db.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('offer_id')
    )
    op.create_table('sessions',
    sa.Column('session_id', sa.String(length=36), nullable=False),
    sa.Column('offer_id', sa.String(length=36), nullable=False),
    sa.Column('starts_at', shared.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('ends_at', shared.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('seats', sa.JSON(), nullable=False),
    sa.Column('free_seats', sa.JSON(), nullable=True),
    sa.Column('availability_at', shared.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', shared.db.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('session_id')
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index('ix_sessions_offer_id', ['offer_id'], unique=False)
    op.create_table('members',
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=True),
    sa.Column('region', sa.String(length=10), nullable=True),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('preferred_formats', sa.JSON(), nullable=False),
    sa.Column('updated_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('team_opt_in_at', shared.db.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('member_id')
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index('ix_members_organisation', ['organisation'], unique=False)
    op.create_table('assessments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('career_path', sa.String(length=60), nullable=False),
    sa.Column('framework_version', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', shared.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('quarter', sa.String(length=7), nullable=True),
    sa.Column('region', sa.String(length=10), nullable=True),
    sa.Column('preferred_format', sa.String(length=20), nullable=True),
    sa.Column('in_demand', sa.Boolean(), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'completed')", name='ck_assessments_status'),
    sa.ForeignKeyConstraint(['framework_version'], ['frameworks.version'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index('ix_assessments_member_created', ['member_id', 'created_at'], unique=False)
    op.create_table('ratings',
    sa.Column('assessment_id', sa.String(length=36), nullable=False),
    sa.Column('competence', sa.String(length=20), nullable=False),
    sa.Column('current_level', sa.Integer(), nullable=True),
    sa.Column('future_importance', sa.Integer(), nullable=True),
    sa.Column('confidence', sa.Integer(), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.CheckConstraint('current_level BETWEEN 0 AND 5', name='ck_ratings_current_level'),
    sa.CheckConstraint('future_importance BETWEEN 1 AND 5', name='ck_ratings_future_importance'),
    sa.CheckConstraint('confidence BETWEEN 1 AND 5', name='ck_ratings_confidence'),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('assessment_id', 'competence')
    )
    op.create_table('demand_cells',
    sa.Column('quarter', sa.String(length=7), nullable=False),
    sa.Column('career_path', sa.String(length=60), nullable=False),
    sa.Column('region', sa.String(length=10), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('competence', sa.String(length=20), nullable=False),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.Column('gap_sum', sa.Integer(), nullable=False),
    sa.Column('importance_sum', sa.Integer(), nullable=False),
    sa.Column('members_with_gap', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('quarter', 'career_path', 'region', 'format', 'competence')
    )
    op.create_table('reassessments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('offer_id', sa.String(length=36), nullable=False),
    sa.Column('session_id', sa.String(length=36), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('invited_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', shared.db.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('member_id', 'session_id', name='uq_reassessments_member_session')
    )
    with op.batch_alter_table('reassessments', schema=None) as batch_op:
        batch_op.create_index('ix_reassessments_member_id', ['member_id'], unique=False)
        batch_op.create_index('ix_reassessments_offer_id', ['offer_id'], unique=False)
    op.create_table('pending_announcements',
    sa.Column('topic', sa.String(length=80), nullable=False),
    sa.Column('changed_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('topic')
    )


def downgrade() -> None:
    op.drop_table('pending_announcements')
    with op.batch_alter_table('reassessments', schema=None) as batch_op:
        batch_op.drop_index('ix_reassessments_offer_id')
        batch_op.drop_index('ix_reassessments_member_id')
    op.drop_table('reassessments')
    op.drop_table('demand_cells')
    op.drop_table('ratings')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_assessments_member_created')
    op.drop_table('assessments')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index('ix_members_organisation')
    op.drop_table('members')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_offer_id')
    op.drop_table('sessions')
    op.drop_table('offers')
    op.create_table('offers',
    sa.Column('offer_id', sa.String(length=36), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('competences', sa.JSON(), nullable=False),
    sa.Column('level', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=20), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('offer_id')
    )
    op.drop_table('frameworks')
