"""Receipts (票据): who records money, receipt numbers, one payment recorded once per
request key, and the amount and method checks every till form shares."""
from __future__ import annotations

import re
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.domain.errors import DomainError
from app.domain.money import MAX_FEN, format_yuan
from app.domain.permissions import Perm, allowed
from app.extensions import db
from app.models.billing import (
    AccountEntry,
    DepositRefund,
    Method,
    Payment,
    PaymentKind,
    Statement,
)
from app.models.property import Unit
from app.models.slips import Slip
from app.models.users import User
from app.services import clock, live
from app.services.audit import record
from app.services.numbering import next_in_series

MONEY_METHODS = (Method.CASH, Method.WECHAT, Method.ALIPAY, Method.CARD, Method.BANK)

def money(fen: int) -> str:
    return format_yuan(fen)


# ---- who may, and the numbers -------------------------------------------------------------

def _cashier(user: User) -> None:
    if not allowed(user.roles, Perm.CASHIER):
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
