"""seat counts, stored waiting positions, cancellations

Seats per format move from two columns of sessions into session_seats, with the confirmed and waiting counts
kept there (filled from the bookings so far); bookings get their place in line, the price and cancellation
policy in force when booked, and the outcome of a cancellation.

Revision ID: 3c1f7d2a9b40
Revises: 88ff31662795
Create Date: 2026-11-28 16:40:00
"""

import json

import sqlalchemy as sa
from alembic import op

import shared.db

revision = '3c1f7d2a9b40'
down_revision = '88ff31662795'
branch_labels = None
depends_on = None

DEFAULT_POLICY = json.dumps([{"days_before": 14, "percent": 0}, {"days_before": 3, "percent": 50},
                             {"days_before": 0, "percent": 100}])


def upgrade() -> None:
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('price_cents', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=True))
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('location', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('link', sa.String(length=500), nullable=True))

    op.create_table('session_seats',
    sa.Column('session_id', sa.String(length=36), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('confirmed', sa.Integer(), nullable=False),
    sa.Column('waiting', sa.Integer(), nullable=False),
    sa.CheckConstraint('confirmed >= 0 AND confirmed <= capacity AND waiting >= 0', name='ck_session_seats_bounds'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.session_id'], ),
    sa.PrimaryKeyConstraint('session_id', 'format')
    )
    for format, column in (('online', 'seats_online'), ('in_person', 'seats_in_person')):
        op.execute(f"""
            INSERT INTO session_seats (session_id, format, capacity, confirmed, waiting)
            SELECT s.session_id, '{format}', s.{column},
                   (SELECT count(*) FROM bookings b WHERE b.session_id = s.session_id AND b.format = '{format}'
                    AND b.status = 'confirmed'),
                   (SELECT count(*) FROM bookings b WHERE b.session_id = s.session_id AND b.format = '{format}'
                    AND b.status = 'waitlisted')
            FROM sessions s
        """)
    # A native DROP COLUMN (SQLite 3.35+): a batch copy of sessions would delete it under its bookings' keys.
    op.execute("ALTER TABLE sessions DROP COLUMN seats_online")
    op.execute("ALTER TABLE sessions DROP COLUMN seats_in_person")

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waiting_position', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('price_cents', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('cancellation_policy', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('confirmed_at', shared.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('promoted_at', shared.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancelled_at', shared.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('fee_cents', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('refund_cents', sa.Integer(), nullable=True))
        batch_op.create_index('ix_bookings_waiting', ['session_id', 'format', 'waiting_position'], unique=False)
    bookings = sa.table('bookings', sa.column('cancellation_policy', sa.JSON()))
    op.execute(bookings.update().values(cancellation_policy=json.loads(DEFAULT_POLICY)))
    op.execute("UPDATE bookings SET confirmed_at = created_at WHERE status = 'confirmed'")
    # Places in line by arrival, as they were shown when each member joined.
    op.execute("""
        UPDATE bookings SET waiting_position = (
            SELECT count(*) FROM bookings earlier
            WHERE earlier.session_id = bookings.session_id AND earlier.format = bookings.format
              AND earlier.status = 'waitlisted'
              AND (earlier.created_at < bookings.created_at
                   OR (earlier.created_at = bookings.created_at AND earlier.id <= bookings.id)))
        WHERE status = 'waitlisted'
    """)
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.alter_column('cancellation_policy', existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('ix_bookings_waiting')
        for column in ('refund_cents', 'fee_cents', 'cancelled_at', 'promoted_at', 'confirmed_at',
                       'cancellation_policy', 'currency', 'price_cents', 'waiting_position'):
            batch_op.drop_column(column)
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seats_online', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('seats_in_person', sa.Integer(), nullable=False, server_default='0'))
    for format, column in (('online', 'seats_online'), ('in_person', 'seats_in_person')):
        op.execute(f"""
            UPDATE sessions SET {column} = (SELECT capacity FROM session_seats ss
                                            WHERE ss.session_id = sessions.session_id AND ss.format = '{format}')
            WHERE EXISTS (SELECT 1 FROM session_seats ss WHERE ss.session_id = sessions.session_id
                          AND ss.format = '{format}')
        """)
    op.drop_table('session_seats')
    op.execute("ALTER TABLE sessions DROP COLUMN link")
    op.execute("ALTER TABLE sessions DROP COLUMN location")
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_column('currency')
        batch_op.drop_column('price_cents')
