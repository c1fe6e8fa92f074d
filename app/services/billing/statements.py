"""Month end and statements (月结统计表): one run of a month at a time makes each unit's
statement; the owner pays it at the till, in part or in full."""
from __future__ import annotations

import re
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.domain.errors import Conflict, DomainError
from app.extensions import db
from app.models.billing import (
    AccountEntry,
    Method,
    Payment,
    PaymentKind,
    Statement,
    StatementRun,
)
from app.models.property import Unit
from app.models.users import User
from app.services import clock, live, races
from app.services.audit import record
from app.services.billing.receipts import (
    _amount,
    _cashier,
    _method,
    _record,
    _resent,
    money,
)

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


def month_statements(month: str) -> list[tuple[Statement, int]]:
    """A month's statements in the order they were made, each with what is still due."""
    rows = db.session.scalars(select(Statement).where(Statement.month == month)
                              .order_by(Statement.id)).all()
    return statement_dues(rows)


def recent_runs(limit: int = 12) -> list[StatementRun]:
    return list(db.session.scalars(select(StatementRun).order_by(StatementRun.id.desc())
                                   .limit(limit)))


def made_by_other_runs(run: StatementRun) -> int:
    """How many of the run's month's statements an earlier run (or a single unit) made."""
    return db.session.scalar(select(func.count()).select_from(Statement).where(
        Statement.month == run.month,
        (Statement.run_id != run.id) | Statement.run_id.is_(None))) or 0
