"""money: payments with receipt numbers, owners' account entries and statements, month-end
runs, deposit refunds, cash counts; each slip's payer route and errand money

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Read and edited by hand: UTCDateTime is the app's own type; the new slip columns carry a
server default so a database with slips in it upgrades (its slips are paid at the office).
"""
import sqlalchemy as sa
from alembic import op

import app.models._types


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cash_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('cashier_id', sa.Integer(), nullable=False),
    sa.Column('counted_fen', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('at', app.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cashier_id'], ['users.id'], name=op.f('fk_cash_counts_cashier_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cash_counts'))
    )
    with op.batch_alter_table('cash_counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cash_counts_day'), ['day'], unique=False)

    op.create_table('statement_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=False),
    sa.Column('started_at', app.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', app.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('units_total', sa.Integer(), nullable=False),
    sa.Column('units_done', sa.Integer(), nullable=False),
    sa.Column('statements_made', sa.Integer(), nullable=False),
    sa.Column('total_fen', sa.Integer(), nullable=False),
    sa.Column('last_unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_statement_runs_started_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_runs'))
    )
    with op.batch_alter_table('statement_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_runs_month'), ['month'], unique=False)

    op.create_table('deposit_refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', app.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', app.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.String(length=300), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_deposit_refunds_decided_by_id_users')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_deposit_refunds_requested_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_deposit_refunds_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deposit_refunds'))
    )
    with op.batch_alter_table('deposit_refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deposit_refunds_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_deposit_refunds_unit_id'), ['unit_id'], unique=False)

    op.create_table('statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('total_fen', sa.Integer(), nullable=False),
    sa.Column('created_at', app.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_statements_created_by_id_users')),
    sa.ForeignKeyConstraint(['run_id'], ['statement_runs.id'], name=op.f('fk_statements_run_id_statement_runs')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_statements_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statements')),
    sa.UniqueConstraint('unit_id', 'month', name=op.f('uq_statements_unit_id_month'))
    )
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statements_month'), ['month'], unique=False)

    op.create_table('account_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('slip_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('signed_name', sa.String(length=40), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', app.models._types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('statement_id', sa.Integer(), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_account_entries_created_by_id_users')),
    sa.ForeignKeyConstraint(['reverses_id'], ['account_entries.id'], name=op.f('fk_account_entries_reverses_id_account_entries')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_account_entries_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['slip_id'], ['slips.id'], name=op.f('fk_account_entries_slip_id_slips')),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_account_entries_statement_id_statements')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_account_entries_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_entries')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_account_entries_reverses_id'))
    )
    with op.batch_alter_table('account_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_entries_month'), ['month'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_entries_slip_id'), ['slip_id'], unique=False)
        batch_op.create_index('ix_account_entries_unit_statement', ['unit_id', 'statement_id'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('deposit_fen', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('slip_id', sa.Integer(), nullable=True),
    sa.Column('statement_id', sa.Integer(), nullable=True),
    sa.Column('refund_id', sa.Integer(), nullable=True),
    sa.Column('payer_name', sa.String(length=40), nullable=False),
    sa.Column('cashier_id', sa.Integer(), nullable=False),
    sa.Column('at', app.models._types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('request_key', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['cashier_id'], ['users.id'], name=op.f('fk_payments_cashier_id_users')),
    sa.ForeignKeyConstraint(['refund_id'], ['deposit_refunds.id'], name=op.f('fk_payments_refund_id_deposit_refunds')),
    sa.ForeignKeyConstraint(['reverses_id'], ['payments.id'], name=op.f('fk_payments_reverses_id_payments')),
    sa.ForeignKeyConstraint(['slip_id'], ['slips.id'], name=op.f('fk_payments_slip_id_slips')),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_payments_statement_id_statements')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_payments_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('number', name=op.f('uq_payments_number')),
    sa.UniqueConstraint('request_key', name=op.f('uq_payments_request_key')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_payments_reverses_id'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index('ix_payments_at', ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_slip_id'), ['slip_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_statement_id'), ['statement_id'], unique=False)
        batch_op.create_index('ix_payments_unit_at', ['unit_id', 'at'], unique=False)

    with op.batch_alter_table('slips', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pay_route', sa.String(length=12), nullable=False,
                                      server_default='pay_now'))
        batch_op.add_column(sa.Column('errand', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('purchase_fen', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('purchase_spent_fen', sa.Integer(), nullable=True))



def downgrade():
    with op.batch_alter_table('slips', schema=None) as batch_op:
        batch_op.drop_column('purchase_spent_fen')
        batch_op.drop_column('purchase_fen')
        batch_op.drop_column('errand')
        batch_op.drop_column('pay_route')

    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_unit_at')
        batch_op.drop_index(batch_op.f('ix_payments_statement_id'))
        batch_op.drop_index(batch_op.f('ix_payments_slip_id'))
        batch_op.drop_index('ix_payments_at')

    op.drop_table('payments')
    with op.batch_alter_table('account_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_account_entries_unit_statement')
        batch_op.drop_index(batch_op.f('ix_account_entries_slip_id'))
        batch_op.drop_index(batch_op.f('ix_account_entries_month'))

    op.drop_table('account_entries')
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statements_month'))

    op.drop_table('statements')
    with op.batch_alter_table('deposit_refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deposit_refunds_unit_id'))
        batch_op.drop_index(batch_op.f('ix_deposit_refunds_state'))

    op.drop_table('deposit_refunds')
    with op.batch_alter_table('statement_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_runs_month'))

    op.drop_table('statement_runs')
    with op.batch_alter_table('cash_counts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cash_counts_day'))

    op.drop_table('cash_counts')
