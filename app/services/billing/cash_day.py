"""The cash day: the day report by method and cashier, and the cash counted in a drawer."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.domain.errors import DomainError
from app.domain.money import MAX_FEN
from app.extensions import db
from app.models.billing import (
    CashCount,
    Method,
    Payment,
    PaymentKind,
)
from app.models.users import User
from app.services import clock
from app.services.audit import record
from app.services.billing.receipts import _cashier


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
