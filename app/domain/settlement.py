"""How a finished slip is settled: who pays and how (the payer routes), what it owes, what an
errand costs up front, and what a tenant's deposit can pay.

Pure rules on plain values and on anything shaped like a slip (`SlipMoney`): the services read
the database and call these, so the board, the till, the phone and the paper agree.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from flask_babel import lazy_gettext as _l

from app.domain.errors import DomainError
from app.domain.residents import ResidentKind
from app.domain.slip_states import UNSETTLED, State


class PayRoute(StrEnum):
    """Who pays, and how (chosen at completion; the default follows the resident's kind)."""

    PAY_NOW = "pay_now"        # 现付: anyone pays at the cashier
    ON_ACCOUNT = "on_account"  # 记帐月结: an owner's monthly account
    DEPOSIT = "deposit"        # 预交: drawn from a tenant's prepaid deposit


class SlipMoney(Protocol):
    """What these rules read of a slip."""

    state: str
    errand: bool
    free: bool
    total_fen: int
    purchase_fen: int
    purchase_spent_fen: int | None
    pay_route: str


# Nothing more is owed in these states: the money is settled, or the slip was cancelled.
OWES_NOTHING = frozenset({State.SETTLED, State.ON_ACCOUNT, State.CLOSED, State.CANCELLED})
# An errand is prepaid while it waits for a worker, before it goes out.
PREPAY_STATES = frozenset({State.REGISTERED, State.NOBODY_HOME})


# ---- who pays --------------------------------------------------------------------------------

def default_route(resident_kind: str | None, *, errand: bool = False,
                  free: bool = False) -> PayRoute:
    """Owners go on the monthly account, tenants draw on their deposit, anyone else pays; an
    errand or a free job is always settled at the cashier."""
    if errand or free or resident_kind is None:
        return PayRoute.PAY_NOW
    return PayRoute.ON_ACCOUNT if resident_kind == ResidentKind.OWNER else PayRoute.DEPOSIT


def routes_for(slip: SlipMoney, resident_kind: str | None) -> list[PayRoute]:
    """The routes the resident may choose at completion, the default first."""
    first = default_route(resident_kind, errand=slip.errand, free=slip.free)
    return [first] if first == PayRoute.PAY_NOW else [first, PayRoute.PAY_NOW]


def check_route(slip: SlipMoney, resident_kind: str | None,
                route: str | PayRoute | None) -> PayRoute:
    """The route chosen at completion (none: the slip's own). Raises DomainError."""
    try:
        chosen = PayRoute(route or slip.pay_route)
    except ValueError:
        raise DomainError(_l("Choose how the resident pays."), "pay_route") from None
    if chosen not in routes_for(slip, resident_kind):
        if chosen == PayRoute.ON_ACCOUNT:
            raise DomainError(_l("Only an owner's services go on the monthly account."),
                              "pay_route")
        if chosen == PayRoute.DEPOSIT:
            raise DomainError(_l("Only a tenant's services are drawn from a deposit."),
                              "pay_route")
        raise DomainError(_l("Choose how the resident pays."), "pay_route")
    return chosen


# ---- what is owed ----------------------------------------------------------------------------

def prepayment_fen(fee_fen: int, purchase_fen: int) -> int:
    """What an errand costs up front: the quoted fee plus the purchase money."""
    return fee_fen + purchase_fen


def errand_prepayment_fen(slip: SlipMoney) -> int:
    """What this errand costs up front (`prepayment_fen` of its fee and purchase money)."""
    return prepayment_fen(slip.total_fen, slip.purchase_fen)


def errand_cost_fen(slip: SlipMoney) -> int:
    """What an errand came to: the fee plus what the purchases really cost (the purchase
    money quoted, until the worker records what was spent)."""
    spent = slip.purchase_spent_fen if slip.purchase_spent_fen is not None \
        else slip.purchase_fen
    return slip.total_fen + spent


def owed_fen(slip: SlipMoney, prepaid_fen: int) -> int:
    """What the resident still owes on this slip (negative: change is due to them): an errand
    its fee plus what the purchases cost, less what was prepaid; any other slip its total."""
    if slip.state in OWES_NOTHING:
        return 0
    if slip.errand:
        return errand_cost_fen(slip) - prepaid_fen
    return slip.total_fen


def nothing_to_collect(slip: SlipMoney) -> bool:
    """A slip whose money is settled by closing it: not an errand, and nothing charged."""
    return not slip.errand and slip.total_fen == 0


def waivable(slip: SlipMoney) -> bool:
    """A fee a supervisor may waive: something is charged, and it is not an errand (whose
    purchase money is the resident's own and is always settled at the cashier)."""
    return not slip.errand and slip.total_fen > 0


def posts_to_account(slip: SlipMoney) -> bool:
    """An owner's signed slip on the monthly account becomes an entry for the review."""
    return slip.pay_route == PayRoute.ON_ACCOUNT and slip.total_fen > 0


def needs_prepayment(slip: SlipMoney, prepaid_fen: int) -> bool:
    """An errand waiting for a worker that the cashier has not prepaid yet."""
    return slip.errand and slip.state in PREPAY_STATES and prepaid_fen <= 0


def may_go_out(slip: SlipMoney, prepaid_fen: int) -> bool:
    """An errand goes out only prepaid; any other slip at once."""
    return not slip.errand or prepaid_fen > 0


# ---- what the till does with a slip ---------------------------------------------------------

class TillStep(StrEnum):
    """Why a slip waits at the till, which decides what the cashier does with it."""

    PAY = "pay"                      # finished: paid now, with a receipt
    DEPOSIT = "deposit"              # finished: drawn from the tenant's deposit
    ERRAND_PREPAY = "errand_prepay"  # an errand to prepay before it goes out
    ERRAND_RETURN = "errand_return"  # an errand back: change given or the balance collected


TILL_STEP_LABELS = {
    TillStep.PAY: _l("Pay now"), TillStep.DEPOSIT: _l("From deposit"),
    TillStep.ERRAND_PREPAY: _l("Errand: prepay"), TillStep.ERRAND_RETURN: _l("Errand back"),
}


def till_step(slip: SlipMoney, prepaid_fen: int) -> TillStep | None:
    """What the cashier does with this slip now, or None when it does not wait at the till
    (not finished, on the monthly account, owing nothing, or an errand already prepaid)."""
    if slip.errand and slip.state in PREPAY_STATES:
        return TillStep.ERRAND_PREPAY if prepaid_fen <= 0 else None
    if slip.state not in UNSETTLED or slip.pay_route == PayRoute.ON_ACCOUNT:
        return None
    if slip.errand:
        return TillStep.ERRAND_RETURN
    if slip.total_fen <= 0:
        return None
    return TillStep.DEPOSIT if slip.pay_route == PayRoute.DEPOSIT else TillStep.PAY


def till_button(step: TillStep, owed_fen: int):
    """The words on the till's button for this slip."""
    if step == TillStep.ERRAND_PREPAY:
        return _l("Take prepayment")
    if step == TillStep.ERRAND_RETURN and owed_fen < 0:
        return _l("Give change")
    if step == TillStep.ERRAND_RETURN and owed_fen == 0:
        return _l("Settle")
    return _l("Take payment")


# ---- a tenant's deposit ----------------------------------------------------------------------

def deposit_available(balance_fen: int, promised_fen: int) -> int:
    """What a deposit can still pay: its balance less what refunds waiting for the manager,
    or approved and not yet paid out, have promised back to the tenant."""
    return balance_fen - promised_fen


def deposit_short(owed_fen: int, available_fen: int) -> int:
    """How much the deposit lacks to pay `owed_fen` (0 when it covers it): the one answer to
    "is the deposit short?" that the board, the till and the phone all show."""
    return max(owed_fen - available_fen, 0)
