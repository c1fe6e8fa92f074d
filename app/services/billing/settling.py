"""What a finished slip owes (fee, prepayment, purchases) and who pays it (the payer
route), and settling it: the payment recorded and the slip moved on in one step."""
from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased, selectinload

from app.domain.errors import Conflict, DomainError
from app.domain.slip_states import UNSETTLED, Action, State
from app.extensions import db
from app.models.billing import (
    Method,
    Payment,
    PaymentKind,
    PayRoute,
)
from app.models.property import Resident, ResidentKind
from app.models.slips import Slip
from app.models.users import User
from app.services.billing.receipts import _record
from app.services.slips import act

# ---- what a slip owes ---------------------------------------------------------------------

def _live_payments(slip: Slip) -> list[Payment]:
    """The slip's payments that stand (not reversals, not voided)."""
    rows = db.session.scalars(select(Payment).where(Payment.slip_id == slip.id)
                              .options(selectinload(Payment.reversed_by))
                              .order_by(Payment.id)).all()
    return [p for p in rows if p.kind != PaymentKind.REVERSAL and not p.void]


ERRAND_KINDS = (PaymentKind.ERRAND_PREPAY, PaymentKind.ERRAND_BALANCE, PaymentKind.ERRAND_CHANGE)


def prepaid_fen(slip: Slip) -> int:
    """What an errand's resident has paid so far, net of change given back."""
    return sum(p.amount_fen for p in _live_payments(slip) if p.kind in ERRAND_KINDS)


def prepaid_by_slip(slip_ids: Iterable[int]) -> dict[int, int]:
    """`prepaid_fen` for many errands in one query: slip id -> fen (absent: nothing paid)."""
    ids = set(slip_ids)
    if not ids:
        return {}
    reversal = aliased(Payment)
    return dict(db.session.execute(
        select(Payment.slip_id, func.sum(Payment.amount_fen))
        .where(Payment.slip_id.in_(ids), Payment.kind.in_([k.value for k in ERRAND_KINDS]),
               ~exists().where(reversal.reverses_id == Payment.id))
        .group_by(Payment.slip_id)).all())


def errand_prepayment_fen(slip: Slip) -> int:
    """What an errand costs up front: the quoted fee plus the purchase money."""
    return slip.total_fen + slip.purchase_fen


def errand_cost_fen(slip: Slip) -> int:
    """What an errand came to: the fee plus what the purchases really cost (the purchase
    money quoted, until the worker records what was spent)."""
    spent = slip.purchase_spent_fen if slip.purchase_spent_fen is not None \
        else slip.purchase_fen
    return slip.total_fen + spent


def owed_fen(slip: Slip, prepaid: int | None = None) -> int:
    """What the resident still owes on this slip (negative: change is due to them).

    An errand owes its agreed fee plus what the purchases cost, less what was prepaid
    (`prepaid`, when the caller already knows it, saves reading it again).
    """
    if slip.state in (State.SETTLED, State.ON_ACCOUNT, State.CLOSED, State.CANCELLED):
        return 0
    if slip.errand:
        return errand_cost_fen(slip) - (prepaid_fen(slip) if prepaid is None else prepaid)
    return slip.total_fen


def default_route(resident: Resident | None) -> PayRoute:
    """Owners go on the monthly account, tenants draw on their deposit, anyone else pays."""
    if resident is None:
        return PayRoute.PAY_NOW
    return PayRoute.ON_ACCOUNT if resident.kind == ResidentKind.OWNER else PayRoute.DEPOSIT


def routes_for(slip: Slip) -> list[PayRoute]:
    """The routes the resident may choose at completion."""
    if slip.errand or slip.free or slip.resident is None:
        return [PayRoute.PAY_NOW]
    if slip.resident.kind == ResidentKind.OWNER:
        return [PayRoute.ON_ACCOUNT, PayRoute.PAY_NOW]
    return [PayRoute.DEPOSIT, PayRoute.PAY_NOW]


def check_route(slip: Slip, route: str | PayRoute | None) -> PayRoute:
    try:
        chosen = PayRoute(route or slip.pay_route)
    except ValueError:
        raise DomainError(_l("Choose how the resident pays."), "pay_route") from None
    if chosen not in routes_for(slip):
        if chosen == PayRoute.ON_ACCOUNT:
            raise DomainError(_l("Only an owner's services go on the monthly account."),
                              "pay_route")
        if chosen == PayRoute.DEPOSIT:
            raise DomainError(_l("Only a tenant's services are drawn from a deposit."),
                              "pay_route")
        raise DomainError(_l("Choose how the resident pays."), "pay_route")
    return chosen


def _can_settle(slip: Slip) -> None:
    if slip.state not in UNSETTLED:
        if slip.state in (State.SETTLED, State.ON_ACCOUNT, State.CLOSED):
            raise Conflict(_l("Slip %(number)s is already settled.", number=slip.number))
        raise DomainError(_l("Slip %(number)s is not finished yet: it is paid once the "
                             "resident has signed.", number=slip.number))


def _settle(slip: Slip, cashier: User, kind: PaymentKind, method: Method, amount: int, *,
            expected_version: int | None, deposit_fen: int = 0, payer_name: str = "",
            note: str = "", request_key: str | None = None) -> Payment:
    """Record the payment and move the slip to settled, in one step: the slip's version check
    makes a second cashier at the same moment fail (and their number is given back)."""
    holder: dict[str, Payment] = {}

    def effect(s: Slip) -> dict:
        payment = _record(kind, method, amount, s.unit, cashier, slip=s,
                          deposit_fen=deposit_fen, payer_name=payer_name, note=note,
                          request_key=request_key)
        holder["payment"] = payment
        return {"receipt": payment.number, "amount_fen": amount, "method": method.value}

    act(slip, Action.SETTLE, cashier, expected_version=expected_version, effect=effect)
    return holder["payment"]
