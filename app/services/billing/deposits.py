"""Tenants' deposits (预交) and their refunds: top-ups, the balance (less what a pending
refund has promised), the manager's decision and the payout."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.domain import settlement
from app.domain.errors import Conflict, DomainError
from app.domain.permissions import Perm, allowed
from app.domain.slip_states import State
from app.extensions import db
from app.models.billing import (
    DepositRefund,
    Method,
    Payment,
    PaymentKind,
    PayRoute,
    RefundState,
)
from app.models.property import Unit
from app.models.slips import Slip
from app.models.users import User
from app.services import clock, live
from app.services.audit import record
from app.services.billing.receipts import (
    _amount,
    _cashier,
    _method,
    _record,
    _resent,
    money,
)

# ---- tenants' deposits (预交) ----------------------------------------------------------------

def _lock_deposit(unit: Unit) -> None:
    """Hold the unit's deposit until commit before reading its balance, so two draws (or a
    draw and a refund) at the same moment cannot both spend the same money. An UPDATE that
    changes nothing: a row lock on PostgreSQL, the database's write lock on SQLite."""
    db.session.execute(update(Unit).where(Unit.id == unit.id).values(note=Unit.note)
                       .execution_options(synchronize_session=False))


def deposit_balance(unit: Unit) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(Payment.deposit_fen), 0))
                             .where(Payment.unit_id == unit.id)) or 0


def deposit_balances(unit_ids: Iterable[int]) -> dict[int, int]:
    """`deposit_balance` for many units in one query: unit id -> fen, for every id asked."""
    ids = set(unit_ids)
    if not ids:
        return {}
    held = dict(db.session.execute(
        select(Payment.unit_id, func.sum(Payment.deposit_fen)).where(Payment.unit_id.in_(ids))
        .group_by(Payment.unit_id)).all())
    return {unit_id: held.get(unit_id) or 0 for unit_id in ids}


def _promised_fen(unit_ids: set[int]) -> dict[int, int]:
    """Refunds waiting for the manager, or approved and not yet paid out: unit id -> fen."""
    return dict(db.session.execute(
        select(DepositRefund.unit_id, func.sum(DepositRefund.amount_fen))
        .where(DepositRefund.unit_id.in_(unit_ids),
               DepositRefund.state.in_([RefundState.PENDING.value, RefundState.APPROVED.value]))
        .group_by(DepositRefund.unit_id)).all())


def deposit_available(unit: Unit) -> int:
    """What the unit's deposit can pay now (settlement.deposit_available)."""
    return settlement.deposit_available(deposit_balance(unit), _pending_refunds_fen(unit))


def deposits_available(unit_ids: Iterable[int]) -> dict[int, int]:
    """`deposit_available` for many units: unit id -> fen, for every id asked."""
    ids = set(unit_ids)
    balances, promised = deposit_balances(ids), _promised_fen(ids)
    return {u: settlement.deposit_available(balances[u], promised.get(u) or 0) for u in ids}


def deposit_history(unit: Unit) -> list[Payment]:
    return list(db.session.scalars(select(Payment).where(Payment.unit_id == unit.id,
                                                         Payment.deposit_fen != 0)
                                   .order_by(Payment.id.desc())))


def top_up(unit: Unit, cashier: User, method: str | Method, amount_fen: int | None, *,
           payer_name: str = "", note: str = "", request_key: str | None = None) -> Payment:
    """Money into a tenant's deposit, with a receipt."""
    done = _resent(request_key, unit_id=unit.id, kind=PaymentKind.TOPUP.value)
    if done is not None:
        return done
    _cashier(cashier)
    m = _method(method)
    amount = _amount(amount_fen)
    return _record(PaymentKind.TOPUP, m, amount, unit, cashier, deposit_fen=amount,
                   payer_name=payer_name, note=note, request_key=request_key)


def _pending_refunds_fen(unit: Unit) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(DepositRefund.amount_fen), 0)).where(
        DepositRefund.unit_id == unit.id,
        DepositRefund.state.in_([RefundState.PENDING.value, RefundState.APPROVED.value]))) or 0


def request_refund(unit: Unit, cashier: User, amount_fen: int | None, reason: str
                   ) -> DepositRefund:
    """Ask the manager to pay deposit money back. Raises DomainError."""
    _cashier(cashier)
    amount = _amount(amount_fen)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give a reason."), "reason")
    _lock_deposit(unit)
    available = deposit_available(unit)
    if amount > available:
        raise DomainError(_l("The refund is above the deposit's %(balance)s available.",
                             balance=money(max(available, 0))), "amount")
    refund = DepositRefund(unit=unit, amount_fen=amount, reason=reason[:300],
                           requested_by=cashier)
    db.session.add(refund)
    db.session.flush()
    record("deposit.refund_request", "deposit_refund", refund.id, unit.label,
           actor_id=cashier.id, after={"amount_fen": amount, "reason": reason})
    live.changed()
    return refund


def decide_refund(refund: DepositRefund, manager: User, approve: bool, note: str = "", *,
                  expected_version: int | None = None) -> DepositRefund:
    """The manager approves or refuses a refund the cashier asked for."""
    if not allowed(manager.roles, Perm.REFUND_APPROVE):
        raise DomainError(_l("Only the manager approves a refund."))
    if expected_version is not None and expected_version != refund.version:
        raise Conflict(_l("This refund changed since you opened it. Look at it again."))
    if refund.state != RefundState.PENDING:
        raise Conflict(_l("This refund was already decided."))
    if not approve and not (note or "").strip():
        raise DomainError(_l("Give a reason."), "note")
    refund.state = (RefundState.APPROVED if approve else RefundState.REJECTED).value
    refund.decided_by, refund.decided_at = manager, clock.now()
    refund.decision_note = (note or "").strip()[:300]
    _flush_versioned(_l("Someone else decided this refund at the same moment."))
    record("deposit.refund_" + ("approve" if approve else "reject"), "deposit_refund",
           refund.id, refund.unit.label, actor_id=manager.id,
           after={"amount_fen": refund.amount_fen, "note": refund.decision_note})
    live.changed()
    return refund


def pay_refund(refund: DepositRefund, cashier: User, method: str | Method, *,
               request_key: str | None = None) -> Payment:
    """Pay out an approved refund: money leaves the deposit, with a numbered voucher."""
    done = _resent(request_key, refund_id=refund.id)
    if done is not None:
        return done
    _cashier(cashier)
    m = _method(method)
    if refund.state != RefundState.APPROVED:
        raise Conflict(_l("Only an approved refund is paid out."))
    _lock_deposit(refund.unit)
    if refund.amount_fen > deposit_balance(refund.unit):
        raise DomainError(_l("The refund is above the deposit's %(balance)s available.",
                             balance=money(deposit_balance(refund.unit))), "amount")
    refund.state = RefundState.PAID.value
    _flush_versioned(_l("Someone else paid this refund at the same moment."))
    return _record(PaymentKind.REFUND, m, -refund.amount_fen, refund.unit, cashier,
                   refund=refund, deposit_fen=-refund.amount_fen, note=refund.reason,
                   request_key=request_key)


def _flush_versioned(message) -> None:
    try:
        db.session.flush()
    except StaleDataError:
        raise Conflict(message) from None


_REFUND_PEOPLE = (selectinload(DepositRefund.requested_by),
                  selectinload(DepositRefund.decided_by))


def refunds(state: RefundState | None = None) -> list[DepositRefund]:
    """The latest 200 refunds (of one state, when given), newest first, with who asked and
    who decided."""
    query = select(DepositRefund).options(*_REFUND_PEOPLE).order_by(DepositRefund.id.desc())
    if state is not None:
        query = query.where(DepositRefund.state == state.value)
    return list(db.session.scalars(query.limit(200)))


def shortfalls(slips: Iterable[Slip]) -> dict[int, int]:
    """For tenants' slips drawn from a deposit: how much the deposit is short of covering the
    unit's unsettled slips (shown before dispatch, so a top-up is asked for in time). Money
    promised to a refund that is waiting or approved is not there to draw on."""
    units = {s.unit_id for s in slips if s.pay_route == PayRoute.DEPOSIT}
    if not units:
        return {}
    available = deposits_available(units)
    waiting = [s.value for s in State if s not in (State.SETTLED, State.ON_ACCOUNT,
                                                   State.CLOSED, State.CANCELLED)]
    open_slips = db.session.scalars(select(Slip).where(
        Slip.unit_id.in_(units), Slip.pay_route == PayRoute.DEPOSIT.value,
        Slip.state.in_(waiting))).unique().all()
    need: dict[int, int] = defaultdict(int)
    for s in open_slips:
        need[s.unit_id] += s.total_fen
    out = {}
    for s in slips:
        if s.pay_route == PayRoute.DEPOSIT and s.unit_id in units:
            short = settlement.deposit_short(need[s.unit_id], available[s.unit_id])
            if short > 0:
                out[s.id] = short
    return out
