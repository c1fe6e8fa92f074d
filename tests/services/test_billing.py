"""Money (app/services/billing) as the office sees it: who pays by which route, numbered
receipts, bad input that changes nothing, rows that never change, voids, errands, deposits,
month end, the day's cash report, and two tills at the same moment.

The concurrency tests run each cashier in a thread with its own app context, session and
connection, on the suite's database: a SQLite *file* in WAL mode by default, the throwaway
PostgreSQL with PSD_TEST_PG=1.
"""
from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, text

from app import create_app
from app.domain.errors import Conflict, DomainError
from app.domain.money import MAX_FEN
from app.domain.slip_states import State
from app.extensions import db as _db
from app.models import (
    AccountEntry,
    AuditEvent,
    CashCount,
    DepositRefund,
    NumberSequence,
    Payment,
    Slip,
    SlipEvent,
    Statement,
    StatementRun,
    Unit,
    User,
)
from app.models.billing import Method, MoneyTamper, PaymentKind, PayRoute, RefundState
from app.services import billing, clock
from app.services import slips as svc
from tests import factories
from tests.conftest import make_config
from tests.factories import COMMON, TAP, Till
from tests.moments import at, month_ahead, next_month_starts, yyyymm

RECEIPT = re.compile(r"RC(\d{6})-(\d{4})")


def count(model, *where) -> int:
    return _db.session.scalar(select(func.count()).select_from(model).where(*where))


def english(err: pytest.ExceptionInfo) -> str:
    with force_locale("en"):
        return str(err.value.message)


def month_of(when: datetime | None = None) -> str:
    return yyyymm(when or clock.now())


def months_back(n: int) -> tuple[str, datetime]:
    """The month n months before this one ('2026-09') and a moment on its 10th."""
    first = month_ahead(-n)
    return first.strftime("%Y-%m"), at(first.replace(day=10), 12)


def _money_rows() -> tuple:
    receipts_taken = _db.session.scalar(select(func.coalesce(func.sum(NumberSequence.last), 0))
                                        .where(NumberSequence.series.like("RC%")))
    return (count(Payment), count(AccountEntry), count(AuditEvent), count(SlipEvent),
            count(DepositRefund), count(Statement), count(StatementRun), count(CashCount),
            receipts_taken)


@contextmanager
def refused(field: str | None = None, *, conflict: bool = False, says: str = ""):
    """The call raises a DomainError (a Conflict if told) on `field`, saying `says`, and no
    payment, entry, refund, statement, count, slip event or audit row is written, and no
    receipt number is taken."""
    before = _money_rows()
    with pytest.raises(DomainError) as err:
        yield err
    assert isinstance(err.value, Conflict) is conflict, english(err)
    assert err.value.field == field, english(err)
    assert says in english(err)
    assert _money_rows() == before


def timeline(slip: Slip) -> list[tuple[str, str]]:
    return [(e.action, e.to_state) for e in svc.timeline(slip)]


def audited(action: str) -> int:
    return count(AuditEvent, AuditEvent.action == action)


# ---- routes: who pays, and how --------------------------------------------------------------

def test_the_default_route_follows_the_resident(till):
    owner, tenant, nobody = (till.open(kind="owner"), till.open(kind="tenant"), till.open())
    assert (owner.pay_route, tenant.pay_route, nobody.pay_route) == (
        PayRoute.ON_ACCOUNT, PayRoute.DEPOSIT, PayRoute.PAY_NOW)
    assert billing.routes_for(owner) == [PayRoute.ON_ACCOUNT, PayRoute.PAY_NOW]
    assert billing.routes_for(tenant) == [PayRoute.DEPOSIT, PayRoute.PAY_NOW]
    assert billing.routes_for(nobody) == [PayRoute.PAY_NOW]
    errand = till.errand(kind="owner")
    assert errand.pay_route == PayRoute.PAY_NOW and billing.routes_for(errand) == [
        PayRoute.PAY_NOW]
    # at completion the resident may choose another of their routes, never someone else's
    till.go(nobody)
    with pytest.raises(DomainError) as err:
        till.sign(nobody, route="on_account")
    assert err.value.field == "pay_route" and "Only an owner" in english(err)
    till.go(tenant)
    with pytest.raises(DomainError) as err:
        till.sign(tenant, route="on_account")
    assert err.value.field == "pay_route"
    with pytest.raises(DomainError) as err:
        till.sign(owner, route="deposit")
    till.sign(tenant, route="pay_now")
    assert tenant.state == State.COMPLETED and tenant.pay_route == PayRoute.PAY_NOW


def test_pay_now_settles_then_hand_back_closes_and_the_whole_path_is_recorded(till):
    slip = till.finish(till.open())
    assert billing.owed_fen(slip) == 3000 and count(AccountEntry) == 0
    row = next(r for r in billing.queue() if r.slip == slip)
    assert (row.why, row.owed_fen) == ("pay", 3000)
    receipt = till.pay(slip, payer_name="张伟")
    assert slip.state == State.SETTLED and billing.owed_fen(slip) == 0
    assert (receipt.kind, receipt.method, receipt.amount_fen) == ("slip", "cash", 3000)
    assert receipt.slip == slip and receipt.cashier == till.cashier and not receipt.void
    assert slip not in [r.slip for r in billing.queue()]
    till.hand_back(slip)
    assert slip.state == State.CLOSED
    assert timeline(slip) == [("open", "registered"), ("dispatch", "dispatched"),
                              ("accept", "accepted"), ("check_in", "on_site"),
                              ("confirm_fee", "in_progress"), ("complete", "completed"),
                              ("settle", "settled"), ("hand_back", "closed")]
    assert svc.timeline(slip)[-2].data["receipt"] == receipt.number
    assert audited("slip.settle") == 1 and audited("payment.slip") == 1
    assert audited("slip.hand_back") == 1


def test_a_slip_handed_back_before_it_is_paid_closes_when_it_is_paid(till):
    slip = till.hand_back(till.finish(till.open()))
    assert slip.state == State.HANDED_BACK
    assert [r.slip for r in billing.queue()] == [slip]
    till.pay(slip, method="alipay")
    assert slip.state == State.CLOSED
    assert timeline(slip)[-2:] == [("hand_back", "handed_back"), ("settle", "closed")]


def test_on_account_makes_one_entry_for_review_and_the_review_posts_it(till):
    slip = till.finish(till.open(kind="owner"))
    assert slip.state == State.COMPLETED and slip.pay_route == PayRoute.ON_ACCOUNT
    entry = till.entry(slip)
    assert count(AccountEntry) == 1
    assert (entry.amount_fen, entry.signed_name, entry.reviewed_at, entry.statement_id) == (
        3000, "张伟", None, None)
    assert (entry.month == clock.local_today().strftime("%Y-%m")
            and "疏通下水×1" in entry.description)
    assert billing.entries_to_review() == [entry]
    assert slip not in [r.slip for r in billing.queue()]   # not the cashier's to collect
    billing.review_entry(entry, till.sup)
    assert slip.state == State.ON_ACCOUNT and entry.reviewed_by == till.sup
    assert billing.entries_to_review() == [] and billing.owed_fen(slip) == 0
    with pytest.raises(Conflict):
        billing.review_entry(entry, till.sup)
    till.hand_back(slip)
    assert slip.state == State.CLOSED
    assert [a for a, _ in timeline(slip)][-3:] == ["complete", "post_to_account", "hand_back"]
    assert audited("account.entry") == 1 and audited("slip.post_to_account") == 1


def test_an_entry_reviewed_after_the_slip_came_back_closes_it(till):
    slip = till.hand_back(till.finish(till.open(kind="owner")))
    assert slip.state == State.HANDED_BACK
    till.review(slip)
    assert slip.state == State.CLOSED
    assert timeline(slip)[-1] == ("post_to_account", "closed")


def test_the_cashier_cannot_review_and_the_supervisor_cannot_take_money(till):
    slip = till.finish(till.open(kind="owner"))
    with refused(says="You may not"):
        billing.review_entry(till.entry(slip), till.cashier)
    other = till.finish(till.open())
    with refused(says="Only the cashier"):
        billing.take_payment(other, till.sup, "cash", 3000)


def test_a_free_slip_closes_at_hand_back_with_no_money(till):
    free = till.finish(till.open(free=True))
    common = till.finish(till.open(svc.LineRequest(till.item(COMMON)), kind="owner"))
    assert billing.owed_fen(free) == 0 and count(AccountEntry) == 0
    assert [r.slip for r in billing.queue()] == []
    for slip in (free, common):
        till.hand_back(slip)
        assert slip.state == State.CLOSED and timeline(slip)[-1] == ("close", "closed")
    assert count(Payment) == 0
    with refused(conflict=True, says="already settled"):
        billing.take_payment(free, till.cashier, "cash", 100, note="tip")


def test_a_paid_slip_handed_back_is_closed_and_a_settled_slip_is_not_in_the_queue(till):
    slips = [till.finish(till.open()) for _ in range(3)]
    till.pay(slips[0])
    till.hand_back(slips[0])
    till.hand_back(slips[1])
    assert {r.slip.id for r in billing.queue()} == {slips[1].id, slips[2].id}
    assert [s.state for s in slips] == [State.CLOSED, State.HANDED_BACK, State.COMPLETED]


# ---- receipts -------------------------------------------------------------------------------

def test_receipt_numbers_run_on_in_the_propertys_month(till):
    slips = [till.finish(till.open()) for _ in range(3)]
    unit = till.topped_up(5000)
    numbers = [till.pay(s).number for s in slips] + [
        billing.top_up(unit, till.cashier, "wechat", 100).number]
    month = month_of()
    assert numbers == [f"RC{month}-{n:04d}" for n in range(2, 6)]  # 0001 was the first top-up
    assert billing.receipt(numbers[1]).slip == slips[1]
    assert billing.receipt(numbers[1].lower() + " ") == billing.receipt(numbers[1])
    # the month is the property's (Asia/Shanghai): at midnight there, when a month begins,
    # UTC is still in the month before. Next month's boundary: no receipt is numbered there yet.
    month = month_ahead(1)
    midnight = next_month_starts(month)
    assert midnight.astimezone(UTC).month == month.month
    with clock.at(midnight - timedelta(minutes=1)):
        late = billing.top_up(unit, till.cashier, "cash", 100)
    with clock.at(midnight):
        early = billing.top_up(unit, till.cashier, "cash", 100)
    assert early.number == f"RC{yyyymm(clock.add_months(month, 1))}-0001"
    assert late.number == f"RC{yyyymm(month)}-0001"


@pytest.mark.parametrize("text", ["", "RC", "RC202611", "RC202611-1", "RC2026-0001",
                                  "YC202611-0001", "RC202611-0001; drop table", "%",
                                  "RC20261-0001"])
def test_a_malformed_receipt_number_finds_nothing(db, text):
    assert billing.receipt(text) is None


def test_an_unknown_receipt_number_finds_nothing(till):
    assert billing.receipt("RC202611-9999") is None


# ---- bad input changes nothing ------------------------------------------------------------

@pytest.mark.parametrize("amount, says", [(0, "above zero"), (-3000, "above zero"),
                                          (None, "above zero"), (MAX_FEN + 1, "too large")])
def test_an_amount_that_is_not_money_is_refused(till, amount, says):
    slip = till.finish(till.open())
    with refused("amount", says=says):
        billing.take_payment(slip, till.cashier, "cash", amount, note="because")
    assert slip.state == State.COMPLETED
    unit = till.unit()
    with refused("amount", says=says):
        billing.top_up(unit, till.cashier, "cash", amount)
    assert billing.deposit_balance(unit) == 0


def test_less_than_owed_is_refused_and_more_needs_a_reason(till):
    slip = till.finish(till.open())
    with refused("amount", says="owes ¥30.00"):
        billing.take_payment(slip, till.cashier, "cash", 2999)
    with refused("note", says="more than the ¥30.00 owed"):
        billing.take_payment(slip, till.cashier, "cash", 3500, note="   ")
    with refused("method", says="how the money was paid"):
        billing.take_payment(slip, till.cashier, "bitcoin", 3000)
    paid = billing.take_payment(slip, till.cashier, "cash", 3500,
                                note="Resident asked to round up for the bin bags")
    assert paid.amount_fen == 3500 and paid.note.startswith("Resident asked")
    assert slip.state == State.SETTLED


def test_paying_a_settled_slip_again_is_a_conflict(till):
    slip = till.finish(till.open())
    till.pay(slip)
    with refused(conflict=True, says="already settled"):
        billing.take_payment(slip, till.cashier, "cash", 3000)
    with refused(conflict=True, says="already settled"):
        billing.draw_from_deposit(slip, till.cashier)


def test_a_slip_not_finished_cannot_be_paid(till):
    slip = till.go(till.open())
    with refused(says="not finished yet"):
        billing.take_payment(slip, till.cashier, "cash", 3000)


def test_an_owners_slip_on_the_account_is_not_paid_at_the_till(till):
    waiting = till.finish(till.open(kind="owner"))       # entry waiting for the review
    with refused(says="monthly account"):
        billing.take_payment(waiting, till.cashier, "cash", 3000)
    posted = till.finish(till.open(kind="owner"))
    till.review(posted)
    with refused(conflict=True, says="already settled"):
        billing.take_payment(posted, till.cashier, "cash", 3000)
    assert (waiting.state, posted.state) == (State.COMPLETED, State.ON_ACCOUNT)


@pytest.mark.parametrize("role", ["clerk", "supervisor", "worker", "manager"])
def test_only_the_cashier_records_money(till, role):
    someone = factories.user(role)
    slip = till.finish(till.open())
    unit = till.topped_up(5000)
    paid = till.pay(till.finish(till.open()))
    errand = till.errand()
    month, _ = months_back(1)
    for call in (lambda: billing.take_payment(slip, someone, "cash", 3000),
                 lambda: billing.draw_from_deposit(slip, someone),
                 lambda: billing.top_up(unit, someone, "cash", 1000),
                 lambda: billing.void(paid, someone, "Wrong amount"),
                 lambda: billing.start_month_end(month, someone),
                 lambda: billing.prepay_errand(errand, someone, "cash", 7000),
                 lambda: billing.request_refund(unit, someone, 1000, "Moving out"),
                 lambda: billing.count_cash(clock.local_today(), someone, 1000)):
        with refused(says="Only the cashier"):
            call()
    assert slip.state == State.COMPLETED and not paid.void


@pytest.mark.parametrize("role", ["cashier", "supervisor", "clerk"])
def test_only_the_manager_decides_a_refund(till, role):
    unit = till.topped_up(5000)
    refund = billing.request_refund(unit, till.cashier, 2000, "Moving out")
    someone = factories.user(role)
    with refused(says="Only the manager"):
        billing.decide_refund(refund, someone, True)
    assert refund.state == RefundState.PENDING


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "26-10", "2026/10", "2026-1", "",
                                  None, "1999-12", "october", "2026-10-01"])
def test_a_malformed_month_is_refused(till, text):
    with refused("month", says="YYYY-MM"):
        billing.start_month_end(text, till.cashier)


def test_a_month_that_has_not_begun_is_refused(till):
    today = clock.local_today()
    nxt = f"{today.year + (today.month == 12)}-{today.month % 12 + 1:02d}"
    for month in (nxt, f"{today.year + 1}-{today.month:02d}"):
        with refused("month", says="has not begun"):
            billing.start_month_end(month, till.cashier)
    assert billing.parse_month(today.strftime("%Y-%m")) == today.strftime("%Y-%m")


def test_prepaying_something_that_is_not_an_errand_is_refused(till):
    slip = till.open()
    with refused(says="not an errand"):
        billing.prepay_errand(slip, till.cashier, "cash", 3000)


def test_an_errand_not_prepaid_is_not_dispatched(till):
    errand = till.errand()
    before = _money_rows()
    with pytest.raises(DomainError) as err:
        svc.dispatch(errand, till.sup, till.worker.id)
    assert err.value.field == "worker_id" and "not prepaid yet" in english(err)
    assert errand.state == State.REGISTERED and _money_rows() == before


# ---- nothing disappears ---------------------------------------------------------------------

def _flush_refused(change: Callable[[], None]) -> None:
    change()
    with pytest.raises(MoneyTamper):
        _db.session.flush()
    _db.session.rollback()


@pytest.mark.parametrize("what", ["amount", "number", "method", "at", "delete"])
def test_a_payment_is_never_changed_or_deleted(till, what):
    payment = till.pay(till.finish(till.open()))
    _db.session.commit()
    change = {"amount": lambda: setattr(payment, "amount_fen", 1),
              "number": lambda: setattr(payment, "number", "RC209912-0001"),
              "method": lambda: setattr(payment, "method", "card"),
              "at": lambda: setattr(payment, "at", clock.now() - timedelta(days=3)),
              "delete": lambda: _db.session.delete(payment)}[what]
    _flush_refused(change)
    stored = _db.session.get(Payment, payment.id)
    assert (stored.amount_fen, stored.method) == (3000, "cash")


@pytest.mark.parametrize("what", ["counted", "delete"])
def test_a_cash_count_is_never_changed_or_deleted(till, what):
    counted = billing.count_cash(clock.local_today(), till.cashier, 12000)
    _db.session.commit()
    _flush_refused({"counted": lambda: setattr(counted, "counted_fen", 0),
                    "delete": lambda: _db.session.delete(counted)}[what])
    assert _db.session.get(CashCount, counted.id).counted_fen == 12000
    # a second count is a new row; the report shows the latest
    billing.count_cash(clock.local_today(), till.cashier, 11000, "Recounted")
    report = billing.day_report(clock.local_today())
    assert report.counted[till.cashier.id].counted_fen == 11000 and count(CashCount) == 2


@pytest.mark.parametrize("what", ["amount", "month", "reviewed_at", "reviewed_by_id",
                                  "statement_id", "delete"])
def test_an_account_entrys_stamps_are_written_once_and_nothing_else_changes(till, what):
    unit = till.unit()
    month, at = months_back(1)
    entry = till.owner_entry(unit, at)
    run = billing.start_month_end(month, till.cashier)
    billing.run_step(run, till.cashier)
    other = factories.user("supervisor")
    second = Statement(unit_id=unit.id, month=months_back(2)[0], total_fen=0,
                       created_by=till.cashier)
    _db.session.add(second)
    _db.session.commit()
    assert entry.statement_id is not None and entry.reviewed_at is not None
    change = {"amount": lambda: setattr(entry, "amount_fen", 1),
              "month": lambda: setattr(entry, "month", "2020-01"),
              "reviewed_at": lambda: setattr(entry, "reviewed_at", clock.now()),
              "reviewed_by_id": lambda: setattr(entry, "reviewed_by_id", other.id),
              "statement_id": lambda: setattr(entry, "statement_id", second.id),
              "delete": lambda: _db.session.delete(entry)}[what]
    _flush_refused(change)


def test_a_stamp_cannot_be_taken_off_either(till):
    entry = till.owner_entry(till.unit())
    _db.session.commit()
    entry.reviewed_at  # noqa: B018  (loaded, as a screen showing the entry would have it)
    _flush_refused(lambda: setattr(entry, "reviewed_at", None))


@pytest.mark.parametrize("what", ["reviewed_at", "statement_id"])
def test_a_stamp_not_loaded_since_the_commit_is_still_written_once(till, what):
    unit = till.unit()
    month, at = months_back(1)
    entry = till.owner_entry(unit, at)
    _run(month, till.cashier)
    other = Statement(unit_id=unit.id, month=months_back(2)[0], total_fen=0,
                      created_by=till.cashier)
    _db.session.add(other)
    _db.session.commit()   # the entry's attributes are expired, not loaded again
    _flush_refused({"reviewed_at": lambda: setattr(entry, "reviewed_at", None),
                    "statement_id": lambda: setattr(entry, "statement_id", other.id)}[what])


# ---- voiding a receipt --------------------------------------------------------------------

@pytest.mark.parametrize("handed_back", [False, True], ids=["paper-out", "handed-back"])
def test_a_voided_receipt_keeps_its_number_and_the_slip_is_owed_again(till, handed_back):
    slip = till.finish(till.open())
    if handed_back:
        till.hand_back(slip)
    first = till.pay(slip)
    number = first.number
    assert slip.state == (State.CLOSED if handed_back else State.SETTLED)
    with refused("reason", says="Give a reason"):
        billing.void(first, till.cashier, "   ")
    reversal = billing.void(first, till.cashier, "  Charged the wrong slip ")
    assert first.void and first.number == number and first.reversed_by == reversal
    assert (reversal.kind, reversal.number, reversal.amount_fen, reversal.note) == (
        PaymentKind.REVERSAL, None, -3000, "Charged the wrong slip")
    assert reversal.reverses == first and reversal.slip == slip
    assert billing.receipt(number) == first and billing.receipt(number).void
    assert slip.state == (State.HANDED_BACK if handed_back else State.COMPLETED)
    assert billing.owed_fen(slip) == 3000 and slip in [r.slip for r in billing.queue()]
    step = svc.timeline(slip)[-1]
    assert (step.action, step.note) == ("reverse", "Charged the wrong slip")
    assert audited("payment.reversal") == 1 and audited("slip.reverse") == 1
    assert billing.reversals() == [reversal]
    # paid again: a new number, the next one; the old one is never given again
    second = till.pay(slip)
    assert second.number != number
    assert int(RECEIPT.fullmatch(second.number).group(2)) == int(
        RECEIPT.fullmatch(number).group(2)) + 1
    assert slip.state == (State.CLOSED if handed_back else State.SETTLED)
    assert sorted(_db.session.scalars(select(Payment.number).where(
        Payment.number.is_not(None)))) == [number, second.number]


def test_a_receipt_is_voided_once_and_a_reversal_never(till):
    first = till.pay(till.finish(till.open()))
    reversal = billing.void(first, till.cashier, "Wrong slip")
    with refused(conflict=True, says="already void"):
        billing.void(first, till.cashier, "Again")
    with refused(says="reversal cannot be voided"):
        billing.void(reversal, till.cashier, "Undo the undo")


def test_a_voided_receipt_cannot_be_paid_or_voided_with_a_stale_screen(till):
    """A cashier whose screen still shows the voided receipt's slip as paid: voiding the
    receipt again changes nothing, and the slip is paid only once more."""
    slip = till.finish(till.open())
    first = till.pay(slip)
    billing.void(first, till.cashier, "Wrong amount")
    second = till.pay(slip)
    with refused(conflict=True, says="already void"):
        billing.void(first, till.cashier, "Wrong amount")
    assert not second.void and slip.state == State.SETTLED


def test_a_deposit_draw_voided_puts_the_money_back(till):
    unit = till.topped_up(10000)
    slip = till.finish(till.open(kind="tenant", unit=unit))
    draw = billing.draw_from_deposit(slip, till.cashier)
    assert (draw.method, draw.amount_fen, draw.deposit_fen) == ("deposit", 3000, -3000)
    assert billing.deposit_balance(unit) == 7000 and slip.state == State.SETTLED
    back = billing.void(draw, till.cashier, "Resident paid in cash instead")
    assert back.deposit_fen == 3000 and billing.deposit_balance(unit) == 10000
    assert slip.state == State.COMPLETED
    cash = till.pay(slip)
    assert cash.deposit_fen == 0 and billing.deposit_balance(unit) == 10000


def test_a_top_up_already_drawn_on_cannot_be_voided(till):
    unit = till.topped_up(3000)
    topup = billing.deposit_history(unit)[0]
    billing.draw_from_deposit(till.finish(till.open(kind="tenant", unit=unit)), till.cashier)
    with refused(says="already been drawn on"):
        billing.void(topup, till.cashier, "Typed the wrong unit")
    unused = billing.top_up(unit, till.cashier, "cash", 500)
    billing.void(unused, till.cashier, "Typed the wrong amount")
    assert billing.deposit_balance(unit) == 0


def test_a_resent_form_pays_once(till):
    slip = till.finish(till.open())
    first = till.pay(slip, request_key="form-abc-123")
    rows = _money_rows()
    again = till.pay(slip, request_key="form-abc-123")
    assert again == first and _money_rows() == rows
    unit = till.unit()
    top = billing.top_up(unit, till.cashier, "cash", 1000, request_key="form-top-1")
    assert billing.top_up(unit, till.cashier, "cash", 1000, request_key="form-top-1") == top
    assert billing.deposit_balance(unit) == 1000


def test_a_form_key_used_for_one_slip_does_not_pay_another(till):
    paid, other = till.finish(till.open()), till.finish(till.open())
    till.pay(paid, request_key="form-abc-123")
    with refused(says="already used for another slip"):
        till.pay(other, request_key="form-abc-123")
    assert other.state == State.COMPLETED and billing.owed_fen(other) == 3000


# ---- errands (代办) --------------------------------------------------------------------------

def test_an_errand_is_prepaid_fee_and_purchase_money_before_it_goes_out(till):
    errand = till.errand(purchase_fen=5000)
    assert errand.errand and billing.errand_prepayment_fen(errand) == 7000
    assert billing.needs_prepayment(errand)
    row = next(r for r in billing.queue() if r.slip == errand)
    assert (row.why, row.owed_fen) == ("errand_prepay", 7000)
    with refused("amount", says="prepaid in full: ¥70.00"):
        billing.prepay_errand(errand, till.cashier, "cash", 2000)
    with refused("note", says="more than the ¥70.00"):
        billing.prepay_errand(errand, till.cashier, "cash", 8000)
    paid = billing.prepay_errand(errand, till.cashier, "wechat", 7000)
    assert (paid.kind, paid.amount_fen, RECEIPT.fullmatch(paid.number) is not None) == (
        PaymentKind.ERRAND_PREPAY, 7000, True)
    assert billing.prepaid_fen(errand) == 7000 and not billing.needs_prepayment(errand)
    assert errand.state == State.REGISTERED and timeline(errand)[-1] == ("prepay", "registered")
    with refused(conflict=True, says="already prepaid"):
        billing.prepay_errand(errand, till.cashier, "cash", 7000)
    svc.dispatch(errand, till.sup, till.worker.id)
    assert errand.state == State.DISPATCHED
    with refused(says="already on its way"):
        billing.prepay_errand(errand, till.cashier, "cash", 7000)


def test_an_errand_is_completed_only_with_what_the_purchases_cost(till):
    errand = till.errand()
    billing.prepay_errand(errand, till.cashier, "cash", 7000)
    till.go(errand)
    for spent in (None, -1):
        with pytest.raises(DomainError) as err:
            till.sign(errand, spent=spent)
        assert err.value.field == "purchase_spent"
    assert errand.state == State.IN_PROGRESS
    till.sign(errand, spent=0)
    assert errand.state == State.COMPLETED and errand.purchase_spent_fen == 0


def _errand_back(till: Till, spent: int) -> Slip:
    errand = till.errand(purchase_fen=5000)
    billing.prepay_errand(errand, till.cashier, "cash", 7000)
    return till.finish(errand, spent=spent)


def test_an_errand_that_cost_less_gives_change_with_a_receipt(till):
    errand = _errand_back(till, 4200)
    assert billing.owed_fen(errand) == -800
    row = next(r for r in billing.queue() if r.slip == errand)
    assert (row.why, row.owed_fen) == ("errand_return", -800)
    change = billing.settle_errand(errand, till.cashier, "wechat")
    assert (change.kind, change.method, change.amount_fen) == (
        PaymentKind.ERRAND_CHANGE, Method.CASH, -800)
    assert RECEIPT.fullmatch(change.number) and errand.state == State.SETTLED
    assert billing.prepaid_fen(errand) == 6200 == errand.total_fen + errand.purchase_spent_fen


def test_an_errand_that_cost_more_collects_the_difference(till):
    errand = _errand_back(till, 6000)
    assert billing.owed_fen(errand) == 1000
    # the cashier's usual "take payment" reconciles an errand
    balance = billing.take_payment(errand, till.cashier, "alipay", 1000)
    assert (balance.kind, balance.method, balance.amount_fen) == (
        PaymentKind.ERRAND_BALANCE, "alipay", 1000)
    assert errand.state == State.SETTLED and billing.prepaid_fen(errand) == 8000


def test_an_errand_that_cost_exactly_the_purchase_money_settles_without_a_receipt(till):
    errand = _errand_back(till, 5000)
    payments = count(Payment)
    assert billing.settle_errand(errand, till.cashier, "cash") is None
    assert errand.state == State.SETTLED and count(Payment) == payments
    assert timeline(errand)[-1] == ("settle", "settled")
    till.hand_back(errand)
    assert errand.state == State.CLOSED


def test_an_errand_change_voided_is_owed_again(till):
    errand = _errand_back(till, 4200)
    change = billing.settle_errand(errand, till.cashier, "cash")
    billing.void(change, till.cashier, "Gave the change by WeChat, not cash")
    assert errand.state == State.COMPLETED and billing.owed_fen(errand) == -800


def test_the_prepayment_of_a_cancelled_errand_is_voided(till):
    errand = till.errand()
    prepay = billing.prepay_errand(errand, till.cashier, "cash", 7000)
    svc.cancel(errand, till.clerk, "Resident bought it themselves")
    reversal = billing.void(prepay, till.cashier, "Errand cancelled: money handed back")
    assert prepay.void and reversal.amount_fen == -7000 and billing.prepaid_fen(errand) == 0
    assert errand.state == State.CANCELLED


def test_the_prepayment_of_an_errand_under_way_is_not_voided(till):
    errand = till.errand()
    prepay = billing.prepay_errand(errand, till.cashier, "cash", 7000)
    svc.dispatch(errand, till.sup, till.worker.id)
    with refused(says="under way"):
        billing.void(prepay, till.cashier, "Oops")


def test_an_errand_not_back_yet_is_not_settled(till):
    errand = till.errand()
    billing.prepay_errand(errand, till.cashier, "cash", 7000)
    till.go(errand)
    with refused(says="not finished yet"):
        billing.settle_errand(errand, till.cashier, "cash")


# ---- tenants' deposits (预交) ----------------------------------------------------------------

def test_a_tenants_slip_is_drawn_from_the_deposit(till):
    unit = till.topped_up(10000)
    topup = billing.deposit_history(unit)[0]
    assert (topup.kind, topup.amount_fen, topup.deposit_fen) == (PaymentKind.TOPUP, 10000, 10000)
    assert RECEIPT.fullmatch(topup.number)
    slip = till.finish(till.open(kind="tenant", unit=unit))
    row = next(r for r in billing.queue() if r.slip == slip)
    assert (row.why, row.owed_fen, row.balance_fen) == ("deposit", 3000, 10000)
    draw = billing.draw_from_deposit(slip, till.cashier)
    assert (draw.kind, draw.method, draw.deposit_fen) == (PaymentKind.SLIP, "deposit", -3000)
    assert RECEIPT.fullmatch(draw.number) and slip.state == State.SETTLED
    assert billing.deposit_balance(unit) == 7000
    assert billing.deposit_history(unit) == [draw, topup]
    account = billing.unit_account(unit)
    assert account.deposit_fen == 7000 and account.deposit_moves == [draw, topup]


def test_a_draw_above_the_balance_says_how_much_is_short(till):
    unit = till.topped_up(1000)
    slip = till.finish(till.open(kind="tenant", unit=unit))
    with refused("method", says="¥20.00 short"):
        billing.draw_from_deposit(slip, till.cashier)
    assert slip.state == State.COMPLETED and billing.deposit_balance(unit) == 1000
    billing.top_up(unit, till.cashier, "cash", 2000)
    billing.draw_from_deposit(slip, till.cashier)
    assert billing.deposit_balance(unit) == 0 and slip.state == State.SETTLED


def test_shortfalls_are_shown_before_dispatch(till):
    unit = till.topped_up(2000)
    first = till.open(kind="tenant", unit=unit)
    second = till.open(svc.LineRequest(till.item(TAP), 1, 2500), kind="tenant", unit=unit)
    svc.dispatch(second, till.sup, till.worker.id)
    owner = till.open(kind="owner")
    nobody = till.open()
    poor = till.open(kind="tenant")     # no deposit at all
    cancelled = till.open(kind="tenant", unit=unit)
    svc.cancel(cancelled, till.clerk, "Not needed")
    # the unit's open slips need 30 + 25 yuan; the deposit holds 20
    assert billing.shortfalls([first, second, owner, nobody, poor]) == {
        first.id: 3500, second.id: 3500, poor.id: 3000}
    billing.top_up(unit, till.cashier, "cash", 3500)
    assert billing.shortfalls([first, second, owner, poor]) == {poor.id: 3000}
    billing.draw_from_deposit(till.finish(first), till.cashier)  # drawn: no longer waiting
    assert billing.shortfalls([second]) == {}
    # money promised to a refund is not there to draw on: the slip is short again
    billing.request_refund(unit, till.cashier, 2000, "Part of the deposit back")
    assert billing.shortfalls([second]) == {second.id: 2000}  # holds 25, 20 promised, needs 25


def test_a_top_up_promised_to_a_refund_cannot_be_voided(till):
    unit = till.topped_up(3000)
    topup = billing.deposit_history(unit)[0]
    billing.request_refund(unit, till.cashier, 1000, "Moving out")
    with refused(says="promised to a refund"):
        billing.void(topup, till.cashier, "Typed the wrong unit")
    assert not topup.void and billing.deposit_balance(unit) == 3000


def test_a_refund_is_asked_approved_and_paid_out(till):
    unit = till.topped_up(10000)
    refund = billing.request_refund(unit, till.cashier, 6000, "  Moving out ")
    assert (refund.state, refund.reason, refund.amount_fen) == (RefundState.PENDING,
                                                              "Moving out", 6000)
    assert billing.refunds(RefundState.PENDING) == [refund]
    # the pending refund counts against what may still be asked for
    with refused("amount", says="¥40.00 available"):
        billing.request_refund(unit, till.cashier, 4001, "More")
    with refused(conflict=True, says="approved refund"):
        billing.pay_refund(refund, till.cashier, "cash")
    billing.decide_refund(refund, till.manager, True)
    assert refund.state == RefundState.APPROVED and refund.decided_by == till.manager
    with refused(conflict=True, says="already decided"):
        billing.decide_refund(refund, till.manager, False, "Changed my mind")
    voucher = billing.pay_refund(refund, till.cashier, "bank_transfer")
    assert (voucher.kind, voucher.amount_fen, voucher.deposit_fen) == (
        PaymentKind.REFUND, -6000, -6000)
    assert RECEIPT.fullmatch(voucher.number) and refund.state == RefundState.PAID
    assert billing.deposit_balance(unit) == 4000
    with refused(conflict=True, says="approved refund"):
        billing.pay_refund(refund, till.cashier, "cash")
    with refused(says="not voided"):
        billing.void(voucher, till.cashier, "Paid by mistake")
    assert audited("deposit.refund_request") == 1 and audited("deposit.refund_approve") == 1


def test_a_refund_refused_needs_a_reason_and_frees_the_money(till):
    unit = till.topped_up(5000)
    refund = billing.request_refund(unit, till.cashier, 5000, "Moving out")
    with refused("note", says="Give a reason"):
        billing.decide_refund(refund, till.manager, False, "  ")
    billing.decide_refund(refund, till.manager, False, "Lease runs to March")
    assert refund.state == RefundState.REJECTED and refund.decision_note == "Lease runs to March"
    with refused(conflict=True):
        billing.pay_refund(refund, till.cashier, "cash")
    assert billing.deposit_balance(unit) == 5000
    again = billing.request_refund(unit, till.cashier, 5000, "Moved out in March")
    assert again.state == RefundState.PENDING


def test_a_refund_above_the_balance_is_refused(till):
    unit = till.topped_up(1000)
    with refused("amount", says="¥10.00 available"):
        billing.request_refund(unit, till.cashier, 1001, "Moving out")
    with refused("reason", says="Give a reason"):
        billing.request_refund(unit, till.cashier, 500, "   ")
    empty = till.unit()
    with refused("amount", says="¥0.00 available"):
        billing.request_refund(empty, till.cashier, 1, "Moving out")


def test_money_promised_to_a_refund_is_not_drawn_for_a_slip(till):
    """The deposit holds 50; 40 of it is promised back to the tenant (approved, not yet paid
    out): a 30 slip cannot be drawn from it, and the refund is still paid in full."""
    unit = till.topped_up(5000)
    refund = billing.request_refund(unit, till.cashier, 4000, "Moving out")
    billing.decide_refund(refund, till.manager, True)
    slip = till.finish(till.open(kind="tenant", unit=unit))
    with refused("method", says="¥10.00, ¥20.00 short"):
        billing.draw_from_deposit(slip, till.cashier)
    assert slip.state == State.COMPLETED and billing.deposit_balance(unit) == 5000
    billing.pay_refund(refund, till.cashier, "cash")
    assert refund.state == RefundState.PAID and billing.deposit_balance(unit) == 1000


def test_the_board_the_till_and_the_phone_agree_on_a_short_deposit(till):
    """One rule (settlement.deposit_short, with what refunds promised taken out): the board's
    warning, the till's queue and panel and the worker's fee screen show the same shortfall."""
    from app.views.field import _pay_facts

    unit = till.topped_up(5000)
    billing.request_refund(unit, till.cashier, 3000, "Moving out")   # pending: promised
    slip = till.finish(till.open(kind="tenant", unit=unit))             # owes 30, 20 there
    row = next(r for r in billing.queue() if r.slip == slip)
    assert (row.balance_fen, row.short_fen, row.can_draw) == (2000, 1000, False)
    assert billing.shortfalls([slip]) == {slip.id: 1000}
    facts = _pay_facts(slip)
    assert (facts["balance_fen"], facts["short_fen"]) == (2000, 1000)
    with refused("method", says="¥10.00 short"):
        billing.draw_from_deposit(slip, till.cashier)
    till.topped_up(1000, unit)
    row = next(r for r in billing.queue() if r.slip == slip)
    assert (row.short_fen, row.can_draw) == (0, True) and billing.shortfalls([slip]) == {}
    assert _pay_facts(slip)["short_fen"] == 0
    billing.draw_from_deposit(slip, till.cashier)
    assert slip.state == State.SETTLED


# ---- month end (月结) ------------------------------------------------------------------------

def _run(month: str, cashier: User, batch: int = 25) -> StatementRun:
    run = billing.start_month_end(month, cashier)
    for _ in range(1000):
        if run.finished_at is not None:
            return run
        billing.run_step(run, cashier, batch=batch)
    raise AssertionError("month end never finished")


def test_a_statement_takes_every_reviewed_unbilled_entry_up_to_the_month(till):
    unit = till.unit()
    (m2, at2), (m1, at1), (m0, at0) = months_back(2), months_back(1), months_back(0)
    old = till.owner_entry(unit, at2)
    last = till.owner_entry(unit, at1, tap=2500)
    pending = till.owner_entry(unit, at1, reviewed=False)
    current = till.owner_entry(unit, at0)
    assert (old.month, last.month, current.month) == (m2, m1, m0)
    run = _run(m1, till.cashier)
    statement = billing.statement_of(unit, m1)
    assert statement.entries == [old, last] and statement.total_fen == 5500
    assert statement.total_fen == sum(e.amount_fen for e in statement.entries)
    assert (run.statements_made, run.total_fen, run.units_done) == (1, 5500, 1)
    assert pending.statement_id is None and current.statement_id is None
    assert billing.statement_due_fen(statement) == 5500
    account = billing.unit_account(unit)
    assert account.statements == [(statement, 5500)] and account.unbilled_fen == 3000
    assert audited("statement.issue") == 1 and audited("statement.run") == 1
    # the pending one is reviewed late: it waits for the next month's statement
    billing.review_entry(pending, till.sup)
    again = _run(m1, till.cashier)
    assert again.statements_made == 0 and count(Statement) == 1
    assert billing.statement_of(unit, m1).total_fen == 5500 and pending.statement_id is None
    _run(m0, till.cashier)
    this = billing.statement_of(unit, m0)
    assert this.entries == [pending, current] and this.total_fen == 6000
    # no entry is on two statements, and every reviewed one is on exactly one
    billed = _db.session.scalars(select(AccountEntry.statement_id)).all()
    assert len(billed) == 4 and None not in billed


def test_running_month_end_twice_bills_nothing_twice(till):
    month, at = months_back(1)
    units = [till.unit() for _ in range(3)]
    for u in units:
        till.owner_entry(u, at)
    first = _run(month, till.cashier)
    second = _run(month, till.cashier)
    assert (first.statements_made, second.statements_made) == (3, 0)
    assert second.id != first.id and count(Statement) == 3
    assert count(AccountEntry, AccountEntry.statement_id.is_(None)) == 0


def test_a_reversed_entry_lands_on_the_next_statement(till):
    unit = till.unit()
    m1, at1 = months_back(1)
    m0, _ = months_back(0)
    entry = till.owner_entry(unit, at1)
    slip = entry.slip
    _run(m1, till.cashier)
    assert billing.statement_of(unit, m1).total_fen == 3000 and slip.state == State.ON_ACCOUNT
    with refused("note", says="Give a reason"):
        billing.reverse_entry(entry, till.sup, " ")
    undo = billing.reverse_entry(entry, till.sup, "Resident paid cash at the door")
    assert (undo.amount_fen, undo.month, undo.reverses, undo.reason) == (
        -3000, m0, entry, "Resident paid cash at the door")
    assert entry.reversed and entry.statement_id is not None and entry.amount_fen == 3000
    assert slip.state == State.COMPLETED and slip.pay_route == PayRoute.PAY_NOW
    assert billing.owed_fen(slip) == 3000 and slip in [r.slip for r in billing.queue()]
    assert billing.entry_reversals() == [undo]
    with refused(conflict=True, says="already reversed"):
        billing.reverse_entry(entry, till.sup, "Again")
    with refused(says="itself a reversal"):
        billing.reverse_entry(undo, till.sup, "Undo the undo")
    _run(m0, till.cashier)
    assert billing.statement_of(unit, m0).entries == [undo]
    assert billing.statement_of(unit, m0).total_fen == -3000
    assert billing.statement_of(unit, m1).total_fen == 3000   # an issued statement stands


def test_an_entry_reversed_before_review_is_never_billed(till):
    unit = till.unit()
    m0, _ = months_back(0)
    entry = till.owner_entry(unit, reviewed=False)
    slip = entry.slip
    billing.reverse_entry(entry, till.cashier, "Resident prefers to pay now")
    assert slip.state == State.COMPLETED and slip.pay_route == PayRoute.PAY_NOW
    assert billing.entries_to_review() == []   # nothing left for the supervisor to post
    till.pay(slip)
    run = _run(m0, till.cashier)
    # paid at the till: the owner's statement neither bills it nor credits it back
    assert run.statements_made == 0 and billing.statement_of(unit, m0) is None
    assert billing.unit_account(unit).unbilled_fen == 0


@pytest.mark.parametrize("batch", [1, 2, 3, 100])
def test_month_end_in_small_steps_reaches_the_same_statements(till, batch):
    month, at = months_back(1)
    units = [till.unit() for _ in range(7)]
    expected: dict[int, int] = defaultdict(int)
    for i, u in enumerate(units):
        for _ in range(1 + i % 3):
            expected[u.id] += till.owner_entry(u, at, tap=1000 + 100 * i).amount_fen
    till.owner_entry(till.unit(), at, reviewed=False)   # nothing to bill for this one
    run = billing.start_month_end(month, till.cashier)
    assert run.units_total == 7
    steps = 0
    while run.finished_at is None:
        billing.run_step(run, till.cashier, batch=batch)
        steps += 1
        assert run.units_done <= 7
    assert steps == 7 // batch + 1
    got = {s.unit_id: s.total_fen for s in _db.session.scalars(select(Statement))}
    assert got == dict(expected)
    assert (run.units_done, run.statements_made, run.total_fen) == (
        7, 7, sum(expected.values()))
    for s in _db.session.scalars(select(Statement)):
        assert s.total_fen == sum(e.amount_fen for e in s.entries) and s.month == month


def test_a_run_stepped_from_a_stale_screen_carries_on_where_the_other_got(app, db, till):
    """Two cashiers' screens drive the same run: each step starts from the run as stored,
    not as the screen last saw it, so no unit is counted twice."""
    month, at = months_back(1)
    for _ in range(3):
        till.owner_entry(till.unit(), at)
    run = billing.start_month_end(month, till.cashier)
    db.session.commit()
    assert (run.units_total, run.units_done, run.last_unit_id) == (3, 0, 0)  # this screen
    run_id, cashier_id = run.id, till.cashier.id
    with app.app_context():  # the other cashier's request, with its own session
        theirs = _db.session.get(StatementRun, run_id)
        billing.run_step(theirs, _db.session.get(User, cashier_id), batch=2)
        _db.session.commit()
        _db.session.remove()
    billing.run_step(run, till.cashier, batch=2)
    assert run.finished_at is not None
    assert (run.units_done, run.statements_made, run.total_fen) == (3, 3, 9000)
    assert billing.start_month_end(month, till.cashier).id != run.id  # it is finished


def test_a_statement_is_paid_in_part_then_in_full(till):
    unit = till.unit()
    month, at = months_back(1)
    till.owner_entry(unit, at)
    till.owner_entry(unit, at, tap=2500)
    _run(month, till.cashier)
    statement = billing.statement_of(unit, month)
    assert statement.total_fen == 5500
    for bad, says in ((0, "above zero"), (-100, "above zero"), (MAX_FEN + 1, "too large")):
        with refused("amount", says=says):
            billing.pay_statement(statement, till.cashier, "cash", bad)
    part = billing.pay_statement(statement, till.cashier, "wechat", 2000, payer_name="张伟")
    assert (part.kind, part.statement, part.amount_fen) == (PaymentKind.STATEMENT, statement,
                                                            2000)
    assert RECEIPT.fullmatch(part.number) and billing.statement_due_fen(statement) == 3500
    with refused("note", says="more than the ¥35.00 owed"):
        billing.pay_statement(statement, till.cashier, "cash", 4000)
    rest = billing.pay_statement(statement, till.cashier, "cash", 3500)
    assert billing.statement_due_fen(statement) == 0 and statement.payments == [part, rest]
    with refused(conflict=True, says="is paid"):
        billing.pay_statement(statement, till.cashier, "cash", 100, note="again")
    # a statement payment voided: the statement is owed again
    billing.void(rest, till.cashier, "Card payment failed")
    assert billing.statement_due_fen(statement) == 3500


# ---- the day's cash report -----------------------------------------------------------------

def test_the_day_report_adds_up_by_method_and_by_cashier(till):
    today = clock.local_today()
    yesterday_at = datetime.combine(today - timedelta(days=1), datetime.min.time(),
                                    clock.zone()).replace(hour=15)
    other = factories.user("cashier")
    with clock.at(yesterday_at):
        old = till.pay(till.finish(till.open()))              # 30 cash yesterday
    unit = till.topped_up(10000)                                # 100 cash by till.cashier
    billing.top_up(unit, other, "wechat", 2000)                 # 20 WeChat by the other
    till.pay(till.finish(till.open()))                          # 30 cash
    billing.take_payment(till.finish(till.open(svc.LineRequest(till.item(TAP), 1, 2500))),
                         other, "card", 2500)                   # 25 card by the other
    billing.draw_from_deposit(till.finish(till.open(kind="tenant", unit=unit)),
                              till.cashier)                     # 30 from the deposit
    billing.void(old, other, "Paid twice yesterday")            # -30 cash today, by the other
    billing.count_cash(today, till.cashier, 12500, "Short 5 yuan")
    report = billing.day_report(today)
    todays = [p for p in _db.session.scalars(select(Payment)) if p.id != old.id]
    assert {p.id for p in report.payments} == {p.id for p in todays}
    by_method: dict[str, int] = defaultdict(int)
    by_cashier: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for p in todays:
        by_method[p.method] += p.amount_fen
        by_cashier[p.cashier_id][p.method] += p.amount_fen
    assert report.by_method == dict(by_method) == {"cash": 13000 - 3000, "wechat": 2000,
                                                   "card": 2500, "deposit": 3000}
    assert report.by_cashier == {k: dict(v) for k, v in by_cashier.items()}
    # the deposit draw moved no money: not in the day's takings
    assert report.total_fen == 10000 + 2000 + 3000 + 2500 - 3000 == 14500
    assert report.expected_cash(till.cashier.id) == 13000
    assert report.expected_cash(other.id) == -3000
    assert report.difference(till.cashier.id) == -500 and report.difference(other.id) is None
    assert (report.receipts, report.voided) == (5, 1)   # the reversal has no number
    assert set(report.cashiers) == {till.cashier.id, other.id}
    # yesterday's report still shows the receipt as taken, and now as void
    before = billing.day_report(today - timedelta(days=1))
    assert [p.id for p in before.payments] == [old.id] and before.total_fen == 3000
    assert before.payments[0].void


def test_a_day_is_given_as_a_day_that_has_begun(till):
    today = clock.local_today()
    assert billing.parse_day(today.isoformat()) == today
    for typed in ("", "2026-02-30", "yesterday", "22/11/2026", None):
        with pytest.raises(DomainError) as err:
            billing.parse_day(typed)
        assert err.value.field == "day" and "YYYY-MM-DD" in english(err)
    with pytest.raises(DomainError) as err:
        billing.parse_day((today + timedelta(days=1)).isoformat())
    assert "not come yet" in english(err)
    with refused("day", says="not come yet"):
        billing.count_cash(today + timedelta(days=1), till.cashier, 100)
    with refused("counted", says="zero or more"):
        billing.count_cash(today, till.cashier, -1)


# ---- two tills at the same moment ------------------------------------------------------------

PARALLEL = 20


@pytest.fixture
def crowd_app(database_url, tmp_path):
    """A second app on the suite's database with a pool big enough for 20 connections at once."""
    base = make_config(database_url, tmp_path / "instance")

    class Crowd(base):
        SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = {"pool_size": PARALLEL + 2,
                                                     "max_overflow": 0, "pool_timeout": 30}
    crowd = create_app(Crowd)
    yield crowd
    with crowd.app_context():
        _db.engine.dispose()


def _at_once(app, jobs: list[Callable[[threading.Barrier], str]]) -> list[str]:
    """Run each job in its own thread, app context and session; they wait on one barrier
    (each job reads first, then waits, then writes). Returns each job's outcome: what it
    returned, 'conflict: <message>' or 'error: <exception>'."""
    barrier = threading.Barrier(len(jobs))
    out: list[str] = [""] * len(jobs)

    def run(i: int, job) -> None:
        with app.app_context():
            try:
                out[i] = job(barrier)
                _db.session.commit()
            except Conflict as err:
                _db.session.rollback()
                with force_locale("en"):
                    out[i] = f"conflict: {err.message}"
            except Exception as err:  # noqa: BLE001  (every failure is reported by the test)
                _db.session.rollback()
                out[i] = f"error: {type(err).__name__}: {err}"
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return out


def _is_wal(db) -> None:
    if db.engine.dialect.name == "sqlite":  # a file in WAL mode, not an in-memory database
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.engine.url.database and db.engine.url.database != ":memory:"


def _pays(slip_id: int, cashier_id: int, method: str):
    def job(barrier: threading.Barrier) -> str:
        slip, cashier = _db.session.get(Slip, slip_id), _db.session.get(User, cashier_id)
        owed = billing.owed_fen(slip)
        barrier.wait(timeout=30)
        number = billing.take_payment(slip, cashier, method, owed).number
        _db.session.commit()
        return number
    return job


ROUNDS = 6


def test_two_cashiers_paying_the_same_slip_at_the_same_moment_issue_one_receipt(
        real_db, app, db, till):
    second = factories.user("cashier")
    slips = [till.finish(till.open()) for _ in range(ROUNDS)]
    db.session.commit()
    _is_wal(db)
    ids = [s.id for s in slips]
    for slip_id in ids:
        outcome = _at_once(app, [_pays(slip_id, till.cashier.id, "cash"),
                                 _pays(slip_id, second.id, "wechat")])
        paid = [o for o in outcome if RECEIPT.fullmatch(o)]
        told = [o for o in outcome if o.startswith("conflict: ")]
        assert len(paid) == 1 and len(told) == 1, outcome
        assert "same moment" in told[0] or "already settled" in told[0], outcome
    db.session.expire_all()
    month = month_of()
    assert sorted(db.session.scalars(select(Payment.number))) == [
        f"RC{month}-{n:04d}" for n in range(1, ROUNDS + 1)]
    for slip_id in ids:
        slip = db.session.get(Slip, slip_id)
        assert slip.state == State.SETTLED and slip.version == 7  # opened + 6 steps, once
        assert count(Payment, Payment.slip_id == slip_id) == 1
        assert count(SlipEvent, SlipEvent.slip_id == slip_id, SlipEvent.action == "settle") == 1
    assert audited("payment.slip") == ROUNDS


@pytest.mark.parametrize("already", [0, 3], ids=["first-of-the-month", "mid-month"])
def test_twenty_payments_at_once_get_twenty_consecutive_receipt_numbers(real_db,
        app, db, crowd_app, till, already):
    slips = [till.finish(till.open()) for _ in range(PARALLEL)]
    cashiers = [till.cashier] + [factories.user("cashier") for _ in range(3)]
    for _ in range(already):
        till.topped_up(1000)
    db.session.commit()
    _is_wal(db)
    methods = ["cash", "wechat", "alipay", "card", "bank_transfer"]
    outcome = _at_once(crowd_app, [
        _pays(s.id, cashiers[i % len(cashiers)].id, methods[i % len(methods)])
        for i, s in enumerate(slips)])
    assert all(RECEIPT.fullmatch(o) for o in outcome), outcome
    month = month_of()
    assert sorted(outcome) == [f"RC{month}-{n:04d}"
                               for n in range(already + 1, already + PARALLEL + 1)]
    db.session.expire_all()
    assert sorted(db.session.scalars(select(Payment.number))) == [
        f"RC{month}-{n:04d}" for n in range(1, already + PARALLEL + 1)]
    assert count(Slip, Slip.state == State.SETTLED.value) == PARALLEL
    assert billing.day_report(clock.local_today()).total_fen == PARALLEL * 3000 + already * 1000


def _month_end(month: str, cashier_id: int):
    def job(barrier: threading.Barrier) -> str:
        cashier = _db.session.get(User, cashier_id)
        barrier.wait(timeout=30)
        run = billing.start_month_end(month, cashier)
        _db.session.commit()
        while run.finished_at is None:
            billing.run_step(run, cashier, batch=2)
            _db.session.commit()
        return f"made {run.statements_made}"
    return job


def _billed_once(db) -> None:
    """Every reviewed entry is on exactly one statement whose total is its entries' sum."""
    db.session.expire_all()
    for s in db.session.scalars(select(Statement)):
        assert s.total_fen == sum(e.amount_fen for e in s.entries), s.month
    assert count(AccountEntry, AccountEntry.statement_id.is_(None),
                 AccountEntry.reviewed_at.is_not(None)) == 0
    rows = db.session.execute(select(Statement.unit_id, Statement.month)).all()
    assert len(rows) == len(set(rows))


def test_two_month_end_runs_at_once_bill_each_unit_once(real_db, app, db, till):
    month, at = months_back(1)
    units = [till.unit() for _ in range(5)]
    total = sum(till.owner_entry(u, at).amount_fen for u in units for _ in range(2))
    second = factories.user("cashier")
    db.session.commit()
    _is_wal(db)
    outcome = _at_once(app, [_month_end(month, till.cashier.id), _month_end(month, second.id)])
    assert all(o.startswith("made ") for o in outcome), outcome
    _billed_once(db)
    assert count(Statement) == 5
    assert db.session.scalar(select(func.sum(Statement.total_fen))) == total
    # one run or two (the second cashier may join the first's): the progress adds up
    runs = db.session.scalars(select(StatementRun)).all()
    assert all(r.finished_at is not None and r.units_done <= 5 for r in runs)
    assert sum(r.statements_made for r in runs) == 5
    assert sum(r.total_fen for r in runs) == total


def test_two_months_ended_at_once_never_put_an_entry_on_two_statements(real_db, app, db, till):
    (m2, at2), (m1, at1) = months_back(2), months_back(1)
    units = [till.unit() for _ in range(4)]
    total = 0
    for u in units:
        total += till.owner_entry(u, at2).amount_fen + till.owner_entry(u, at1).amount_fen
    second = factories.user("cashier")
    db.session.commit()
    outcome = _at_once(app, [_month_end(m2, till.cashier.id), _month_end(m1, second.id)])
    assert all(o.startswith("made ") for o in outcome), outcome
    _billed_once(db)
    assert db.session.scalar(select(func.sum(Statement.total_fen))) == total


def test_two_cashiers_paying_the_same_statement_at_once_take_it_once(real_db, app, db, till):
    month, at = months_back(1)
    unit = till.unit()
    till.owner_entry(unit, at)
    till.owner_entry(unit, at, tap=2500)
    _run(month, till.cashier)
    statement = billing.statement_of(unit, month)
    second = factories.user("cashier")
    db.session.commit()
    statement_id = statement.id

    def pays(cashier_id: int):
        def job(barrier: threading.Barrier) -> str:
            st = _db.session.get(Statement, statement_id)
            cashier = _db.session.get(User, cashier_id)
            due = billing.statement_due_fen(st)
            barrier.wait(timeout=30)
            number = billing.pay_statement(st, cashier, "cash", due).number
            _db.session.commit()
            return number
        return job

    outcome = _at_once(app, [pays(till.cashier.id), pays(second.id)])
    assert sorted(o[:9] for o in outcome) == [f"RC{month_of()}-", "conflict:"], outcome
    db.session.expire_all()
    statement = db.session.get(Statement, statement_id)
    assert billing.statement_due_fen(statement) == 0 and len(statement.payments) == 1


def test_two_draws_on_one_deposit_at_once_never_overdraw_it(real_db, app, db, till):
    unit = till.topped_up(4000)            # enough for one 30-yuan slip, not two
    slips = [till.finish(till.open(kind="tenant", unit=unit)) for _ in range(2)]
    second = factories.user("cashier")
    db.session.commit()

    def draws(slip_id: int, cashier_id: int):
        def job(barrier: threading.Barrier) -> str:
            slip, cashier = _db.session.get(Slip, slip_id), _db.session.get(User, cashier_id)
            barrier.wait(timeout=30)
            try:
                number = billing.draw_from_deposit(slip, cashier).number
            except Conflict:
                raise
            except DomainError as err:
                with force_locale("en"):
                    return f"refused: {err.message}"
            _db.session.commit()
            return number
        return job

    outcome = _at_once(app, [draws(slips[0].id, till.cashier.id), draws(slips[1].id, second.id)])
    assert len([o for o in outcome if RECEIPT.fullmatch(o)]) == 1, outcome
    assert any(o.startswith("refused: ") and "¥20.00 short" in o for o in outcome), outcome
    db.session.expire_all()
    assert billing.deposit_balance(db.session.get(Unit, unit.id)) == 1000


# ---- a dispute resolved: the fee stands and is collected ---------------------------------------

def _collected_where(slip) -> set[str]:
    """Where the office will collect this slip's money: the till, the account review, both
    or neither (an empty set with money owed is money lost)."""
    places = set()
    if slip in [r.slip for r in billing.queue()]:
        places.add("till")
    if any(e.slip_id == slip.id for e in billing.entries_to_review()):
        places.add("review")
    return places


@pytest.mark.parametrize("disputed_at", [State.IN_PROGRESS, State.COMPLETED,
                                         State.HANDED_BACK])
@pytest.mark.parametrize("kind, place", [("owner", "review"), (None, "till")])
def test_a_resolved_dispute_keeps_its_fee_where_the_office_collects_it(till, disputed_at,
                                                                         kind, place):
    slip = till.go(till.open(kind=kind))
    if disputed_at != State.IN_PROGRESS:
        till.sign(slip)
    if disputed_at == State.HANDED_BACK:
        till.hand_back(slip)
    svc.dispute(slip, till.clerk, "住户说还是漏水")
    assert _collected_where(slip) <= {place}  # nothing is reviewed or paid while disputed
    svc.resolve(slip, till.sup, "复查无问题，按原价收费")
    assert slip.state == State.COMPLETED and slip.completed_at is not None
    assert billing.owed_fen(slip) == slip.total_fen > 0
    assert _collected_where(slip) == {place}
    if place == "review":  # one entry, for the fee, whether the resident had signed or not
        entries = [e for e in billing.entries_to_review() if e.slip_id == slip.id]
        assert [e.amount_fen for e in entries] == [slip.total_fen]
        billing.review_entry(entries[0], till.sup)
        assert slip.state == State.ON_ACCOUNT
    else:
        till.pay(slip)
        assert slip.state == State.SETTLED
