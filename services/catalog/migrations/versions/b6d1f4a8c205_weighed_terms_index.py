"""the full-text index also holds the terms relevance weighs

Only offers with a query word in their title or summary score above zero, so relevance need weigh only those: the
full-text index now finds them. On SQLite offer_search gets a second column, weighed_terms (the title's and the
summary's stems), and is filled again; its triggers follow title_terms and summary_terms too. On PostgreSQL a
generated tsvector column of the same stems with a GIN index.

Revision ID: b6d1f4a8c205
Revises: a3f9d2c7e481
Create Date: 2026-11-29 19:40:00
"""

from alembic import op

revision = 'b6d1f4a8c205'
down_revision = 'a3f9d2c7e481'
branch_labels = None
depends_on = None


def _sqlite_index(columns: str, values: str, updated_by: str) -> list[str]:
    """offer_search with `columns`, filled with `values` (offers' columns, each prefixed by {row}), and the triggers
    keeping it when offers are inserted, deleted or updated in `updated_by`."""
    return [
        f"CREATE VIRTUAL TABLE offer_search USING fts5({columns}, tokenize = 'unicode61 remove_diacritics 0')",
        f"INSERT INTO offer_search (rowid, {columns}) SELECT search_id, {values.format(row='')} FROM offers",
        "CREATE TRIGGER offer_search_insert AFTER INSERT ON offers BEGIN "
        "UPDATE offers SET search_id = (SELECT coalesce(max(search_id), 0) + 1 FROM offers) WHERE rowid = new.rowid; "
        f"INSERT INTO offer_search (rowid, {columns}) SELECT search_id, {values.format(row='')} FROM offers "
        "WHERE rowid = new.rowid; END",
        f"CREATE TRIGGER offer_search_update AFTER UPDATE OF {updated_by} ON offers BEGIN "
        "DELETE FROM offer_search WHERE rowid = old.search_id; "
        f"INSERT INTO offer_search (rowid, {columns}) VALUES (new.search_id, {values.format(row='new.')}); END",
        "CREATE TRIGGER offer_search_delete AFTER DELETE ON offers BEGIN "
        "DELETE FROM offer_search WHERE rowid = old.search_id; END",
    ]


def _drop_sqlite_index() -> None:
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER offer_search_{event}")
    op.execute("DROP TABLE offer_search")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _drop_sqlite_index()
        for statement in _sqlite_index("search_terms, weighed_terms",
                                       "{row}search_terms, {row}title_terms || {row}summary_terms",
                                       "search_terms, title_terms, summary_terms"):
            op.execute(statement)
    else:
        op.execute("ALTER TABLE offers ADD COLUMN weighed_vector tsvector "
                   "GENERATED ALWAYS AS (to_tsvector('simple', title_terms || summary_terms)) STORED")
        op.execute("CREATE INDEX ix_offers_weighed_vector ON offers USING gin (weighed_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _drop_sqlite_index()
        for statement in _sqlite_index("search_terms", "{row}search_terms", "search_terms"):
            op.execute(statement)
    else:
        op.execute("DROP INDEX ix_offers_weighed_vector")
        op.execute("ALTER TABLE offers DROP COLUMN weighed_vector")
