"""check constraints: states, kinds, methods, routes and roles hold only their allowed
values, and money its sign (a payment's follows its kind; amounts and counts are never negative)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

Read and edited by hand. The values are those of this revision, written out: a later change
to a list is a migration of its own (tests/services/test_db_checks.py fails until it is).
SQLite adds a CHECK by rebuilding the table (batch mode; env.py keeps foreign keys off while
migrations run and checks them before commit); a rebuilt money table loses its triggers,
so the money guard is written again afterwards.
"""
from alembic import op

from app.models import money_guard

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

CHECKS = {
    "cash_counts": [
        ("ck_cash_counts_counted_fen_not_negative",
         "counted_fen >= 0"),
    ],
    "price_lists": [
        ("ck_price_lists_status_allowed",
         "status IN ('draft', 'approved')"),
    ],
    "user_roles": [
        ("ck_user_roles_role_allowed",
         "role IN ('clerk', 'supervisor', 'worker', 'cashier', 'manager')"),
    ],
    "deposit_refunds": [
        ("ck_deposit_refunds_amount_positive",
         "amount_fen > 0"),
        ("ck_deposit_refunds_state_allowed",
         "state IN ('pending', 'approved', 'rejected', 'paid')"),
    ],
    "price_items": [
        ("ck_price_items_department_allowed",
         "department IN ('repair', 'cleaning', 'housekeeping', 'errands')"),
        ("ck_price_items_price_max_fen_not_negative",
         "price_max_fen >= 0"),
        ("ck_price_items_price_min_fen_not_negative",
         "price_min_fen >= 0"),
        ("ck_price_items_price_range",
         "price_min_fen IS NULL OR price_max_fen IS NULL OR price_min_fen <= price_max_fen"),
    ],
    "residents": [
        ("ck_residents_kind_allowed",
         "kind IN ('owner', 'tenant')"),
    ],
    "reception_entries": [
        ("ck_reception_entries_channel_allowed",
         "channel IN ('phone', 'walk_in', 'other')"),
        ("ck_reception_entries_kind_allowed",
         "kind IN ('enquiry', 'free_repair', 'paid', 'complaint')"),
    ],
    "slips": [
        ("ck_slips_agreed_total_fen_not_negative",
         "agreed_total_fen >= 0"),
        ("ck_slips_nobody_home_count_not_negative",
         "nobody_home_count >= 0"),
        ("ck_slips_pay_route_allowed",
         "pay_route IN ('pay_now', 'on_account', 'deposit')"),
        ("ck_slips_purchase_fen_not_negative",
         "purchase_fen >= 0"),
        ("ck_slips_purchase_spent_fen_not_negative",
         "purchase_spent_fen >= 0"),
        ("ck_slips_quoted_total_fen_not_negative",
         "quoted_total_fen >= 0"),
        ("ck_slips_state_allowed",
         "state IN ('registered', 'dispatched', 'accepted', 'on_site', 'awaiting_price', "
          "'in_progress', 'completed', 'handed_back', 'nobody_home', 'cancelled', "
          "'disputed', 'settled', 'on_account', 'closed')"),
    ],
    "account_entries": [
        ("ck_account_entries_amount_sign",
         "(reverses_id IS NULL AND amount_fen > 0) OR (reverses_id IS NOT NULL AND "
          "amount_fen < 0)"),
    ],
    "payments": [
        ("ck_payments_amount_sign",
         "(kind IN ('slip', 'errand_prepay', 'errand_balance', 'statement', "
          "'deposit_topup') AND amount_fen > 0) OR (kind IN ('errand_change', "
          "'deposit_refund') AND amount_fen < 0) OR (kind = 'reversal' AND amount_fen <> 0)"),
        ("ck_payments_kind_allowed",
         "kind IN ('slip', 'errand_prepay', 'errand_balance', 'errand_change', "
          "'statement', 'deposit_topup', 'deposit_refund', 'reversal')"),
        ("ck_payments_method_allowed",
         "method IN ('cash', 'card', 'bank_transfer', 'wechat', 'alipay', 'deposit')"),
        ("ck_payments_reversal",
         "(kind = 'reversal' AND reverses_id IS NOT NULL AND number IS NULL) OR (kind <> "
          "'reversal' AND reverses_id IS NULL AND number IS NOT NULL)"),
    ],
    "slip_events": [
        ("ck_slip_events_from_state_allowed",
         "from_state IN ('registered', 'dispatched', 'accepted', 'on_site', "
          "'awaiting_price', 'in_progress', 'completed', 'handed_back', 'nobody_home', "
          "'cancelled', 'disputed', 'settled', 'on_account', 'closed')"),
        ("ck_slip_events_to_state_allowed",
         "to_state IN ('registered', 'dispatched', 'accepted', 'on_site', "
          "'awaiting_price', 'in_progress', 'completed', 'handed_back', 'nobody_home', "
          "'cancelled', 'disputed', 'settled', 'on_account', 'closed')"),
    ],
    "slip_lines": [
        ("ck_slip_lines_final_price_fen_not_negative",
         "final_price_fen >= 0"),
        ("ck_slip_lines_list_max_fen_not_negative",
         "list_max_fen >= 0"),
        ("ck_slip_lines_list_min_fen_not_negative",
         "list_min_fen >= 0"),
        ("ck_slip_lines_quantity_positive",
         "quantity > 0"),
        ("ck_slip_lines_unit_price_fen_not_negative",
         "unit_price_fen >= 0"),
    ],
    "slip_photos": [
        ("ck_slip_photos_kind_allowed",
         "kind IN ('before', 'after', 'damage')"),
        ("ck_slip_photos_size_not_negative",
         "size >= 0"),
    ],
}


def upgrade():
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        money_guard.remove(bind)
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, recreate="auto") as batch_op:
            for name, condition in checks:
                batch_op.create_check_constraint(op.f(name), condition)
    if sqlite:
        money_guard.install(bind)


def downgrade():
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        money_guard.remove(bind)
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, recreate="auto") as batch_op:
            for name, _condition in checks:
                batch_op.drop_constraint(op.f(name), type_="check")
    if sqlite:
        money_guard.install(bind)
