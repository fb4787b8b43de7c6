"""policies, offer versions, credit notes, typed ledger

The default policy (70 / 20 / 10) becomes version 1, in force since 2000. Offers known from v1 events become
their first version. Invoices already issued keep what they were (no VAT, policy version 1), and their ledger
lines, kept with the account in a string, are posted again as transfers between typed accounts.

Revision ID: 7800fa894f02
Revises: d9511007dcd2
Create Date: 2026-11-28 20:03:23.270346
"""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import shared.db


revision = '7800fa894f02'
down_revision = 'd9511007dcd2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('owner', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'owner', name='uq_accounts_kind_owner')
    )
    op.create_table('held_sessions',
    sa.Column('session_id', sa.String(length=36), nullable=False),
    sa.Column('recorded_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('session_id')
    )
    op.create_table('members',
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=True),
    sa.Column('updated_at', shared.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', shared.db.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('member_id')
    )
    op.create_table('offer_versions',
    sa.Column('offer_id', sa.String(length=36), nullable=False),
    sa.Column('effective_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('event_version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('vat_rate', sa.Integer(), nullable=False),
    sa.Column('providers', sa.JSON(), nullable=False),
    sa.Column('area', sa.String(length=60), nullable=True),
    sa.Column('region', sa.String(length=10), nullable=True),
    sa.PrimaryKeyConstraint('offer_id', 'effective_at')
    )
    op.create_table('posting_sets',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('cause', sa.String(length=120), nullable=False),
    sa.Column('created_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('revenue_policies',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('provider_bp', sa.Integer(), nullable=False),
    sa.Column('academy_bp', sa.Integer(), nullable=False),
    sa.Column('community_fund_bp', sa.Integer(), nullable=False),
    sa.Column('effective_from', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=36), nullable=False),
    sa.CheckConstraint('provider_bp >= 0 AND academy_bp >= 0 AND community_fund_bp >= 0 AND provider_bp + academy_bp + community_fund_bp = 10000', name='ck_revenue_policies_whole'),
    sa.PrimaryKeyConstraint('version')
    )
    op.create_table('credit_notes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('invoice_id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('total_cents', sa.Integer(), nullable=False),
    sa.Column('net_cents', sa.Integer(), nullable=False),
    sa.Column('vat_cents', sa.Integer(), nullable=False),
    sa.Column('fee_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('shares', sa.JSON(), nullable=False),
    sa.Column('cancelled_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('issued_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('total_cents >= 0', name='ck_credit_notes_total_not_negative'),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('invoice_id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('credit_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_notes_member_id'), ['member_id'], unique=False)

    op.create_table('postings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('set_id', sa.String(length=36), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('set_kind', sa.String(length=20), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('debit_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('credit_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount_cents', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('invoice_id', sa.String(length=36), nullable=True),
    sa.Column('offer_id', sa.String(length=36), nullable=True),
    sa.Column('provider_id', sa.String(length=36), nullable=True),
    sa.Column('member_id', sa.String(length=36), nullable=True),
    sa.Column('format', sa.String(length=20), nullable=True),
    sa.Column('area', sa.String(length=60), nullable=True),
    sa.Column('region', sa.String(length=10), nullable=True),
    sa.Column('occurred_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.CheckConstraint('amount_cents > 0 AND debit_account_id <> credit_account_id', name='ck_postings_transfer'),
    sa.ForeignKeyConstraint(['credit_account_id'], ['accounts.id'], ),
    sa.ForeignKeyConstraint(['debit_account_id'], ['accounts.id'], ),
    sa.ForeignKeyConstraint(['set_id'], ['posting_sets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('set_id', 'line', name='uq_postings_set_line')
    )
    with op.batch_alter_table('postings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_postings_credit_account_id'), ['credit_account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_postings_debit_account_id'), ['debit_account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_postings_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_index('ix_postings_report', ['day', 'set_kind', 'purpose'], unique=False)

    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('buyer_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('seller', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('format', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('net_cents', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('vat_cents', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('vat_rate', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('policy_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('policy_shares', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('providers', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('shares', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('area', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('region', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('booked_at', shared.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_invoices_session_id'), ['session_id'], unique=False)

    _carry_over(op.get_bind())
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entries_account'))
        batch_op.drop_index(batch_op.f('ix_ledger_entries_invoice_id'))

    op.drop_table('ledger_entries')
    op.drop_table('offers')


# Frozen copies of what the code did at this revision (a migration must not change when the code does).
SINCE = datetime(2000, 1, 1, tzinfo=UTC)
SET_NAMESPACE = uuid.UUID("6f1d2b0e-9a41-4c3e-8f57-2d9b1c7a0e11")
OLD_ACCOUNTS = {"academy_revenue": ("academy", "academy_revenue", ""),
                "community_fund": ("community_fund", "community_fund", "")}


def _table(name, *columns):
    return sa.table(name, *(sa.column(column, kind) for column, kind in columns))


def _carry_over(bind) -> None:
    now = datetime.now(UTC)
    when = shared.db.UtcDateTime()
    policies = _table("revenue_policies", ("version", sa.Integer), ("provider_bp", sa.Integer),
                      ("academy_bp", sa.Integer), ("community_fund_bp", sa.Integer), ("effective_from", when),
                      ("created_at", when), ("created_by", sa.String))
    bind.execute(policies.insert().values(version=1, provider_bp=7000, academy_bp=2000, community_fund_bp=1000,
                                          effective_from=SINCE, created_at=now, created_by="migration"))
    versions = _table("offer_versions", ("offer_id", sa.String), ("effective_at", when), ("event_version", sa.Integer),
                      ("title", sa.String), ("price_cents", sa.Integer), ("currency", sa.String),
                      ("vat_rate", sa.Integer), ("providers", sa.JSON))
    for offer in bind.execute(sa.text("SELECT offer_id, provider_id, title, price_cents, currency FROM offers")):
        bind.execute(versions.insert().values(
            offer_id=offer.offer_id, effective_at=SINCE, event_version=1, title=offer.title,
            price_cents=offer.price_cents, currency=offer.currency, vat_rate=19, providers=[[offer.provider_id, 100]]))
    invoices = _table("invoices", ("id", sa.String), ("net_cents", sa.Integer), ("vat_cents", sa.Integer),
                      ("vat_rate", sa.Integer), ("policy_version", sa.Integer), ("policy_shares", sa.JSON),
                      ("providers", sa.JSON), ("shares", sa.JSON), ("booked_at", when))
    accounts = _table("accounts", ("id", sa.Integer), ("kind", sa.String), ("owner", sa.String))
    sets = _table("posting_sets", ("id", sa.String), ("kind", sa.String), ("cause", sa.String), ("created_at", when))
    postings = _table("postings", ("set_id", sa.String), ("line", sa.Integer), ("set_kind", sa.String),
                      ("purpose", sa.String), ("debit_account_id", sa.Integer), ("credit_account_id", sa.Integer),
                      ("amount_cents", sa.Integer), ("invoice_id", sa.String), ("offer_id", sa.String),
                      ("provider_id", sa.String), ("member_id", sa.String), ("occurred_at", when),
                      ("day", sa.Date), ("period", sa.String))
    account_ids = {}

    def account(kind, owner):
        if (kind, owner) not in account_ids:
            bind.execute(accounts.insert().values(kind=kind, owner=owner))
            account_ids[kind, owner] = bind.execute(sa.select(accounts.c.id).where(
                accounts.c.kind == kind, accounts.c.owner == owner)).scalar_one()
        return account_ids[kind, owner]

    issued = bind.execute(sa.select(sa.column("id"), sa.column("booking_id"), sa.column("member_id"),
                                    sa.column("offer_id"), sa.column("total_cents"),
                                    sa.column("issued_at", when)).select_from(sa.table("invoices"))).all()
    for invoice in issued:
        lines = bind.execute(sa.text("SELECT account, credit_cents FROM ledger_entries "
                                     "WHERE invoice_id = :id AND credit_cents > 0 ORDER BY account"),
                             {"id": invoice.id}).all()
        shares, providers = [], []
        for line in lines:
            if line.account.startswith("provider_payable:"):
                provider = line.account.partition(":")[2]
                providers.append([provider, 100])
                shares.append(("provider", "provider_pending", provider, line.credit_cents))
            else:
                purpose, kind, owner = OLD_ACCOUNTS[line.account]
                shares.append((purpose, kind, owner, line.credit_cents))
        lead = providers[0][0] if providers else ""
        bind.execute(invoices.update().where(invoices.c.id == invoice.id).values(
            net_cents=invoice.total_cents, vat_cents=0, vat_rate=0, policy_version=1,
            policy_shares={"provider": 7000, "academy": 2000, "community_fund": 1000}, providers=providers,
            shares=[{"purpose": purpose, "provider_id": lead, "cents": cents} for purpose, _, _, cents in shares],
            booked_at=invoice.issued_at))
        if not shares:
            continue
        set_id = str(uuid.uuid5(SET_NAMESPACE, f"invoice:{invoice.booking_id}"))
        bind.execute(sets.insert().values(id=set_id, kind="invoice", cause=f"invoice:{invoice.booking_id}",
                                          created_at=now))
        at = invoice.issued_at
        for number, (purpose, kind, owner, cents) in enumerate(shares, start=1):
            bind.execute(postings.insert().values(
                set_id=set_id, line=number, set_kind="invoice", purpose=purpose,
                debit_account_id=account("member_receivable", invoice.member_id),
                credit_account_id=account(kind, owner), amount_cents=cents, invoice_id=invoice.id,
                offer_id=invoice.offer_id, provider_id=lead or None, member_id=invoice.member_id, occurred_at=at,
                day=at.date(), period=at.strftime("%Y-%m")))


def downgrade() -> None:
    # The old shape comes back empty of what only the new one could hold (credit notes, VAT, versions).
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoices_session_id'))
        batch_op.drop_column('booked_at')
        batch_op.drop_column('region')
        batch_op.drop_column('area')
        batch_op.drop_column('shares')
        batch_op.drop_column('providers')
        batch_op.drop_column('policy_shares')
        batch_op.drop_column('policy_version')
        batch_op.drop_column('vat_rate')
        batch_op.drop_column('vat_cents')
        batch_op.drop_column('net_cents')
        batch_op.drop_column('format')
        batch_op.drop_column('seller')
        batch_op.drop_column('buyer_name')
        batch_op.drop_column('session_id')

    op.create_table('offers',
    sa.Column('offer_id', sa.VARCHAR(length=36), nullable=False),
    sa.Column('provider_id', sa.VARCHAR(length=36), nullable=False),
    sa.Column('title', sa.VARCHAR(length=200), nullable=False),
    sa.Column('price_cents', sa.INTEGER(), nullable=False),
    sa.Column('currency', sa.VARCHAR(length=3), nullable=False),
    sa.PrimaryKeyConstraint('offer_id')
    )
    op.create_table('ledger_entries',
    sa.Column('id', sa.VARCHAR(length=36), nullable=False),
    sa.Column('invoice_id', sa.VARCHAR(length=36), nullable=False),
    sa.Column('account', sa.VARCHAR(length=80), nullable=False),
    sa.Column('debit_cents', sa.INTEGER(), nullable=False),
    sa.Column('credit_cents', sa.INTEGER(), nullable=False),
    sa.Column('created_at', sa.DATETIME(), nullable=False),
    sa.CheckConstraint('debit_cents >= 0 AND credit_cents >= 0 AND (debit_cents = 0 OR credit_cents = 0)', name=op.f('ck_ledger_entries_one_side')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_entries_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_account'), ['account'], unique=False)

    with op.batch_alter_table('postings', schema=None) as batch_op:
        batch_op.drop_index('ix_postings_report')
        batch_op.drop_index(batch_op.f('ix_postings_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_postings_debit_account_id'))
        batch_op.drop_index(batch_op.f('ix_postings_credit_account_id'))

    op.drop_table('postings')
    with op.batch_alter_table('credit_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_notes_member_id'))

    op.drop_table('credit_notes')
    op.drop_table('revenue_policies')
    op.drop_table('posting_sets')
    op.drop_table('offer_versions')
    op.drop_table('members')
    op.drop_table('held_sessions')
    op.drop_table('accounts')
