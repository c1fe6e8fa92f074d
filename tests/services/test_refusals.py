"""A resident who says no at the door: the worker records it, never cancels; the supervisor
closes it (nothing charged, or a call-out fee through the payer's route) or has it quoted
again. No refusal ends quietly, and no call-out fee is lost."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.domain.errors import Conflict, DomainError
from app.domain.settlement import TillStep
from app.domain.slip_states import State
from app.extensions import db as _db
from app.models.billing import AccountEntry
from app.services import billing, refusals
from app.services import slips as svc
from tests.factories import DRAIN, TAP, acceptance

REASON = "住户嫌贵，不修了"


def at_the_door(till, **kw):
    slip = till.open(**kw)
    svc.dispatch(slip, till.sup, till.worker.id)
    svc.check_in(slip, till.worker)
    return slip


def refused(till, **kw):
    return refusals.refuse(at_the_door(till, **kw), till.worker, REASON)


def english(err) -> str:
    return str(err.value)


def entries(slip) -> int:
    return _db.session.scalar(select(func.count()).select_from(AccountEntry)
                              .where(AccountEntry.slip_id == slip.id))


# ---- the worker at the door -----------------------------------------------------------------

def test_after_check_in_the_worker_cannot_cancel_but_records_the_refusal(till):
    slip = at_the_door(till)
    with pytest.raises(DomainError) as err:
        svc.cancel(slip, till.worker, "住户不要了")
    assert "not possible now" in english(err) and slip.state == State.ON_SITE
    with pytest.raises(DomainError) as err:
        refusals.refuse(slip, till.worker, "   ")
    assert err.value.field == "note" and slip.state == State.ON_SITE
    refusals.refuse(slip, till.worker, f"  {REASON} ")
    assert slip.state == State.REFUSED and slip.refusal_reason == REASON
    step = svc.timeline(slip)[-1]
    assert (step.action, step.from_state, step.actor_id) == ("refuse", "on_site", till.worker.id)


def test_the_office_cannot_cancel_at_the_door_either(till):
    slip = at_the_door(till)
    for who in (till.clerk, till.sup):
        with pytest.raises(Conflict):
            svc.cancel(slip, who, "住户打电话说不要了")
    assert slip.state == State.ON_SITE


def test_a_refusal_while_a_price_waits_drops_the_price_asked(till):
    slip = at_the_door(till)
    tap = till.open(svc.LineRequest(till.item(TAP)))
    svc.dispatch(tap, till.sup, till.worker.id)
    svc.check_in(tap, till.worker)
    svc.confirm_fee(tap, till.worker, {tap.lines[0].id: 9000})
    assert tap.state == State.AWAITING_PRICE and tap.needs_approval
    refusals.refuse(tap, till.worker, "要九十块太贵了")
    assert tap.state == State.REFUSED and not tap.needs_approval
    assert tap.agreed_total_fen is None and tap.total_fen == tap.quoted_total_fen
    assert slip.state == State.ON_SITE


def test_a_refused_slip_waits_on_the_board_and_stays_on_the_workers_phone(till):
    slip = refused(till)
    assert slip in svc.board().lanes[State.REFUSED]
    active, _done = svc.worker_jobs(till.worker)
    assert slip in active
    assert billing.till_step(slip) is None and billing.owed_fen(slip) == slip.total_fen


# ---- the supervisor decides -----------------------------------------------------------------

@pytest.mark.parametrize("decide", [
    lambda t, s: refusals.requote(s, t.clerk, "再谈"),
    lambda t, s: refusals.close_refused(s, t.worker, "算了"),
    lambda t, s: refusals.charge_call_out(s, t.cashier, t.item(TAP), 2000, "上门检查"),
], ids=["requote by the clerk", "close by the worker", "call-out by the cashier"])
def test_only_the_supervisor_decides_a_refusal(till, decide):
    slip = refused(till)
    with pytest.raises(DomainError):
        decide(till, slip)
    assert slip.state == State.REFUSED and entries(slip) == 0


def test_quoted_again_the_worker_agrees_the_fee_and_finishes(till):
    slip = refused(till)
    refusals.requote(slip, till.sup, "主管电话沟通，按原价修")
    assert slip.state == State.ON_SITE
    svc.confirm_fee(slip, till.worker, {})
    svc.complete(slip, till.worker, acceptance())
    assert slip.state == State.COMPLETED
    assert [r.slip for r in billing.queue()] == [slip]


def test_closed_without_charge_it_is_cancelled_with_the_residents_reason(till):
    slip = refused(till)
    with pytest.raises(DomainError) as err:
        refusals.close_refused(slip, till.sup, "")
    assert err.value.field == "note"
    refusals.close_refused(slip, till.sup, "首次上门，不收上门费")
    assert slip.state == State.CANCELLED and slip.cancel_reason == REASON
    assert billing.owed_fen(slip) == 0 and billing.queue() == []
    step = svc.timeline(slip)[-1]
    assert (step.action, step.actor_id, step.note) == ("close_refused", till.sup.id,
                                                       "首次上门，不收上门费")
    _active, done = svc.worker_jobs(till.worker)
    assert slip in done  # the worker sees it went, and why


def test_a_call_out_fee_for_a_visitor_waits_at_the_till(till):
    slip = refused(till)
    refusals.charge_call_out(slip, till.sup, till.item(TAP), 2000, "已上门检查，按规定收上门费")
    assert slip.state == State.COMPLETED and slip.completed_at is not None
    assert [(ln.name_zh, ln.amount_fen) for ln in slip.lines] == [("换水暖件(水龙头)", 2000)]
    assert slip.total_fen == 2000 and slip.quoted_total_fen == 3000  # the quote is kept
    (row,) = billing.queue()
    assert (row.slip, row.owed_fen, row.why) == (slip, 2000, TillStep.PAY)
    step = svc.timeline(slip)[-1]
    assert step.data["fee_fen"] == 2000 and step.data["not_done"] == ["P101"]
    svc.hand_back(slip, till.clerk)
    till.pay(slip)
    assert slip.state == State.CLOSED


def test_a_call_out_fee_on_an_owners_account_waits_for_the_review(till):
    slip = at_the_door(till, kind="owner")
    slip.pay_route = "on_account"
    refusals.refuse(slip, till.worker, REASON)
    refusals.charge_call_out(slip, till.sup, till.item(DRAIN), None, "上门检查")
    (entry,) = billing.entries_to_review()
    assert (entry.slip, entry.amount_fen) == (slip, 3000)
    assert billing.queue() == []  # the statement collects it, not the till
    billing.review_entry(entry, till.sup)
    assert slip.state == State.ON_ACCOUNT


def test_a_call_out_fee_for_a_tenant_is_drawn_from_the_deposit(till):
    unit = till.topped_up(10_000)
    slip = at_the_door(till, kind="tenant", unit=unit)
    refusals.refuse(slip, till.worker, REASON)
    refusals.charge_call_out(slip, till.sup, till.item(TAP), 1500, "上门检查")
    (row,) = billing.queue()
    assert (row.slip, row.why, row.owed_fen, row.can_draw) == (slip, TillStep.DEPOSIT, 1500,
                                                               True)


@pytest.mark.parametrize("item, price, field", [
    (None, None, "item_id"), (-1, None, "item_id"), (TAP, 9000, "price"), (TAP, 500, "price")])
def test_a_call_out_fee_comes_from_the_list_in_range(till, item, price, field):
    slip = refused(till)
    item_id = till.item(item) if item is not None and item >= 0 else item
    with pytest.raises(DomainError) as err:
        refusals.charge_call_out(slip, till.sup, item_id, price, "上门检查")
    assert err.value.field == field
    assert slip.state == State.REFUSED and slip.total_fen == 3000 and len(slip.lines) == 1


def test_a_free_job_charges_no_call_out_fee(till):
    slip = refused(till, free=True)
    with pytest.raises(DomainError) as err:
        refusals.charge_call_out(slip, till.sup, till.item(DRAIN), None, "上门检查")
    assert "management fee" in english(err) and slip.state == State.REFUSED


def test_call_out_fees_are_the_charged_items_with_a_price(till):
    names = [it.name_zh for it in refusals.call_out_items()]
    assert names == ["疏通下水", "换水暖件(水龙头)", "代购"]


def test_a_cancelled_job_shows_on_the_workers_phone_with_the_reason(till):
    slip = till.open()
    svc.dispatch(slip, till.sup, till.worker.id)
    svc.cancel(slip, till.clerk, "业主来电：暂时不需要")
    active, done = svc.worker_jobs(till.worker)
    assert slip not in active and slip in done
