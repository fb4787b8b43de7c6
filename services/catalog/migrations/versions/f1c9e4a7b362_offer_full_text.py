"""offer full text

Search reads a full-text index instead of the offer_terms table: offers.search_terms holds the German and English
stems of an offer's title, summary and description (stemmed by the code, so both backends find the same offers),
filled in here from offer_terms, which goes. On SQLite an FTS5 table offer_search holds them, kept by triggers on
offers; on PostgreSQL a generated tsvector column with a GIN index. offers.language_codes copies the offer's
languages for the language facet; indexes for the filters and the newest-first order on offers' own columns.

Revision ID: f1c9e4a7b362
Revises: a8d3f6c2e917
Create Date: 2026-11-29 03:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = 'f1c9e4a7b362'
down_revision = 'a8d3f6c2e917'
branch_labels = None
depends_on = None

# The FTS5 rows are keyed by an integer, offers.search_id: matching on offers' text ids costs eight times as much,
# and offers' own rowid may change on VACUUM, as offers has no INTEGER PRIMARY KEY.
SQLITE_INDEX = [
    "ALTER TABLE offers ADD COLUMN search_id INTEGER",
    "UPDATE offers SET search_id = rowid",
    "CREATE UNIQUE INDEX ix_offers_search_id ON offers (search_id)",
    "CREATE VIRTUAL TABLE offer_search USING fts5(search_terms, tokenize = 'unicode61 remove_diacritics 0')",
    "INSERT INTO offer_search (rowid, search_terms) SELECT search_id, search_terms FROM offers",
    "CREATE TRIGGER offer_search_insert AFTER INSERT ON offers BEGIN "
    "UPDATE offers SET search_id = (SELECT coalesce(max(search_id), 0) + 1 FROM offers) WHERE rowid = new.rowid; "
    "INSERT INTO offer_search (rowid, search_terms) SELECT search_id, search_terms FROM offers "
    "WHERE rowid = new.rowid; END",
    "CREATE TRIGGER offer_search_update AFTER UPDATE OF search_terms ON offers BEGIN "
    "DELETE FROM offer_search WHERE rowid = old.search_id; "
    "INSERT INTO offer_search (rowid, search_terms) VALUES (new.search_id, new.search_terms); END",
    "CREATE TRIGGER offer_search_delete AFTER DELETE ON offers BEGIN "
    "DELETE FROM offer_search WHERE rowid = old.search_id; END",
]
POSTGRES_INDEX = [
    "ALTER TABLE offers ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', search_terms)) STORED",
    "CREATE INDEX ix_offers_search_vector ON offers USING gin (search_vector)",
]
FILTER_INDEXES = {
    "ix_offers_status_format_level": ["status", "format", "level", "language_codes"],
    "ix_offers_status_price_cents": ["status", "price_cents"],
    "ix_offers_status_published_at": ["status", "published_at"],
}


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # Plain ADD COLUMN (no batch rebuild): rebuilding offers on SQLite would delete it under its references.
    op.add_column('offers', sa.Column('search_terms', sa.Text(), nullable=False, server_default=''))
    op.add_column('offers', sa.Column('language_codes', sa.String(length=100), nullable=False, server_default=''))
    terms = "group_concat(term, ' ')" if sqlite else "string_agg(term, ' ' ORDER BY term)"
    op.execute(f"UPDATE offers SET search_terms = coalesce((SELECT {terms} FROM offer_terms "
               "WHERE offer_terms.offer_id = offers.id), '')")
    codes = ("(SELECT group_concat(code, ',') FROM (SELECT code FROM offer_languages "
             "WHERE offer_languages.offer_id = offers.id ORDER BY position))" if sqlite else
             "(SELECT string_agg(code, ',' ORDER BY position) FROM offer_languages "
             "WHERE offer_languages.offer_id = offers.id)")
    op.execute(f"UPDATE offers SET language_codes = coalesce({codes}, '')")
    op.drop_index('ix_offer_terms_term', table_name='offer_terms')
    op.drop_table('offer_terms')
    for statement in SQLITE_INDEX if sqlite else POSTGRES_INDEX:
        op.execute(statement)
    for name, columns in FILTER_INDEXES.items():
        op.create_index(name, 'offers', columns)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name in FILTER_INDEXES:
        op.drop_index(name, table_name='offers')
    if sqlite:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER offer_search_{event}")
        op.execute("DROP TABLE offer_search")
        op.execute("DROP INDEX ix_offers_search_id")
        op.execute("ALTER TABLE offers DROP COLUMN search_id")
    else:
        op.execute("DROP INDEX ix_offers_search_vector")
        op.execute("ALTER TABLE offers DROP COLUMN search_vector")
    offer_terms = op.create_table('offer_terms',
                                  sa.Column('offer_id', sa.String(length=36), nullable=False),
                                  sa.Column('term', sa.String(length=60), nullable=False),
                                  sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], ),
                                  sa.PrimaryKeyConstraint('offer_id', 'term'))
    op.create_index('ix_offer_terms_term', 'offer_terms', ['term'])
    connection = op.get_bind()
    offers = sa.table('offers', sa.column('id', sa.String), sa.column('search_terms', sa.Text))
    for row in connection.execute(sa.select(offers.c.id, offers.c.search_terms)):
        rows = [{"offer_id": row.id, "term": term} for term in sorted(set(row.search_terms.split()))]
        if rows:
            connection.execute(offer_terms.insert(), rows)
    for column in ("language_codes", "search_terms"):
        if sqlite:
            op.execute(f"ALTER TABLE offers DROP COLUMN {column}")
        else:
            op.drop_column('offers', column)
