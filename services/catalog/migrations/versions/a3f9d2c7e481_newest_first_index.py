"""newest first: the published-at index ends with the offer's id, the tie-breaker of every order by publication

Searches sort by publication time and then by id, both descending, which this index gives in its order read
backwards: a page of the newest offers matching a filter is the first matches met, and no sort of every offer
published at the same time (as after an import) is left to do.

Revision ID: a3f9d2c7e481
Revises: e7b4c1d9a352
Create Date: 2026-11-29 16:20:00
"""

from alembic import op

revision = 'a3f9d2c7e481'
down_revision = 'e7b4c1d9a352'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_offers_status_published_at', table_name='offers')
    op.create_index('ix_offers_status_published_at', 'offers', ['status', 'published_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_offers_status_published_at', table_name='offers')
    op.create_index('ix_offers_status_published_at', 'offers', ['status', 'published_at'])
