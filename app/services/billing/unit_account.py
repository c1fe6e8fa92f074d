"""A unit's account at the till: deposit, entries, statements, and the manager's list of
corrections."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models.billing import (
    AccountEntry,
    DepositRefund,
    Payment,
    PaymentKind,
    RefundState,
    Statement,
)
from app.models.property import Unit
from app.models.slips import Slip
from app.services.billing.deposits import _REFUND_PEOPLE, deposit_balance
from app.services.billing.statements import statement_dues
from app.services.billing.till import queue

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
    """How many refunds wait for the manager, receipts were voided, entries reversed and fees
    waived."""
    def count(model, *where) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0
    return {"refunds": count(DepositRefund, DepositRefund.state == RefundState.PENDING.value),
            "voids": count(Payment, Payment.kind == PaymentKind.REVERSAL.value),
            "entry_reversals": count(AccountEntry, AccountEntry.reverses_id.is_not(None)),
            "waivers": count(Slip, Slip.waived_at.is_not(None))}


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


def slip_records(slip: Slip) -> tuple[list[Payment], list[AccountEntry]]:
    """A slip's receipts (void ones too, and their reversals) and its account entries, oldest
    first: what the slip's page lists under its money."""
    payments = db.session.scalars(select(Payment).where(Payment.slip_id == slip.id)
                                  .order_by(Payment.id)).all()
    entries = db.session.scalars(select(AccountEntry).where(AccountEntry.slip_id == slip.id)
                                 .order_by(AccountEntry.id)).all()
    return list(payments), list(entries)
