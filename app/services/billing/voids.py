"""Voiding a receipt: a reversal payment of the opposite amount, the slip owed again."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

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
from app.services.billing.deposits import (
    _lock_deposit,
    deposit_available,
    deposit_balance,
)
from app.services.billing.errands import PREPAY_STATES
from app.services.billing.receipts import _cashier, _record, _resent
from app.services.billing.statements import _lock_statement
from app.services.slips import act

# ---- voiding a receipt -------------------------------------------------------------------

def void_refusal(payment: Payment) -> DomainError | None:
    """Why this receipt may not be voided now (None: it may): the one answer the receipt's
    page (which offers the void only then) and `void` give."""
    if payment.kind == PaymentKind.REVERSAL:
        return DomainError(_l("A reversal cannot be voided."))
    if payment.void:
        return Conflict(_l("Receipt %(number)s is already void.", number=payment.number))
    if payment.kind == PaymentKind.REFUND:
        return DomainError(_l("A refund paid out is not voided: take a top-up instead."))
    if payment.kind == PaymentKind.TOPUP and deposit_balance(payment.unit) < payment.amount_fen:
        return DomainError(_l("The deposit has already been drawn on: this top-up can no "
                              "longer be voided."))
    if payment.kind == PaymentKind.TOPUP and \
            deposit_available(payment.unit) < payment.amount_fen:
        return DomainError(_l("Part of this deposit is promised to a refund that waits for the "
                              "manager or the till: this top-up can no longer be voided."))
    slip = payment.slip
    if payment.kind == PaymentKind.ERRAND_PREPAY and slip is not None \
            and slip.state not in PREPAY_STATES | {State.CANCELLED}:
        return DomainError(_l("The errand is under way: its prepayment is settled when the "
                              "worker is back."))
    return None


def void(payment: Payment, cashier: User, reason: str, *,
         request_key: str | None = None) -> Payment:
    """Void a receipt: a reversal with the reason; the receipt keeps its number, marked void.

    A slip it paid is owed again. Raises DomainError / Conflict.
    """
    done = _resent(request_key, reverses_id=payment.id)
    if done is not None:
        return done
    _cashier(cashier)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give a reason."), "reason")
    if payment.kind == PaymentKind.TOPUP:
        _lock_deposit(payment.unit)  # a draw at the same moment waits for this answer
    refusal = void_refusal(payment)
    if refusal is not None:
        raise refusal
    slip = payment.slip
    holder: dict[str, Payment] = {}

    def reversal(s: Slip | None = None) -> dict:
        holder["p"] = _record(PaymentKind.REVERSAL, Method(payment.method), -payment.amount_fen,
                              payment.unit, cashier, slip=payment.slip,
                              statement=payment.statement, deposit_fen=-payment.deposit_fen,
                              payer_name=payment.payer_name, note=reason, numbered=False,
                              reverses=payment, request_key=request_key)
        return {"void": payment.number, "amount_fen": -payment.amount_fen}

    settled_by_it = payment.kind in (PaymentKind.SLIP, PaymentKind.ERRAND_BALANCE,
                                     PaymentKind.ERRAND_CHANGE)
    if slip is not None and settled_by_it and slip.state in (State.SETTLED, State.CLOSED):
        act(slip, Action.REVERSE, cashier, note=reason, effect=reversal)
    elif slip is not None:  # a prepayment given back: the slip's version check, one at a time
        act(slip, Action.VOID, cashier, note=reason, effect=reversal)
    else:
        if payment.statement is not None:
            _lock_statement(payment.statement)
        try:
            with db.session.begin_nested():
                reversal()
        except IntegrityError:
            raise Conflict(_l("Receipt %(number)s is already void.",
                              number=payment.number)) from None
    return holder["p"]
