"""reviewed offers, co-providers, languages, policies, session changes

Offers get a summary, languages (a row each), framework levels 1-5 (basic, advanced, expert become 1, 3, 5),
VAT, a cancellation policy with its tiers, participant limits and the go / no-go lead time, providers with
shares (the proposing member alone, accepted, for offers there already), reviews and an audit trail; topic and
the single language go. Sessions may be changed and cancelled.

Revision ID: 9a4c2e7b1d53
Revises: 5e2f7a8c4d10
Create Date: 2026-11-28 20:50:00
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = '9a4c2e7b1d53'
down_revision = '5e2f7a8c4d10'
branch_labels = None
depends_on = None

NEW_OFFER_COLUMNS = ('summary', 'vat_rate', 'cancellation_policy', 'fee_tiers', 'minimum_participants',
                     'decision_days_before')


def upgrade() -> None:
    op.create_table('offer_languages',
    sa.Column('offer_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=2), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], ),
    sa.PrimaryKeyConstraint('offer_id', 'position')
    )
    with op.batch_alter_table('offer_languages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_languages_code'), ['code'], unique=False)
    op.create_table('offer_providers',
    sa.Column('offer_id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('share_percent', sa.Integer(), nullable=False),
    sa.Column('accepted_at', shared.db.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], ),
    sa.PrimaryKeyConstraint('offer_id', 'member_id')
    )
    with op.batch_alter_table('offer_providers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_providers_member_id'), ['member_id'], unique=False)
    op.create_table('offer_reviews',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('offer_id', sa.String(length=36), nullable=False),
    sa.Column('reviewer_id', sa.String(length=36), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('reviewed_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('offer_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_reviews_offer_id'), ['offer_id'], unique=False)
    op.create_table('offer_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('offer_id', sa.String(length=36), nullable=False),
    sa.Column('actor_id', sa.String(length=36), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('offer_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_history_offer_id'), ['offer_id'], unique=False)

    # Plain ALTER TABLE ADD COLUMN: batch mode would copy the table, which SQLite's foreign keys forbid here.
    op.add_column('offers', sa.Column('summary', sa.String(length=500), nullable=False, server_default=''))
    op.add_column('offers', sa.Column('level_number', sa.Integer(), nullable=False, server_default='3'))
    op.add_column('offers', sa.Column('vat_rate', sa.Integer(), nullable=False, server_default='19'))
    op.add_column('offers', sa.Column('cancellation_policy', sa.String(length=20), nullable=False,
                  server_default='standard'))
    op.add_column('offers', sa.Column('fee_tiers', sa.JSON(), nullable=False,
                  server_default=sa.text("'[[14, 50], [3, 100]]'")))
    op.add_column('offers', sa.Column('minimum_participants', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('offers', sa.Column('maximum_participants', sa.Integer(), nullable=True))
    op.add_column('offers', sa.Column('decision_days_before', sa.Integer(), nullable=False, server_default='7'))
    op.add_column('offers', sa.Column('submitted_at', shared.db.UtcDateTime(timezone=True), nullable=True))
    op.execute("UPDATE offers SET level_number = CASE level WHEN 'basic' THEN 1 WHEN 'expert' THEN 5 ELSE 3 END")
    op.execute("INSERT INTO offer_languages (offer_id, position, code) SELECT id, 0, language FROM offers")
    op.execute("INSERT INTO offer_providers (offer_id, member_id, position, share_percent, accepted_at) "
               "SELECT id, provider_id, 0, 100, created_at FROM offers")
    if op.get_bind().dialect.name == "sqlite":
        # Not by copying the table, as batch mode would: sessions and competences point at the offers, and with
        # foreign keys on (which a transaction cannot switch off) dropping the old copy fails. The defaults stay.
        for column in ('level', 'topic', 'language'):
            op.execute(f"ALTER TABLE offers DROP COLUMN {column}")
        op.execute("ALTER TABLE offers RENAME COLUMN level_number TO level")
    else:
        with op.batch_alter_table('offers', schema=None) as batch_op:
            batch_op.drop_column('level')
            batch_op.drop_column('topic')
            batch_op.drop_column('language')
            batch_op.alter_column('level_number', new_column_name='level', existing_type=sa.Integer())
            # The defaults were for the rows there already; the model sets every value from now on.
            for column in (*NEW_OFFER_COLUMNS, 'level'):
                batch_op.alter_column(column, server_default=None)

    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', shared.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancelled_at', shared.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancellation_reason', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('cancellation_reason')
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('updated_at')

    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level_name', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('topic', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('language', sa.String(length=2), nullable=False, server_default='en'))
    op.execute("UPDATE offers SET level_name = CASE WHEN level <= 2 THEN 'basic' WHEN level = 5 THEN 'expert' "
               "ELSE 'advanced' END")
    op.execute("UPDATE offers SET language = COALESCE((SELECT code FROM offer_languages WHERE "
               "offer_languages.offer_id = offers.id AND position = 0), 'en')")
    with op.batch_alter_table('offers', schema=None) as batch_op:
        for column in ('submitted_at', 'decision_days_before', 'maximum_participants', 'minimum_participants',
                       'fee_tiers', 'cancellation_policy', 'vat_rate', 'level', 'summary'):
            batch_op.drop_column(column)
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.alter_column('level_name', new_column_name='level', existing_type=sa.String(length=20),
                              nullable=False)
        batch_op.alter_column('topic', server_default=None)
        batch_op.alter_column('language', server_default=None)

    for table in ('offer_history', 'offer_reviews', 'offer_providers', 'offer_languages'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_' + {'offer_history': 'offer_id', 'offer_reviews': 'offer_id',
                                                              'offer_providers': 'member_id',
                                                              'offer_languages': 'code'}[table]))
        op.drop_table(table)
