"""offer search document

offers.search_document holds the German and English stems of an offer's title, summary and description, which
search matches words against; filled in here for the offers there already.

Revision ID: 4f7d2b9e6a18
Revises: e81b5c3f27a4
Create Date: 2026-11-28 20:40:00
"""

import sqlalchemy as sa
from alembic import op

from services.catalog.search import terms

revision = '4f7d2b9e6a18'
down_revision = 'e81b5c3f27a4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN: batch mode would copy the table, which SQLite's foreign keys forbid here.
    op.add_column('offers', sa.Column('search_document', sa.Text(), nullable=False, server_default=' '))
    offers = sa.table('offers', sa.column('id', sa.String), sa.column('title', sa.String),
                      sa.column('summary', sa.String), sa.column('description', sa.Text),
                      sa.column('search_document', sa.Text))
    connection = op.get_bind()
    for row in connection.execute(sa.select(offers.c.id, offers.c.title, offers.c.summary, offers.c.description)):
        connection.execute(offers.update().where(offers.c.id == row.id)
                           .values(search_document=f" {' '.join(sorted(terms(row.title, row.summary, row.description)))} "))
    if op.get_bind().dialect.name != "sqlite":  # there only by copying the table, which foreign keys forbid
        with op.batch_alter_table('offers', schema=None) as batch_op:
            batch_op.alter_column('search_document', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_column('search_document')
