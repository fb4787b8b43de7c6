"""payments and payouts

Payments received for invoices (bank, credits, refunds); providers' monthly payout statements and the released-
account postings each one settled.

Revision ID: 6a4363e95f56
Revises: 7800fa894f02
Create Date: 2026-11-29 00:19:22.007459
"""

import sqlalchemy as sa
from alembic import op

import shared.db

revision = '6a4363e95f56'
down_revision = '7800fa894f02'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payouts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('provider_id', sa.String(length=36), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('credits_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('issued_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_cents >= 0 AND credits_cents >= 0', name='ck_payouts_not_negative'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('provider_id', 'period', name='uq_payouts_provider_period')
    )
    op.create_table('payments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('invoice_id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=140), nullable=True),
    sa.Column('recorded_by', sa.String(length=36), nullable=True),
    sa.Column('received_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_cents > 0', name='ck_payments_amount_positive'),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('payout_lines',
    sa.Column('posting_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('payout_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('invoice_id', sa.String(length=36), nullable=True),
    sa.Column('cents', sa.Integer(), nullable=False),
    sa.Column('occurred_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['payout_id'], ['payouts.id'], ),
    sa.ForeignKeyConstraint(['posting_id'], ['postings.id'], ),
    sa.PrimaryKeyConstraint('posting_id')
    )
    with op.batch_alter_table('payout_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_lines_payout_id'), ['payout_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('payout_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payout_lines_payout_id'))

    op.drop_table('payout_lines')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_invoice_id'))

    op.drop_table('payments')
    op.drop_table('payouts')
