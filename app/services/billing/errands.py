"""Errands (代办): prepaid before the worker goes out (fee and purchase money), reconciled
when they are back (the balance collected or the change given back)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.domain.errors import Conflict, DomainError
from app.domain.settlement import PREPAY_STATES
from app.domain.slip_states import Action
from app.models.billing import (
    Method,
    Payment,
    PaymentKind,
)
from app.models.slips import Slip
from app.models.users import User
from app.services.billing.receipts import (
    _amount,
    _cashier,
    _method,
    _record,
    _resent,
    money,
)
from app.services.billing.settling import (
    _can_settle,
    _settle,
    errand_prepayment_fen,
    owed_fen,
    prepaid_fen,
)
from app.services.slip_money import needs_prepayment, not_prepaid  # noqa: F401
from app.services.slips import act

# ---- errands (代办) ------------------------------------------------------------------------

def prepay_errand(slip: Slip, cashier: User, method: str | Method, amount_fen: int | None, *,
                  payer_name: str = "", note: str = "", expected_version: int | None = None,
                  request_key: str | None = None) -> Payment:
    """An errand is paid before the worker goes out: the quoted fee plus the purchase money."""
    done = _resent(request_key, slip_id=slip.id)
    if done is not None:
        return done
    _cashier(cashier)
    m = _method(method)
    if not slip.errand:
        raise DomainError(_l("Slip %(number)s is not an errand.", number=slip.number))
    if slip.state not in PREPAY_STATES:
        raise DomainError(_l("Slip %(number)s is already on its way: it was prepaid before "
                             "dispatch.", number=slip.number))
    if prepaid_fen(slip) > 0:
        raise Conflict(_l("Slip %(number)s is already prepaid.", number=slip.number))
    due = errand_prepayment_fen(slip)
    amount = _amount(amount_fen)
    if amount < due:
        raise DomainError(_l("An errand is prepaid in full: %(due)s (fee and purchase "
                             "money).", due=money(due)), "amount")
    if amount > due and not note.strip():
        raise DomainError(_l("That is more than the %(owed)s owed: give the reason in the "
                             "note.", owed=money(due)), "note")
    holder: dict[str, Payment] = {}

    def effect(s: Slip) -> dict:
        holder["p"] = _record(PaymentKind.ERRAND_PREPAY, m, amount, s.unit, cashier, slip=s,
                              payer_name=payer_name or s.contact_name, note=note,
                              request_key=request_key)
        return {"receipt": holder["p"].number, "amount_fen": amount}

    # act's version check: one prepayment, however many tills at the same moment
    act(slip, Action.PREPAY, cashier, expected_version=expected_version, effect=effect)
    return holder["p"]


def settle_errand(slip: Slip, cashier: User, method: str | Method, *, payer_name: str = "",
                  expected_version: int | None = None,
                  request_key: str | None = None) -> Payment | None:
    """The errand is back: what it cost against what was prepaid. Change is given back, or
    the difference collected, each with its own receipt; the slip is settled. Returns the
    receipt (None when the prepayment was exact)."""
    done = _resent(request_key, slip_id=slip.id)
    if done is not None:
        return done
    _cashier(cashier)
    _can_settle(slip)
    if slip.purchase_spent_fen is None:
        raise DomainError(_l("The worker has not recorded what the purchases cost."))
    diff = owed_fen(slip)
    if diff == 0:
        def effect(s: Slip) -> dict:
            return {"amount_fen": 0}
        act(slip, Action.SETTLE, cashier, expected_version=expected_version, effect=effect)
        return None
    if diff > 0:
        m = _method(method)
        return _settle(slip, cashier, PaymentKind.ERRAND_BALANCE, m, diff,
                       payer_name=payer_name or slip.contact_name,
                       expected_version=expected_version, request_key=request_key)
    return _settle(slip, cashier, PaymentKind.ERRAND_CHANGE, Method.CASH, diff,
                   payer_name=payer_name or slip.contact_name,
                   expected_version=expected_version, request_key=request_key)
