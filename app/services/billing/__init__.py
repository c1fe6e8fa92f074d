"""Money's verbs: take a payment with a numbered receipt, draw on a tenant's deposit, prepay
and reconcile an errand, post an owner's slip to the monthly account, run month end, void a
receipt, refund a deposit, count the day's cash.

Only the cashier records money (the supervisor reviews account entries). Every slip's money
step goes through `app.services.slips.act`, so the slip's state and its money never
disagree, and two cashiers taking payment for the same slip cannot both succeed. Services
flush; the view commits.

One module per thing the office calls by its name: receipts, settling (what a slip owes),
the till, errands, the monthly account, deposits and refunds, statements (month end), voids,
the cash day, a unit's account. Callers use `from app.services import billing` and the
names below.
"""
from app.services.billing.cash_day import (  # noqa: F401
    DayReport,
    count_cash,
    day_report,
    parse_day,
)
from app.services.billing.deposits import (  # noqa: F401
    decide_refund,
    deposit_available,
    deposit_balance,
    deposit_balances,
    deposit_history,
    deposits_available,
    pay_refund,
    refunds,
    request_refund,
    shortfalls,
    top_up,
)
from app.services.billing.errands import (  # noqa: F401
    PREPAY_STATES,
    needs_prepayment,
    not_prepaid,
    prepay_errand,
    settle_errand,
)
from app.services.billing.monthly_account import (  # noqa: F401
    close,
    entries_to_review,
    reverse_entry,
    review_entry,
)
from app.services.billing.receipts import (  # noqa: F401
    MONEY_METHODS,
    RECEIPT_NUMBER,
    money,
    receipt,
    receipt_number,
)
from app.services.billing.settling import (  # noqa: F401
    ERRAND_KINDS,
    check_route,
    errand_cost_fen,
    errand_prepayment_fen,
    owed_fen,
    prepaid_by_slip,
    prepaid_fen,
    routes_for,
)
from app.services.billing.statements import (  # noqa: F401
    MONTH,
    made_by_other_runs,
    month_statements,
    parse_month,
    pay_statement,
    recent_runs,
    run_step,
    start_month_end,
    statement_due_fen,
    statement_dues,
    statement_of,
    statement_paid_fen,
)
from app.services.billing.till import (  # noqa: F401
    QueueRow,
    draw_from_deposit,
    queue,
    take_payment,
    till_step,
)
from app.services.billing.unit_account import (  # noqa: F401
    UnitAccount,
    correction_counts,
    entry_reversals,
    month_days,
    reversals,
    slip_records,
    unit_account,
    unit_by_key,
)
from app.services.billing.voids import (  # noqa: F401
    void,
    void_refusal,
)
from app.services.billing.waivers import (  # noqa: F401
    waive,
    waivers,
)
