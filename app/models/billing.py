"""Money (票据, 月结, 预交): payments with their receipt numbers, owners' monthly-account entries
and statements, tenants' deposit refunds, and the cashier's counted cash.

Payments and account entries are append-only: a mistake is corrected by a new row that
reverses the old one, never by changing or deleting it (see `_money_is_append_only`).
"""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, event, inspect, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.domain.settlement import PayRoute
from app.extensions import db
from app.models._checks import at_least_zero, one_of, quoted, rule
from app.models._types import UTCDateTime, utcnow
from app.models.property import Unit
from app.models.slips import Slip
from app.models.users import User


class Method(StrEnum):
    """How money moved. Recorded, not integrated with any payment provider."""

    CASH = "cash"
    CARD = "card"
    BANK = "bank_transfer"
    WECHAT = "wechat"
    ALIPAY = "alipay"
    DEPOSIT = "deposit"        # drawn from the unit's prepaid deposit: no money changes hands


class PaymentKind(StrEnum):
    SLIP = "slip"                      # a finished slip paid (or drawn from the deposit)
    ERRAND_PREPAY = "errand_prepay"    # an errand's fee and purchase money, before it starts
    ERRAND_BALANCE = "errand_balance"  # on return: the purchases cost more; the rest collected
    ERRAND_CHANGE = "errand_change"    # on return: change given back (negative)
    STATEMENT = "statement"            # a monthly statement paid
    TOPUP = "deposit_topup"            # money into a tenant's deposit
    REFUND = "deposit_refund"          # deposit money paid back, approved by the manager
    REVERSAL = "reversal"              # cancels another payment (its receipt is then void)


# A payment's sign follows its kind: money in is positive, money paid out negative, and a
# reversal the opposite of the payment it cancels. Only a reversal points at another
# payment, and only a reversal goes without a receipt number.
MONEY_IN = (PaymentKind.SLIP, PaymentKind.ERRAND_PREPAY, PaymentKind.ERRAND_BALANCE,
            PaymentKind.STATEMENT, PaymentKind.TOPUP)
MONEY_OUT = (PaymentKind.ERRAND_CHANGE, PaymentKind.REFUND)
PAYMENT_SIGN = (f"(kind IN ({quoted(MONEY_IN)}) AND amount_fen > 0)"
                f" OR (kind IN ({quoted(MONEY_OUT)}) AND amount_fen < 0)"
                f" OR (kind = '{PaymentKind.REVERSAL}' AND amount_fen <> 0)")
PAYMENT_REVERSAL = (f"(kind = '{PaymentKind.REVERSAL}' AND reverses_id IS NOT NULL"
                    " AND number IS NULL)"
                    f" OR (kind <> '{PaymentKind.REVERSAL}' AND reverses_id IS NULL"
                    " AND number IS NOT NULL)")
# An account entry is a slip's charge (positive) or the reversal of one (negative).
ENTRY_SIGN = ("(reverses_id IS NULL AND amount_fen > 0)"
              " OR (reverses_id IS NOT NULL AND amount_fen < 0)")


class RefundState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAID = "paid"


ROUTE_LABELS = {PayRoute.PAY_NOW: _l("Pay at the office"),
                PayRoute.ON_ACCOUNT: _l("Owner's monthly account"),
                PayRoute.DEPOSIT: _l("From the tenant's deposit")}
METHOD_LABELS = {Method.CASH: _l("Cash"), Method.CARD: _l("Bank card"),
                 Method.BANK: _l("Bank transfer"), Method.WECHAT: _l("WeChat Pay"),
                 Method.ALIPAY: _l("Alipay"), Method.DEPOSIT: _l("Prepaid deposit")}
KIND_LABELS = {PaymentKind.SLIP: _l("Service fee"),
               PaymentKind.ERRAND_PREPAY: _l("Errand prepayment"),
               PaymentKind.ERRAND_BALANCE: _l("Errand balance collected"),
               PaymentKind.ERRAND_CHANGE: _l("Errand change given back"),
               PaymentKind.STATEMENT: _l("Monthly statement"),
               PaymentKind.TOPUP: _l("Deposit top-up"),
               PaymentKind.REFUND: _l("Deposit refund"),
               PaymentKind.REVERSAL: _l("Reversal")}
REFUND_LABELS = {RefundState.PENDING: _l("Waiting for the manager"),
                 RefundState.APPROVED: _l("Approved: to be paid out"),
                 RefundState.REJECTED: _l("Refused"), RefundState.PAID: _l("Paid out")}


class Payment(db.Model):
    """One movement of money recorded by the cashier, with its receipt number.

    `amount_fen` is signed: money in is positive, money paid out (change, refunds) negative.
    `deposit_fen` is what this movement did to the unit's prepaid deposit. A reversal is a
    payment of its own (no receipt number) pointing at the one it cancels; the cancelled
    receipt keeps its number and prints VOID.
    """

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_at", "at"), Index("ix_payments_unit_at", "unit_id", "at"),
                      one_of("kind", PaymentKind), one_of("method", Method),
                      rule("amount_sign", PAYMENT_SIGN), rule("reversal", PAYMENT_REVERSAL))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)  # RC202611-0001
    kind: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int]
    deposit_fen: Mapped[int] = mapped_column(default=0)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    slip_id: Mapped[int | None] = mapped_column(ForeignKey("slips.id"), index=True)
    statement_id: Mapped[int | None] = mapped_column(ForeignKey("statements.id"), index=True)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("deposit_refunds.id"))
    payer_name: Mapped[str] = mapped_column(String(40), default="")
    cashier_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str] = mapped_column(String(300), default="")
    # Set on a reversal: the payment it cancels. Unique, so a receipt is voided only once.
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), unique=True)
    # A form's own id for this submission: sent twice (a double click, a retry), applied once.
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    unit: Mapped[Unit] = relationship(lazy="joined")
    slip: Mapped[Slip | None] = relationship()
    statement: Mapped[Statement | None] = relationship(back_populates="payments")
    cashier: Mapped[User] = relationship(lazy="joined")
    reverses: Mapped[Payment | None] = relationship(
        remote_side=[id], foreign_keys=[reverses_id], back_populates="reversed_by")
    reversed_by: Mapped[Payment | None] = relationship(
        foreign_keys=[reverses_id], back_populates="reverses", uselist=False)

    @property
    def void(self) -> bool:
        return self.reversed_by is not None


class AccountEntry(db.Model):
    """One slip on an owner's monthly account (记帐): the resident confirmed it by signing at
    completion; the supervisor reviews it; month end puts it on a statement.

    Append-only: the review and the statement are stamped once; a mistake is a new entry
    with the opposite amount (`reverses_id`), which lands on the next statement.
    """

    __tablename__ = "account_entries"
    __table_args__ = (Index("ix_account_entries_unit_statement", "unit_id", "statement_id"),
                      rule("amount_sign", ENTRY_SIGN))

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    slip_id: Mapped[int] = mapped_column(ForeignKey("slips.id"), index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)     # 2026-11, property time
    amount_fen: Mapped[int]
    description: Mapped[str] = mapped_column(String(300), default="")
    signed_name: Mapped[str] = mapped_column(String(40), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The stamps load their old value before a change, so the append-only guard below sees
    # an overwrite even when the row was not read since the last commit.
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"),
                                                       active_history=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), active_history=True)
    statement_id: Mapped[int | None] = mapped_column(ForeignKey("statements.id"),
                                                     active_history=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("account_entries.id"),
                                                    unique=True)
    reason: Mapped[str] = mapped_column(String(300), default="")

    unit: Mapped[Unit] = relationship(lazy="joined")
    slip: Mapped[Slip] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    statement: Mapped[Statement | None] = relationship(back_populates="entries")
    reverses: Mapped[AccountEntry | None] = relationship(
        remote_side=[id], foreign_keys=[reverses_id], back_populates="reversed_by")
    reversed_by: Mapped[AccountEntry | None] = relationship(
        foreign_keys=[reverses_id], back_populates="reverses", uselist=False)

    @property
    def reversed(self) -> bool:
        return self.reversed_by is not None


class Statement(db.Model):
    """A unit's monthly statement (有偿便民服务月结统计表): one per unit and month, never twice."""

    __tablename__ = "statements"
    __table_args__ = (UniqueConstraint("unit_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    month: Mapped[str] = mapped_column(String(7), index=True)
    total_fen: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("statement_runs.id"))

    unit: Mapped[Unit] = relationship(lazy="joined")
    created_by: Mapped[User] = relationship()
    entries: Mapped[list[AccountEntry]] = relationship(
        back_populates="statement", order_by="AccountEntry.id")
    payments: Mapped[list[Payment]] = relationship(back_populates="statement",
                                                   order_by="Payment.id")


class StatementRun(db.Model):
    """One month-end run: how far it has got, so the screen shows progress and a run that was
    interrupted carries on where it stopped."""

    __tablename__ = "statement_runs"
    # One run of a month at a time, however many screens start it at once: a second start
    # finds the first (a finished month may be run again for entries that came late).
    __table_args__ = (Index("uq_statement_runs_open_month", "month", unique=True,
                            sqlite_where=text("finished_at IS NULL"),
                            postgresql_where=text("finished_at IS NULL")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    started_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    units_total: Mapped[int] = mapped_column(default=0)
    units_done: Mapped[int] = mapped_column(default=0)
    statements_made: Mapped[int] = mapped_column(default=0)
    total_fen: Mapped[int] = mapped_column(default=0)
    last_unit_id: Mapped[int] = mapped_column(default=0)   # units are walked in id order

    started_by: Mapped[User] = relationship()


class DepositRefund(db.Model):
    """Money asked back from a tenant's deposit: the cashier asks, the manager decides, the
    cashier pays it out (a REFUND payment)."""

    __tablename__ = "deposit_refunds"
    __table_args__ = (one_of("state", RefundState), rule("amount_positive", "amount_fen > 0"))

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    amount_fen: Mapped[int]
    reason: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(10), default=RefundState.PENDING.value, index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str] = mapped_column(String(300), default="")
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    unit: Mapped[Unit] = relationship(lazy="joined")
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class CashCount(db.Model):
    """Cash counted in a cashier's drawer at the end of a day; the latest count stands."""

    __tablename__ = "cash_counts"
    __table_args__ = tuple(at_least_zero("counted_fen"))

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
    cashier_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    counted_fen: Mapped[int]
    note: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    cashier: Mapped[User] = relationship()


class MoneyTamper(RuntimeError):
    """Raised when code tries to change or delete a payment, entry or count."""


# Stamped once on an entry (None -> a value); nothing else on it ever changes.
_ENTRY_STAMPS = {"reviewed_by_id", "reviewed_at", "statement_id"}


@event.listens_for(Session, "before_flush")
def _money_is_append_only(session: Session, flush_context, instances) -> None:
    for obj in session.deleted:
        if isinstance(obj, (Payment, AccountEntry, CashCount)):
            raise MoneyTamper(f"{type(obj).__name__} rows are never deleted")
    for obj in session.dirty:
        if not isinstance(obj, (Payment, AccountEntry, CashCount)):
            continue
        state = inspect(obj)
        for attr in state.mapper.column_attrs:  # columns only: a new reversal touches the
            hist = state.attrs[attr.key].history  # old row's relationship, not its columns
            if not hist.has_changes():
                continue
            if (not isinstance(obj, AccountEntry) or attr.key not in _ENTRY_STAMPS
                    or any(v is not None for v in hist.deleted)):
                raise MoneyTamper(f"{type(obj).__name__}.{attr.key} may not change")
