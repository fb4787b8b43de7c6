"""title and summary terms, and on SQLite an index that counts words' matches by facet

offers.title_terms and offers.summary_terms hold the German and English stems of the title and of the summary,
each between spaces, so relevance weighs a word without lowering every offer's text; filled in here for the offers
there already. On SQLite, ix_offers_search_facets holds what counting a word's matches by format, level and
language reads, so that count reads no offer's row.

Revision ID: e7b4c1d9a352
Revises: c4e8a2f6b913
Create Date: 2026-11-29 15:40:00
"""

import sqlalchemy as sa
from alembic import op

from services.catalog.search import spaced_terms

revision = 'e7b4c1d9a352'
down_revision = 'c4e8a2f6b913'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN: batch mode would copy the table, which SQLite's foreign keys forbid here.
    op.add_column('offers', sa.Column('title_terms', sa.Text(), nullable=False, server_default=' '))
    op.add_column('offers', sa.Column('summary_terms', sa.Text(), nullable=False, server_default=' '))
    offers = sa.table('offers', sa.column('id', sa.String), sa.column('title', sa.String),
                      sa.column('summary', sa.String), sa.column('title_terms', sa.Text),
                      sa.column('summary_terms', sa.Text))
    connection = op.get_bind()
    for row in connection.execute(sa.select(offers.c.id, offers.c.title, offers.c.summary)).all():
        connection.execute(offers.update().where(offers.c.id == row.id)
                           .values(title_terms=spaced_terms(row.title), summary_terms=spaced_terms(row.summary)))
    if connection.dialect.name == "sqlite":
        op.execute("CREATE INDEX ix_offers_search_facets ON offers (status, format, level, language_codes, search_id)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX ix_offers_search_facets")
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_column('summary_terms')
        batch_op.drop_column('title_terms')
