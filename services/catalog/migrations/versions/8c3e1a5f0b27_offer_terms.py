"""offer terms

Search reads an inverted index instead of scanning offers.search_document: offer_terms holds each German and
English stem of an offer's title, summary and description, indexed by term; filled in here for the offers there
already, and the scanned column goes.

Revision ID: 8c3e1a5f0b27
Revises: 4f7d2b9e6a18
Create Date: 2026-11-28 20:50:00
"""

import sqlalchemy as sa
from alembic import op

from services.catalog.search import terms

revision = '8c3e1a5f0b27'
down_revision = '4f7d2b9e6a18'
branch_labels = None
depends_on = None


def upgrade() -> None:
    offer_terms = op.create_table('offer_terms',
    sa.Column('offer_id', sa.String(length=36), nullable=False),
    sa.Column('term', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], ),
    sa.PrimaryKeyConstraint('offer_id', 'term')
    )
    with op.batch_alter_table('offer_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_terms_term'), ['term'], unique=False)
    offers = sa.table('offers', sa.column('id', sa.String), sa.column('title', sa.String),
                      sa.column('summary', sa.String), sa.column('description', sa.Text))
    connection = op.get_bind()
    for row in connection.execute(sa.select(offers.c.id, offers.c.title, offers.c.summary, offers.c.description)):
        rows = [{"offer_id": row.id, "term": term} for term in sorted(terms(row.title, row.summary, row.description))]
        if rows:
            connection.execute(offer_terms.insert(), rows)
    if op.get_bind().dialect.name == "sqlite":  # not by copying the table, which foreign keys forbid
        op.execute("ALTER TABLE offers DROP COLUMN search_document")
    else:
        with op.batch_alter_table('offers', schema=None) as batch_op:
            batch_op.drop_column('search_document')


def downgrade() -> None:
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_document', sa.Text(), nullable=False, server_default=' '))
    with op.batch_alter_table('offer_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_terms_term'))
    op.drop_table('offer_terms')
