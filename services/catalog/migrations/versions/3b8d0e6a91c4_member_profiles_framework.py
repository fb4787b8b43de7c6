"""member profiles, framework read model

Members get their profile (organisation, region, languages, preferred language of messages, career stage,
preferred formats, time zone); framework_versions and framework_items keep the latest competence framework
that assessment published. Existing members read as English speakers in Berlin with an empty profile.

Revision ID: 3b8d0e6a91c4
Revises: 7c1e5b9a2f30
Create Date: 2026-11-28 20:15:00
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = '3b8d0e6a91c4'
down_revision = '7c1e5b9a2f30'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('region', sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column('languages', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('preferred_language', sa.String(length=2), nullable=False,
                                      server_default='en'))
        batch_op.add_column(sa.Column('career_stage', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('preferred_formats', sa.JSON(), nullable=False,
                                      server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=False,
                                      server_default='Europe/Berlin'))
        batch_op.add_column(sa.Column('updated_at', shared.db.UtcDateTime(timezone=True), nullable=True))
    # The defaults were for the rows there already; the model sets every value from now on.
    with op.batch_alter_table('members', schema=None) as batch_op:
        for column in ('languages', 'preferred_language', 'preferred_formats', 'time_zone'):
            batch_op.alter_column(column, server_default=None)

    op.create_table('framework_versions',
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('published_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version')
    )
    op.create_table('framework_items',
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('name_de', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('area', sa.String(length=60), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'code')
    )


def downgrade() -> None:
    op.drop_table('framework_items')
    op.drop_table('framework_versions')
    with op.batch_alter_table('members', schema=None) as batch_op:
        for column in ('updated_at', 'time_zone', 'preferred_formats', 'career_stage', 'preferred_language',
                       'languages', 'region', 'organisation'):
            batch_op.drop_column(column)
