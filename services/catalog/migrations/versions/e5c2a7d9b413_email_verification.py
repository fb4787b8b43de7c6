"""members confirm their address by a mailed link before they can sign in; members from before are confirmed

Revision ID: e5c2a7d9b413
Revises: b7e4d2a9c316
Create Date: 2026-11-29 03:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = 'e5c2a7d9b413'
down_revision = 'b7e4d2a9c316'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch rebuild): rebuilding members on SQLite would delete it under its references.
    op.add_column('members', sa.Column('email_verified_at', shared.db.UtcDateTime(), nullable=True))
    # Members who registered before addresses were confirmed keep signing in as before.
    op.execute("UPDATE members SET email_verified_at = created_at WHERE deleted_at IS NULL")
    op.create_table('email_verifications',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('preferred_language', sa.String(length=2), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('created_at', shared.db.UtcDateTime(), nullable=False),
    sa.Column('expires_at', shared.db.UtcDateTime(), nullable=False),
    sa.Column('used_at', shared.db.UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.PrimaryKeyConstraint('digest')
    )
    with op.batch_alter_table('email_verifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_verifications_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_email_verifications_member_id'), ['member_id'], unique=False)


def downgrade() -> None:
    op.drop_table('email_verifications')
    op.drop_column('members', 'email_verified_at')
