"""go / no-go: minimums of offers, decision times of sessions

Revision ID: b8d4e6f21a57
Revises: 7e52a1c0d3f8
Create Date: 2026-11-28 17:00:00
"""

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import shared.db

revision = 'b8d4e6f21a57'
down_revision = '7e52a1c0d3f8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('minimum_participants', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('decision_days_before', sa.Integer(), nullable=False, server_default='7'))
    # Sessions known so far take the default decision time, 7 days before their start.
    op.add_column('sessions', sa.Column('decision_at', shared.db.UtcDateTime(timezone=True), nullable=True))
    op.add_column('sessions', sa.Column('decided_at', shared.db.UtcDateTime(timezone=True), nullable=True))
    op.add_column('sessions', sa.Column('outcome', sa.String(length=20), nullable=True))
    sessions = sa.table('sessions', sa.column('session_id', sa.String()),
                        sa.column('starts_at', shared.db.UtcDateTime()), sa.column('decision_at', shared.db.UtcDateTime()))
    connection = op.get_bind()
    for session_id, starts_at in connection.execute(sa.select(sessions.c.session_id, sessions.c.starts_at)).all():
        connection.execute(sessions.update().where(sessions.c.session_id == session_id)
                           .values(decision_at=starts_at - timedelta(days=7)))
    op.create_index('ix_sessions_decision_at', 'sessions', ['decision_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sessions_decision_at', table_name='sessions')
    op.execute("ALTER TABLE sessions DROP COLUMN outcome")
    op.execute("ALTER TABLE sessions DROP COLUMN decided_at")
    op.execute("ALTER TABLE sessions DROP COLUMN decision_at")
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_column('decision_days_before')
        batch_op.drop_column('minimum_participants')
