"""People change: the supervisor hands a job to someone else, or takes it back, in any state
before completion (the reason is needed once someone was at the door); the desk moves an
agreed appointment when the resident calls, and the SLA and the worker's phone follow."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.errors import Conflict, DomainError
from app.domain.slip_states import State
from app.services import billing
from app.services import slips as svc
from tests import factories
from tests.factories import TAP

ILL = "师傅发烧，换人"


@pytest.fixture
def other():
    return factories.user("worker")


def at_the_door(till, **kw):
    slip = till.open(**kw)
    svc.dispatch(slip, till.sup, till.worker.id)
    svc.check_in(slip, till.worker)
    return slip


def test_a_job_at_the_door_goes_to_another_worker_only_with_the_reason(till, other, frozen):
    slip = at_the_door(till)
    with pytest.raises(DomainError) as err:
        svc.dispatch(slip, till.sup, other.id)
    assert err.value.field == "note" and slip.worker_id == till.worker.id
    svc.dispatch(slip, till.sup, other.id, note=ILL)
    assert (slip.state, slip.worker_id) == (State.DISPATCHED, other.id)
    step = svc.timeline(slip)[-1]
    assert (step.action, step.note, step.data["previous"]) == \
        ("reassign", ILL, till.worker.full_name)
    # The old worker loses it, the new one has it; the response was made, so no clock runs.
    assert svc.worker_slip(slip.number, till.worker) is None
    assert slip in svc.worker_jobs(other)[0] and slip not in svc.worker_jobs(till.worker)[0]
    frozen.advance(hours=5)
    clock = svc.sla_clock(slip)
    assert not clock.overdue and clock.minutes_left is None
    svc.check_in(slip, other)
    assert slip.state == State.ON_SITE


def test_a_price_waiting_is_dropped_when_the_job_changes_hands(till, other):
    slip = till.open(svc.LineRequest(till.item(TAP)))
    svc.dispatch(slip, till.sup, till.worker.id)
    svc.check_in(slip, till.worker)
    svc.confirm_fee(slip, till.worker, {slip.lines[0].id: 9000})
    assert slip.state == State.AWAITING_PRICE
    svc.dispatch(slip, till.sup, other.id, note="技能不对，换水电师傅")
    assert slip.state == State.DISPATCHED and not slip.needs_approval
    assert slip.agreed_total_fen is None and slip.total_fen == slip.quoted_total_fen


def test_a_job_under_way_keeps_its_fee_and_the_new_worker_finishes_it(till, other):
    slip = till.go(till.open(kind="owner"))
    svc.dispatch(slip, till.sup, other.id, note=ILL)
    assert (slip.state, slip.worker_id, slip.total_fen) == (State.IN_PROGRESS, other.id, 3000)
    with pytest.raises(DomainError):
        svc.complete(slip, till.worker, factories.acceptance())  # not theirs any more
    svc.complete(slip, other, factories.acceptance())
    assert [e.slip_id for e in billing.entries_to_review()] == [slip.id]


def test_taken_back_from_the_door_it_waits_in_the_tray(till):
    slip = at_the_door(till)
    with pytest.raises(DomainError) as err:
        svc.unassign(slip, till.sup)
    assert err.value.field == "note"
    svc.unassign(slip, till.sup, note=ILL)
    assert (slip.state, slip.worker_id) == (State.REGISTERED, None)
    assert slip in svc.board().lanes[State.REGISTERED]


def test_a_job_under_way_is_not_taken_back_and_a_finished_one_not_reassigned(till, other):
    slip = till.go(till.open())
    with pytest.raises(Conflict):
        svc.unassign(slip, till.sup, note=ILL)
    till.sign(slip)
    with pytest.raises(Conflict):
        svc.dispatch(slip, till.sup, other.id, note=ILL)
    assert slip.worker_id == till.worker.id


def test_before_the_door_a_reassignment_needs_no_reason(till, other):
    slip = till.open()
    svc.dispatch(slip, till.sup, till.worker.id)
    svc.dispatch(slip, till.sup, other.id)
    assert slip.worker_id == other.id


# ---- the desk moves an appointment ----------------------------------------------------------

def test_the_desk_moves_an_appointment_and_the_sla_follows(till):
    slip = till.open()
    svc.dispatch(slip, till.sup, till.worker.id)
    svc.accept(slip, till.worker)
    start = slip.window_start + timedelta(days=1)
    svc.move(slip, till.clerk, start, start + timedelta(hours=2), "住户说明天上午才在家")
    assert (slip.state, slip.worker_id) == (State.ACCEPTED, till.worker.id)
    assert (slip.window_start, slip.due_at) == (start, start + timedelta(hours=2))
    step = svc.timeline(slip)[-1]
    assert (step.action, step.actor_id, step.note) == ("move", till.clerk.id,
                                                       "住户说明天上午才在家")
    assert step.data["was_start"] == (start - timedelta(days=1)).isoformat()


def test_an_urgent_job_moved_keeps_its_response_clock(till):
    slip = till.open()
    slip.urgent, due = True, slip.window_start
    slip.due_at = due
    start = slip.window_start + timedelta(hours=3)
    svc.move(slip, till.clerk, start, start + timedelta(hours=1))
    assert slip.due_at == due


def test_a_move_needs_a_new_window_and_ends_before_the_door(till):
    slip = till.open()
    with pytest.raises(DomainError) as err:
        svc.move(slip, till.clerk, slip.window_start, slip.window_end)
    assert err.value.field == "window_start"
    with pytest.raises(DomainError) as err:
        svc.move(slip, till.clerk, slip.window_end, slip.window_start)
    assert err.value.field == "window_end"
    svc.dispatch(slip, till.sup, till.worker.id)
    svc.check_in(slip, till.worker)
    start = slip.window_start + timedelta(days=1)
    with pytest.raises(Conflict):
        svc.move(slip, till.clerk, start, start + timedelta(hours=2))
    with pytest.raises(DomainError):
        svc.move(till.open(), till.worker, start, start + timedelta(hours=2))
