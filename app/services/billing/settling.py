"""Settling a finished slip: the payment recorded and the slip moved on in one step.

What a slip owes and who pays it are rules of `app.domain.settlement`, read for a slip by
`app.services.slip_money`; the names are re-exported here for the money package's callers."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.domain.errors import Conflict, DomainError
from app.domain.settlement import errand_cost_fen, errand_prepayment_fen  # noqa: F401
from app.domain.slip_states import UNSETTLED, Action, State
from app.models.billing import Method, Payment, PaymentKind
from app.models.slips import Slip
from app.models.users import User
from app.services.billing.receipts import _record
from app.services.slip_money import (  # noqa: F401
    ERRAND_KINDS,
    check_route,
    owed_fen,
    prepaid_by_slip,
    prepaid_fen,
    routes_for,
)
from app.services.slips import act


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
