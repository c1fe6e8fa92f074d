"""Errands (代办): prepaid before the worker goes out (fee and purchase money), reconciled
when they are back (the balance collected or the change given back)."""
from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from app.domain.errors import Conflict, DomainError
from app.domain.slip_states import Action, State
from app.extensions import db
from app.models.billing import (
    Method,
    Payment,
    PaymentKind,
)
from app.models.slips import Slip
from app.models.users import User
from app.services import clock
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
    prepaid_by_slip,
    prepaid_fen,
)
from app.services.slips import _append, act

# ---- errands (代办) ------------------------------------------------------------------------

PREPAY_STATES = frozenset({State.REGISTERED, State.NOBODY_HOME})


def needs_prepayment(slip: Slip) -> bool:
    return slip.errand and slip.state in PREPAY_STATES and prepaid_fen(slip) <= 0


def not_prepaid(slips: Iterable[Slip]) -> set[int]:
    """`needs_prepayment` for many slips in one query: the ids of errands still to prepay."""
    waiting = [s for s in slips if s.errand and s.state in PREPAY_STATES]
    paid = prepaid_by_slip(s.id for s in waiting)
    return {s.id for s in waiting if paid.get(s.id, 0) <= 0}


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
    if expected_version is not None and expected_version != slip.version:
        raise Conflict(_l("Slip %(number)s changed since you opened it. Look at it again.",
                          number=slip.number))
    due = errand_prepayment_fen(slip)
    amount = _amount(amount_fen)
    if amount < due:
        raise DomainError(_l("An errand is prepaid in full: %(due)s (fee and purchase "
                             "money).", due=money(due)), "amount")
    if amount > due and not note.strip():
        raise DomainError(_l("That is more than the %(owed)s owed: give the reason in the "
                             "note.", owed=money(due)), "note")
    number = slip.number
    slip.updated_at = clock.now()  # the slip's version check: one prepayment, however many tills
    try:
        db.session.flush()
    except StaleDataError:
        raise Conflict(_l("Someone else changed slip %(number)s at the same moment. "
                          "Look at it again.", number=number)) from None
    payment = _record(PaymentKind.ERRAND_PREPAY, m, amount, slip.unit, cashier, slip=slip,
                      payer_name=payer_name or slip.contact_name, note=note,
                      request_key=request_key)
    _append(slip, "prepay", slip.state, State(slip.state), cashier.id, "",
            {"receipt": payment.number, "amount_fen": amount}, None)
    return payment


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


def check_dispatch(slip: Slip) -> None:
    """An errand goes out only prepaid. Raises DomainError."""
    if slip.errand and prepaid_fen(slip) <= 0:
        raise DomainError(_l("Errand %(number)s is not prepaid yet: the cashier takes the fee "
                             "and the purchase money before the worker goes out.",
                             number=slip.number), "worker_id")
