"""The till: taking a finished slip's payment (or drawing it from the tenant's deposit), and
the queue of slips waiting to be paid."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.domain import settlement
from app.domain.errors import DomainError
from app.domain.settlement import TILL_STEP_LABELS, TillStep
from app.domain.slip_states import UNSETTLED
from app.extensions import db
from app.models.billing import (
    Method,
    Payment,
    PaymentKind,
    PayRoute,
)
from app.models.property import Unit
from app.models.slips import Slip
from app.models.users import User
from app.services import slip_money
from app.services.billing.deposits import (
    _lock_deposit,
    deposit_available,
    deposits_available,
)
from app.services.billing.errands import PREPAY_STATES, settle_errand
from app.services.billing.receipts import _amount, _cashier, _method, _resent, money
from app.services.billing.settling import (
    _can_settle,
    _settle,
    errand_prepayment_fen,
    owed_fen,
    prepaid_by_slip,
    prepaid_fen,
)

# ---- settling a slip at the cashier -------------------------------------------------------

def take_payment(slip: Slip, cashier: User, method: str | Method, amount_fen: int | None, *,
                 payer_name: str = "", note: str = "", expected_version: int | None = None,
                 request_key: str | None = None) -> Payment:
    """The resident pays a finished slip at the cashier: one receipt, the slip is settled.

    The amount is what the slip owes; more only with a reason (the note). With the method
    `deposit` the money is drawn from the unit's prepaid deposit, which must cover it.
    An errand is reconciled instead (`settle_errand`). Raises DomainError / Conflict.
    """
    done = _resent(request_key, slip_id=slip.id)
    if done is not None:
        return done  # the same form sent twice: the first one stands
    _cashier(cashier)
    if slip.errand:
        return settle_errand(slip, cashier, method, payer_name=payer_name,
                             expected_version=expected_version, request_key=request_key)
    m = _method(method, deposit=True)
    _can_settle(slip)
    if slip_money.standing_entry(slip) is not None:
        raise DomainError(_l("Slip %(number)s is on the owner's monthly account; it is paid "
                             "with the month's statement.", number=slip.number))
    owed = owed_fen(slip)
    if owed <= 0:
        raise DomainError(_l("Slip %(number)s owes nothing.", number=slip.number))
    amount = _amount(amount_fen)
    if amount < owed:
        raise DomainError(_l("The slip owes %(owed)s: it is paid in full.", owed=money(owed)),
                          "amount")
    if amount > owed and not note.strip():
        raise DomainError(_l("That is more than the %(owed)s owed: give the reason in the "
                             "note.", owed=money(owed)), "note")
    deposit_fen = 0
    if m == Method.DEPOSIT:
        _lock_deposit(slip.unit)
        # What the deposit can pay: money promised to a pending refund is not drawn on.
        available = deposit_available(slip.unit)
        short = settlement.deposit_short(amount, available)
        if short:
            raise DomainError(_l("The deposit holds %(balance)s, %(short)s short: take a "
                                 "top-up first.", balance=money(max(available, 0)),
                                 short=money(short)), "method")
        deposit_fen = -amount
    return _settle(slip, cashier, PaymentKind.SLIP, m, amount, deposit_fen=deposit_fen,
                   payer_name=payer_name or slip.contact_name, note=note,
                   expected_version=expected_version, request_key=request_key)


def draw_from_deposit(slip: Slip, cashier: User, **kw) -> Payment:
    """A tenant's finished slip paid from their prepaid deposit (预交), with a receipt."""
    return take_payment(slip, cashier, Method.DEPOSIT, owed_fen(slip), **kw)


# ---- the cashier's screens ---------------------------------------------------------------

def till_step(slip: Slip) -> TillStep | None:
    """What the till does with this slip now (`settlement.till_step`), or None."""
    return settlement.till_step(slip, prepaid_fen(slip) if slip.errand else 0)


@dataclass
class QueueRow:
    slip: Slip
    owed_fen: int
    why: TillStep
    balance_fen: int | None = None   # what the unit's deposit can pay, for tenants
    prepaid_fen: int = 0             # what an errand back had prepaid

    @property
    def label(self):
        return TILL_STEP_LABELS[self.why]

    @property
    def button(self):
        return settlement.till_button(self.why, self.owed_fen)

    @property
    def from_deposit(self) -> bool:
        return self.why == TillStep.DEPOSIT

    @property
    def to_prepay(self) -> bool:
        return self.why == TillStep.ERRAND_PREPAY

    @property
    def errand_back(self) -> bool:
        return self.why == TillStep.ERRAND_RETURN

    @property
    def cost_fen(self) -> int:
        """What an errand back came to (its fee and what the purchases cost)."""
        return settlement.errand_cost_fen(self.slip) if self.slip.errand else 0

    @property
    def change_fen(self) -> int:
        """Change to give back to the resident (0 when none is due)."""
        return max(-self.owed_fen, 0)

    @property
    def short_fen(self) -> int:
        """What the deposit lacks for this slip (0 unless drawn from a deposit)."""
        if not self.from_deposit or self.balance_fen is None:
            return 0
        return settlement.deposit_short(self.owed_fen, self.balance_fen)

    @property
    def can_draw(self) -> bool:
        """The one-button draw from the deposit is offered: it covers the slip."""
        return self.from_deposit and self.short_fen == 0


def queue(unit: Unit | None = None) -> list[QueueRow]:
    """Slips waiting at the till (only `unit`'s, when given): finished and owed (paid now or
    from a deposit), errands to prepay before dispatch and errands back to reconcile. Oldest
    first. A fixed number of queries, however long the queue."""
    mine = (Slip.unit_id == unit.id,) if unit is not None else ()
    finished = db.session.scalars(
        select(Slip).where(Slip.state.in_([s.value for s in UNSETTLED]),
                           Slip.pay_route != PayRoute.ON_ACCOUNT.value, *mine)
        .order_by(Slip.completed_at, Slip.id)).unique().all()
    errands = db.session.scalars(
        select(Slip).where(Slip.errand.is_(True),
                           Slip.state.in_([s.value for s in PREPAY_STATES]), *mine)
        .order_by(Slip.id)).unique().all()
    prepaid = prepaid_by_slip([s.id for s in errands] + [s.id for s in finished if s.errand])
    balances = deposits_available(s.unit_id for s in finished
                                if not s.errand and s.pay_route == PayRoute.DEPOSIT)
    rows: list[QueueRow] = []
    for s in [*errands, *finished]:
        paid = prepaid.get(s.id, 0)
        step = settlement.till_step(s, paid)
        if step == TillStep.ERRAND_PREPAY:
            rows.append(QueueRow(s, errand_prepayment_fen(s), step))
        elif step == TillStep.ERRAND_RETURN:
            rows.append(QueueRow(s, owed_fen(s, paid), step, prepaid_fen=paid))
        elif step == TillStep.DEPOSIT:
            rows.append(QueueRow(s, s.total_fen, step, balances[s.unit_id]))
        elif step == TillStep.PAY:
            rows.append(QueueRow(s, s.total_fen, step))
    return rows
