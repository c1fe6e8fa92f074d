"""Money's verbs: take a payment with a numbered receipt, draw on a tenant's deposit, prepay
and reconcile an errand, post an owner's slip to the monthly account, run month end, void a
receipt, refund a deposit, count the day's cash.

Only the cashier records money (the supervisor reviews account entries). Every slip's money
step goes through `app.services.slips.act`, so the slip's state and its money never
disagree, and two cashiers taking payment for the same slip cannot both succeed. Services
flush; the view commits.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.domain.errors import Conflict, DomainError
from app.domain.money import MAX_FEN, format_yuan
from app.domain.roles import Role
from app.domain.slip_states import UNSETTLED, Action, State
from app.extensions import db
from app.models.billing import (
    AccountEntry,
    CashCount,
    DepositRefund,
    Method,
    Payment,
    PaymentKind,
    PayRoute,
    RefundState,
    Statement,
    StatementRun,
)
from app.models.property import Resident, ResidentKind, Unit
from app.models.slips import Slip
from app.models.users import User
from app.services import clock, live, races
from app.services.audit import record
from app.services.numbering import next_in_series
from app.services.slips import _append, act

MONEY_METHODS = (Method.CASH, Method.WECHAT, Method.ALIPAY, Method.CARD, Method.BANK)

def money(fen: int) -> str:
    return format_yuan(fen)


# ---- who may, and the numbers -------------------------------------------------------------

def _cashier(user: User) -> None:
    if Role.CASHIER.value not in user.roles:
        raise DomainError(_l("Only the cashier records money."))


def receipt_number(when: datetime | None = None) -> str:
    """The next receipt number, RC{YYYYMM}-{NNNN}, in the property's month of `when`."""
    month = clock.month_of(when).replace("-", "")
    series = f"RC{month}"
    return f"{series}-{next_in_series(series):04d}"


RECEIPT_NUMBER = re.compile(r"RC\d{6}-\d{4,6}")


def receipt(number: str) -> Payment | None:
    """The payment with this receipt number, or None (also for text that is not one)."""
    number = number.strip().upper()
    if not RECEIPT_NUMBER.fullmatch(number):
        return None
    # a statement's receipt lists its entries and their slips: read them with it, not one by one
    return db.session.scalar(select(Payment).where(Payment.number == number).options(
        selectinload(Payment.statement).selectinload(Statement.entries)
        .selectinload(AccountEntry.slip)))


def _amount(fen: int | None, field_name: str = "amount") -> int:
    if fen is None or fen <= 0:
        raise DomainError(_l("Enter an amount above zero."), field_name)
    if fen > MAX_FEN:
        raise DomainError(_l("That amount is too large."), field_name)
    return fen


def _method(method: str | Method, *, deposit: bool = False) -> Method:
    try:
        m = Method(method)
    except ValueError:
        raise DomainError(_l("Choose how the money was paid."), "method") from None
    if m == Method.DEPOSIT and not deposit:
        raise DomainError(_l("Choose how the money was paid."), "method")
    return m


def _existing(request_key: str | None) -> Payment | None:
    if not request_key:
        return None
    return db.session.scalar(select(Payment).where(Payment.request_key == request_key))


def _resent(request_key: str | None, **same) -> Payment | None:
    """The payment this form already made (the form sent twice: the first one stands), or
    None. A key that made a payment for something else is refused, never answered with it."""
    done = _existing(request_key)
    if done is None:
        return None
    if any(getattr(done, name) != value for name, value in same.items()):
        if "slip_id" in same:
            raise DomainError(_l("This request was already used for another slip."))
        raise DomainError(_l("This form was already used for another payment. Open it "
                             "again."))
    return done


def _record(kind: PaymentKind, method: Method, amount_fen: int, unit: Unit, cashier: User, *,
            slip: Slip | None = None, statement: Statement | None = None,
            refund: DepositRefund | None = None, deposit_fen: int = 0, payer_name: str = "",
            note: str = "", request_key: str | None = None, numbered: bool = True,
            reverses: Payment | None = None, at: datetime | None = None) -> Payment:
    at = at or clock.now()
    payment = Payment(number=receipt_number(at) if numbered else None, kind=kind.value,
                      method=method.value, amount_fen=amount_fen, deposit_fen=deposit_fen,
                      unit=unit, slip=slip, statement=statement,
                      refund_id=refund.id if refund else None,
                      payer_name=(payer_name or "").strip()[:40], cashier=cashier, at=at,
                      note=(note or "").strip()[:300], reverses=reverses,
                      request_key=request_key or None)
    db.session.add(payment)
    db.session.flush()
    record(f"payment.{kind.value}", "payment", payment.id, payment.number or "",
           actor_id=cashier.id,
           after={"amount_fen": amount_fen, "method": method.value,
                  "slip": slip.number if slip else None,
                  **({"reverses": reverses.number} if reverses else {})})
    live.changed()
    return payment


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


# ---- settling a slip at the cashier -------------------------------------------------------

def _standing_entry(slip: Slip) -> AccountEntry | None:
    """The slip's account entry that is not reversed, if any."""
    rows = db.session.scalars(select(AccountEntry).where(
        AccountEntry.slip_id == slip.id, AccountEntry.reverses_id.is_(None))
        .options(selectinload(AccountEntry.reversed_by))).all()
    return next((e for e in rows if not e.reversed), None)


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
    if _standing_entry(slip) is not None:
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
        balance = deposit_balance(slip.unit)
        if balance < amount:
            raise DomainError(_l("The deposit holds %(balance)s, %(short)s short: take a "
                                 "top-up first.", balance=money(balance),
                                 short=money(amount - balance)), "method")
        deposit_fen = -amount
    return _settle(slip, cashier, PaymentKind.SLIP, m, amount, deposit_fen=deposit_fen,
                   payer_name=payer_name or slip.contact_name, note=note,
                   expected_version=expected_version, request_key=request_key)


def draw_from_deposit(slip: Slip, cashier: User, **kw) -> Payment:
    """A tenant's finished slip paid from their prepaid deposit (预交), with a receipt."""
    return take_payment(slip, cashier, Method.DEPOSIT, owed_fen(slip), **kw)


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


# ---- after completion and hand-back (called by app.services.slips) -----------------------

def after_completion(slip: Slip, user: User) -> None:
    """The resident signed: an owner on account gets an entry waiting for the review."""
    if slip.pay_route != PayRoute.ON_ACCOUNT or slip.total_fen <= 0:
        return
    now = clock.now()
    entry = AccountEntry(unit=slip.unit, slip=slip, month=clock.month_of(now),
                         amount_fen=slip.total_fen, description=_describe(slip),
                         signed_name=slip.acceptance_name, created_by=user, created_at=now)
    db.session.add(entry)
    db.session.flush()
    record("account.entry", "account_entry", entry.id, slip.number, actor_id=user.id,
           after={"amount_fen": entry.amount_fen, "month": entry.month})


def _describe(slip: Slip) -> str:
    return "、".join(f"{line.name_zh}×{line.quantity}" for line in slip.lines)[:300]


def close_if_nothing_owed(slip: Slip, user: User) -> None:
    """A handed-back slip that owes nothing (a free job) closes at once."""
    if slip.state == State.HANDED_BACK and not slip.errand and slip.total_fen == 0:
        act(slip, Action.CLOSE, user)


def close(slip: Slip, user: User, **kw) -> Slip:
    """Close a handed-back slip. Only when nothing is owed: otherwise it is settled."""
    if slip.errand or slip.total_fen != 0:
        raise DomainError(_l("Slip %(number)s is closed by its payment or its reviewed "
                             "account entry.", number=slip.number))
    return act(slip, Action.CLOSE, user, **kw)


# ---- the owners' monthly account (记帐月结) -------------------------------------------------

def entries_to_review() -> list[AccountEntry]:
    """Entries the residents signed, waiting for the supervisor (not those reversed since:
    their slip is paid at the cashier instead)."""
    rows = db.session.scalars(
        select(AccountEntry).where(AccountEntry.reviewed_at.is_(None),
                                   AccountEntry.reverses_id.is_(None))
        .options(selectinload(AccountEntry.slip), selectinload(AccountEntry.reversed_by))
        .order_by(AccountEntry.id)).all()
    return [e for e in rows if not e.reversed]


def review_entry(entry: AccountEntry, supervisor: User, *,
                 expected_version: int | None = None) -> AccountEntry:
    """The supervisor checked the entry against the signed slip: it goes on the account."""
    if entry.reviewed_at is not None:
        raise Conflict(_l("This entry was already reviewed."))
    if entry.reversed or entry.reverses_id is not None:
        raise DomainError(_l("This entry was reversed."))

    def effect(s: Slip) -> dict:
        entry.reviewed_by, entry.reviewed_at = supervisor, clock.now()
        return {"entry": entry.id, "amount_fen": entry.amount_fen, "month": entry.month}

    act(entry.slip, Action.POST_TO_ACCOUNT, supervisor, expected_version=expected_version,
        effect=effect)
    return entry


def reverse_entry(entry: AccountEntry, user: User, reason: str) -> AccountEntry:
    """Correct an entry by another with the opposite amount (on the next statement); the slip
    is owed again and goes to the cashier's queue. Raises DomainError."""
    if Role.SUPERVISOR.value not in user.roles and Role.CASHIER.value not in user.roles:
        raise DomainError(_l("Only the supervisor or the cashier corrects an account entry."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Give a reason."), "note")
    if entry.reverses_id is not None:
        raise DomainError(_l("This entry is itself a reversal."))
    if entry.reversed:
        raise Conflict(_l("This entry was already reversed."))
    slip = entry.slip
    now = clock.now()
    # An entry never reviewed is never billed: neither is its reversal (the pair stays as
    # history). A reviewed one may be on a statement already: its reversal goes on the next.
    reviewed = entry.reviewed_at is not None
    undo = AccountEntry(unit=entry.unit, slip=slip, month=clock.month_of(now),
                        amount_fen=-entry.amount_fen, description=entry.description,
                        signed_name="", created_by=user, created_at=now,
                        reviewed_by=user if reviewed else None,
                        reviewed_at=now if reviewed else None, reverses=entry,
                        reason=reason[:300])
    db.session.add(undo)
    if slip.state in (State.ON_ACCOUNT, State.CLOSED):
        def effect(s: Slip) -> dict:
            s.pay_route = PayRoute.PAY_NOW.value
            return {"entry": entry.id, "amount_fen": -entry.amount_fen}
        act(slip, Action.REVERSE, user, note=reason, effect=effect)
    else:  # still waiting for review: the slip is simply paid at the cashier instead
        slip.pay_route = PayRoute.PAY_NOW.value
        slip.updated_at = now
    db.session.flush()
    record("account.reverse", "account_entry", entry.id, slip.number, actor_id=user.id,
           after={"amount_fen": -entry.amount_fen, "reason": reason})
    live.changed()
    return undo


MONTH = re.compile(r"(\d{4})-(\d{2})")


def parse_month(text: str | None, *, field_name: str = "month") -> str:
    """'2026-10' for a month that has begun, in the property's time zone. Raises DomainError."""
    m = MONTH.fullmatch((text or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 2000:
        raise DomainError(_l("Give the month as YYYY-MM."), field_name)
    today = clock.local_today()
    if (int(m.group(1)), int(m.group(2))) > (today.year, today.month):
        raise DomainError(_l("That month has not begun yet."), field_name)
    return m.group(0)


def _candidates(month: str, after_unit: int = 0):
    """Units with reviewed entries not yet on a statement, up to the month's end."""
    return (select(AccountEntry.unit_id)
            .where(AccountEntry.statement_id.is_(None), AccountEntry.reviewed_at.is_not(None),
                   AccountEntry.month <= month, AccountEntry.unit_id > after_unit)
            .group_by(AccountEntry.unit_id).order_by(AccountEntry.unit_id))


def start_month_end(month: str, cashier: User) -> StatementRun:
    """Begin (or carry on) the month's statements. Safe to run again: a unit gets at most one
    statement a month, and an entry goes on exactly one statement."""
    _cashier(cashier)
    month = parse_month(month)
    cashier_id = cashier.id
    made: list[StatementRun] = []

    def running() -> StatementRun | None:
        return db.session.scalar(select(StatementRun).where(
            StatementRun.month == month, StatementRun.finished_at.is_(None)))

    def start() -> StatementRun:
        total = db.session.scalar(select(func.count())
                                  .select_from(_candidates(month).subquery()))
        run = StatementRun(month=month, started_by_id=cashier_id, units_total=total or 0)
        db.session.add(run)
        made.append(run)
        return run

    # Started from many screens at once: the month's one open run (a unique index) is made
    # by the first; the others carry on with it.
    run = races.first_or_make(running, start)
    if made and run is made[-1]:
        record("statement.run", "statement_run", run.id, month, actor_id=cashier_id,
               after={"units": run.units_total})
    return run


def run_step(run: StatementRun, cashier: User, batch: int = 25) -> StatementRun:
    """Make the next few units' statements. The screen calls this until the run is finished.

    One step of a run at a time: the run's row is locked (on SQLite, the database's write
    lock is taken) and read again first, so two screens stepping the same run (two cashiers,
    a repeated request) carry on from each other instead of counting the same units twice."""
    _cashier(cashier)
    db.session.execute(update(StatementRun).where(StatementRun.id == run.id)
                       .values(last_unit_id=StatementRun.last_unit_id)
                       .execution_options(synchronize_session=False))
    db.session.refresh(run)
    if run.finished_at is not None:
        return run
    units = db.session.scalars(_candidates(run.month, run.last_unit_id).limit(batch)).all()
    for unit_id in units:
        made = _statement_for(unit_id, run, cashier)
        run.units_done += 1
        run.last_unit_id = unit_id
        if made is not None:
            run.statements_made += 1
            run.total_fen += made.total_fen
    if len(units) < batch:
        run.finished_at = clock.now()
        run.units_total = max(run.units_total, run.units_done)
        live.changed()
    db.session.flush()
    return run


def _statement_for(unit_id: int, run: StatementRun, cashier: User) -> Statement | None:
    """One unit's statement, or None when it already has one for the month (its newer
    entries then wait for the next month's): never billed twice."""
    exists = db.session.scalar(select(Statement.id).where(Statement.unit_id == unit_id,
                                                          Statement.month == run.month))
    if exists is not None:
        return None
    statement = Statement(unit_id=unit_id, month=run.month, total_fen=0, created_by=cashier,
                          run_id=run.id)
    try:
        with db.session.begin_nested():  # another run at the same moment made it: skip
            db.session.add(statement)
    except IntegrityError:
        return None
    # Stamp only entries still unbilled, in one statement: a run for another month at the same
    # moment may bill some of them first (then they are skipped here), never both.
    stamped = db.session.execute(
        update(AccountEntry).where(
            AccountEntry.unit_id == unit_id, AccountEntry.statement_id.is_(None),
            AccountEntry.reviewed_at.is_not(None), AccountEntry.month <= run.month)
        .values(statement_id=statement.id)
        .returning(AccountEntry.id, AccountEntry.amount_fen)
        .execution_options(synchronize_session=False)).all()
    if not stamped:  # another run billed them meanwhile: no empty statement
        db.session.delete(statement)
        db.session.flush()
        return None
    # entries already in the session learn their stamp (read back, not a change to flush)
    entries = db.session.scalars(select(AccountEntry).where(
        AccountEntry.id.in_([row.id for row in stamped]))
        .execution_options(populate_existing=True)).all()
    statement.total_fen = sum(row.amount_fen for row in stamped)
    db.session.flush()
    record("statement.issue", "statement", statement.id, run.month, actor_id=cashier.id,
           after={"unit_id": unit_id, "total_fen": statement.total_fen,
                  "entries": len(entries)})
    return statement


def statement_paid_fen(statement: Statement) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(Payment.amount_fen), 0))
                             .where(Payment.statement_id == statement.id)) or 0


def statement_due_fen(statement: Statement) -> int:
    return statement.total_fen - statement_paid_fen(statement)


def statement_dues(statements: Iterable[Statement]) -> list[tuple[Statement, int]]:
    """Each statement with what is still due on it (`statement_due_fen`), in one query."""
    statements = list(statements)
    if not statements:
        return []
    paid = dict(db.session.execute(
        select(Payment.statement_id, func.sum(Payment.amount_fen))
        .where(Payment.statement_id.in_({s.id for s in statements}))
        .group_by(Payment.statement_id)).all())
    return [(s, s.total_fen - (paid.get(s.id) or 0)) for s in statements]


def statement_of(unit: Unit, month: str) -> Statement | None:
    return db.session.scalar(select(Statement).where(Statement.unit_id == unit.id,
                                                     Statement.month == month))


def pay_statement(statement: Statement, cashier: User, method: str | Method,
                  amount_fen: int | None, *, payer_name: str = "", note: str = "",
                  request_key: str | None = None) -> Payment:
    """The owner pays the month's statement (in part or in full): a receipt."""
    done = _resent(request_key, statement_id=statement.id)
    if done is not None:
        return done
    _cashier(cashier)
    m = _method(method)
    amount = _amount(amount_fen)
    # Lock the statement's payments: two tills at once cannot both take the last payment.
    _lock_statement(statement)
    due = statement_due_fen(statement)
    if due <= 0:
        raise Conflict(_l("This statement is paid."))
    if amount > due and not note.strip():
        raise DomainError(_l("That is more than the %(owed)s owed: give the reason in the "
                             "note.", owed=money(due)), "note")
    return _record(PaymentKind.STATEMENT, m, amount, statement.unit, cashier,
                   statement=statement, payer_name=payer_name, note=note,
                   request_key=request_key)


def _lock_statement(statement: Statement) -> None:
    """Hold the statement until commit before reading what is due. An UPDATE that changes
    nothing, not SELECT ... FOR UPDATE: that is ignored on SQLite, where this UPDATE takes the
    database's write lock instead (a second till waits, then reads the first one's payment)."""
    db.session.execute(update(Statement).where(Statement.id == statement.id)
                       .values(total_fen=Statement.total_fen)
                       .execution_options(synchronize_session=False))


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
    available = deposit_balance(unit) - _pending_refunds_fen(unit)
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
    if Role.MANAGER.value not in manager.roles:
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
    balances = deposit_balances(units)
    promised = dict(db.session.execute(
        select(DepositRefund.unit_id, func.sum(DepositRefund.amount_fen))
        .where(DepositRefund.unit_id.in_(units),
               DepositRefund.state.in_([RefundState.PENDING.value, RefundState.APPROVED.value]))
        .group_by(DepositRefund.unit_id)).all())
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
            available = (balances.get(s.unit_id) or 0) - (promised.get(s.unit_id) or 0)
            short = need[s.unit_id] - available
            if short > 0:
                out[s.id] = short
    return out


# ---- voiding a receipt -------------------------------------------------------------------

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
    if payment.kind == PaymentKind.REVERSAL:
        raise DomainError(_l("A reversal cannot be voided."))
    if payment.void:
        raise Conflict(_l("Receipt %(number)s is already void.", number=payment.number))
    if payment.kind == PaymentKind.REFUND:
        raise DomainError(_l("A refund paid out is not voided: take a top-up instead."))
    if payment.kind == PaymentKind.TOPUP:
        _lock_deposit(payment.unit)
    if payment.kind == PaymentKind.TOPUP and deposit_balance(payment.unit) < payment.amount_fen:
        raise DomainError(_l("The deposit has already been drawn on: this top-up can no "
                             "longer be voided."))
    if payment.kind == PaymentKind.TOPUP and \
            deposit_balance(payment.unit) - _pending_refunds_fen(payment.unit) < payment.amount_fen:
        raise DomainError(_l("Part of this deposit is promised to a refund that waits for the "
                             "manager or the till: this top-up can no longer be voided."))
    slip = payment.slip
    if payment.kind == PaymentKind.ERRAND_PREPAY and slip is not None \
            and slip.state not in PREPAY_STATES | {State.CANCELLED}:
        raise DomainError(_l("The errand is under way: its prepayment is settled when the "
                             "worker is back."))
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
    else:
        if slip is not None:  # the slip's version check: one void at a time
            slip.updated_at = clock.now()
            _flush_versioned(_l("Someone else changed slip %(number)s at the same moment. "
                                "Look at it again.", number=slip.number))
        if payment.statement is not None:
            _lock_statement(payment.statement)
        try:
            with db.session.begin_nested():
                reversal()
        except IntegrityError:
            raise Conflict(_l("Receipt %(number)s is already void.",
                              number=payment.number)) from None
    return holder["p"]


# ---- the cashier's screens ---------------------------------------------------------------

@dataclass
class QueueRow:
    slip: Slip
    owed_fen: int
    why: str            # "pay", "deposit", "errand_prepay", "errand_return"
    balance_fen: int | None = None   # the unit's deposit, for tenants
    prepaid_fen: int = 0             # what an errand back had prepaid


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
    balances = deposit_balances(s.unit_id for s in finished
                                if not s.errand and s.pay_route == PayRoute.DEPOSIT)
    rows: list[QueueRow] = []
    for s in errands:
        if prepaid.get(s.id, 0) <= 0:
            rows.append(QueueRow(s, errand_prepayment_fen(s), "errand_prepay"))
    for s in finished:
        if s.errand:
            paid = prepaid.get(s.id, 0)
            rows.append(QueueRow(s, owed_fen(s, paid), "errand_return", prepaid_fen=paid))
            continue
        if s.total_fen <= 0:
            continue
        if s.pay_route == PayRoute.DEPOSIT:
            rows.append(QueueRow(s, s.total_fen, "deposit", balances[s.unit_id]))
        else:
            rows.append(QueueRow(s, s.total_fen, "pay"))
    return rows


@dataclass
class DayReport:
    day: date
    payments: list[Payment]
    by_method: dict[str, int]
    by_kind: dict[str, int]
    by_cashier: dict[int, dict[str, int]]     # cashier id -> method -> fen
    cashiers: dict[int, User]
    counted: dict[int, CashCount]              # cashier id -> their latest count
    total_fen: int
    receipts: int
    voided: int

    def expected_cash(self, cashier_id: int) -> int:
        return self.by_cashier.get(cashier_id, {}).get(Method.CASH.value, 0)

    def difference(self, cashier_id: int) -> int | None:
        count = self.counted.get(cashier_id)
        return None if count is None else count.counted_fen - self.expected_cash(cashier_id)


def day_report(day: date) -> DayReport:
    """The day's money by method and by cashier, with expected against counted cash.

    Deposit draw-downs move no money and are listed apart (method `deposit`)."""
    start, end = clock.day_bounds(day)
    payments = list(db.session.scalars(
        select(Payment).where(Payment.at >= start, Payment.at < end)
        .options(selectinload(Payment.reversed_by), selectinload(Payment.slip),
                 selectinload(Payment.reverses))
        .order_by(Payment.id)))
    by_method: dict[str, int] = defaultdict(int)
    by_kind: dict[str, int] = defaultdict(int)
    by_cashier: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    cashiers: dict[int, User] = {}
    for p in payments:
        by_method[p.method] += p.amount_fen
        by_kind[p.kind] += p.amount_fen
        by_cashier[p.cashier_id][p.method] += p.amount_fen
        cashiers[p.cashier_id] = p.cashier
    counts = db.session.scalars(select(CashCount).where(CashCount.day == day)
                                .order_by(CashCount.id)).all()
    counted = {}
    for c in counts:
        counted[c.cashier_id] = c
        cashiers.setdefault(c.cashier_id, c.cashier)
    total = sum(v for k, v in by_method.items() if k != Method.DEPOSIT)
    return DayReport(day, payments, dict(by_method), dict(by_kind),
                     {k: dict(v) for k, v in by_cashier.items()}, cashiers, counted, total,
                     sum(1 for p in payments if p.number), sum(1 for p in payments
                                                               if p.kind == PaymentKind.REVERSAL))


def parse_day(text: str | None, field_name: str = "day") -> date:
    """A day that has begun (YYYY-MM-DD, property time). Raises DomainError."""
    try:
        day = date.fromisoformat((text or "").strip())
    except ValueError:
        raise DomainError(_l("Give the day as YYYY-MM-DD."), field_name) from None
    if day > clock.local_today() or day.year < 2000:
        raise DomainError(_l("That day has not come yet."), field_name)
    return day


def count_cash(day: date, cashier: User, counted_fen: int | None, note: str = "") -> CashCount:
    """The cash in the drawer at the end of the day; a later count replaces it on the report."""
    _cashier(cashier)
    if day > clock.local_today():
        raise DomainError(_l("That day has not come yet."), "day")
    if counted_fen is None or counted_fen < 0:
        raise DomainError(_l("Enter the cash counted (zero or more)."), "counted")
    if counted_fen > MAX_FEN:
        raise DomainError(_l("That amount is too large."), "counted")
    count = CashCount(day=day, cashier=cashier, counted_fen=counted_fen, note=note.strip()[:300])
    db.session.add(count)
    db.session.flush()
    record("cash.count", "cash_count", count.id, day.isoformat(), actor_id=cashier.id,
           after={"counted_fen": counted_fen})
    return count


# ---- a unit's account --------------------------------------------------------------------

@dataclass
class UnitAccount:
    unit: Unit
    deposit_fen: int
    deposit_moves: list[Payment]
    entries: list[AccountEntry]
    unbilled_fen: int                       # reviewed entries not yet on a statement
    statements: list[tuple[Statement, int]]  # with what is still due on each
    payments: list[Payment]
    refunds: list[DepositRefund]
    owed_slips: list[Slip] = field(default_factory=list)


def unit_account(unit: Unit) -> UnitAccount:
    """Everything on a unit's account, for its page: a fixed number of queries, however long
    its history."""
    entries = list(db.session.scalars(
        select(AccountEntry).where(AccountEntry.unit_id == unit.id)
        .options(selectinload(AccountEntry.slip), selectinload(AccountEntry.reversed_by))
        .order_by(AccountEntry.id.desc()).limit(200)))
    unbilled = sum(e.amount_fen for e in entries
                   if e.statement_id is None and e.reviewed_at is not None)
    statements = list(db.session.scalars(select(Statement).where(Statement.unit_id == unit.id)
                                         .order_by(Statement.month.desc())))
    payments = list(db.session.scalars(
        select(Payment).where(Payment.unit_id == unit.id)
        .options(selectinload(Payment.reversed_by), selectinload(Payment.slip))
        .order_by(Payment.id.desc()).limit(200)))
    refund_rows = list(db.session.scalars(select(DepositRefund).where(
        DepositRefund.unit_id == unit.id).options(*_REFUND_PEOPLE)
        .order_by(DepositRefund.id.desc())))
    owed = [r.slip for r in queue(unit)]
    return UnitAccount(unit, deposit_balance(unit), [p for p in payments if p.deposit_fen],
                       entries, unbilled, statement_dues(statements), payments, refund_rows,
                       owed)


def unit_by_key(key: str) -> Unit | None:
    """A unit by its URL key (3-2-1502), or None."""
    key = (key or "").strip()
    if not re.fullmatch(r"[0-9A-Za-z\-]{1,30}", key):
        return None
    return db.session.scalar(select(Unit).where(Unit.search_key == key))


def reversals(limit: int = 200) -> list[Payment]:
    """Voided receipts and reversed entries, newest first: the manager's view of corrections."""
    return list(db.session.scalars(
        select(Payment).where(Payment.kind == PaymentKind.REVERSAL.value)
        .options(selectinload(Payment.reverses)).order_by(Payment.id.desc()).limit(limit)))


def correction_counts() -> dict[str, int]:
    """How many refunds wait for the manager, receipts were voided and entries reversed."""
    def count(model, *where) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0
    return {"refunds": count(DepositRefund, DepositRefund.state == RefundState.PENDING.value),
            "voids": count(Payment, Payment.kind == PaymentKind.REVERSAL.value),
            "entry_reversals": count(AccountEntry, AccountEntry.reverses_id.is_not(None))}


def entry_reversals(limit: int = 200) -> list[AccountEntry]:
    return list(db.session.scalars(
        select(AccountEntry).where(AccountEntry.reverses_id.is_not(None))
        .options(selectinload(AccountEntry.reverses)).order_by(AccountEntry.id.desc())
        .limit(limit)))


def month_days(month: str) -> tuple[date, date]:
    year, mon = int(month[:4]), int(month[5:7])
    first = date(year, mon, 1)
    nxt = date(year + (mon == 12), mon % 12 + 1, 1)
    return first, nxt - timedelta(days=1)
