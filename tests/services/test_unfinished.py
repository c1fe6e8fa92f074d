"""Unfinished work: a job that needs a second visit (a part on order) is paused with the reason
and a new window, keeping its slip, its number and its fee; the time it waits does not run
against the worker; back at the door the work goes on — or it is finished and a follow-up slip
is opened, linked to it."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.errors import DomainError
from app.domain.slip_states import State
from app.services import slips as svc
from tests import factories
from tests.factories import TAP

PART = "阀芯要订货，周四再来"


def under_way(till):
    return till.go(till.open(svc.LineRequest(till.item(TAP), 1, 2500)))


def test_a_paused_job_keeps_its_number_and_fee_and_goes_on_at_the_second_visit(till, frozen):
    slip = under_way(till)
    number, fee, first_arrival = slip.number, slip.total_fen, slip.checked_in_at
    start = frozen.now + timedelta(days=2)
    svc.pause(slip, till.worker, PART, start, start + timedelta(hours=2))
    assert (slip.state, slip.number, slip.total_fen) == (State.PAUSED, number, fee)
    assert (slip.window_start, slip.window_end, slip.due_at) == \
        (start, start + timedelta(hours=2), start + timedelta(hours=2))
    step = svc.timeline(slip)[-1]
    assert (step.action, step.note, step.actor_id) == ("pause", PART, till.worker.id)
    # Waiting for the part: the clock is paused, the job still on the worker's phone and board.
    frozen.advance(days=1)
    assert svc.sla_clock(slip).paused
    assert slip in svc.worker_jobs(till.worker)[0]
    assert slip in svc.board().lanes[State.PAUSED]
    # The second visit's window runs the clock again; late is late.
    frozen.to(start + timedelta(hours=2, minutes=5))
    clock = svc.sla_clock(slip)
    assert not clock.paused and clock.overdue and clock.minutes_left == -5
    svc.check_in(slip, till.worker)
    assert slip.state == State.IN_PROGRESS and slip.total_fen == fee
    assert slip.checked_in_at == first_arrival and slip.paused_since is None
    assert svc.timeline(slip)[-1].data["second_visit"] is True
    till.sign(slip)
    assert slip.state == State.COMPLETED and slip.total_fen == fee


def test_the_supervisor_may_pause_it_and_send_someone_else_the_second_time(till, frozen):
    slip = under_way(till)
    start = frozen.now + timedelta(days=1)
    svc.pause(slip, till.sup, PART, start, start + timedelta(hours=2))
    other = factories.user("worker")
    svc.dispatch(slip, till.sup, other.id, note="陈师傅休假，李师傅去装")
    assert (slip.state, slip.worker_id) == (State.PAUSED, other.id)
    assert svc.worker_slip(slip.number, till.worker) is None
    svc.check_in(slip, other)
    assert slip.state == State.IN_PROGRESS


def test_the_desk_moves_a_second_visit_when_the_resident_calls(till, frozen):
    slip = under_way(till)
    start = frozen.now + timedelta(days=1)
    svc.pause(slip, till.worker, PART, start, start + timedelta(hours=2))
    later = start + timedelta(days=1)
    svc.move(slip, till.clerk, later, later + timedelta(hours=3), "住户周五才在家")
    assert (slip.state, slip.due_at) == (State.PAUSED, later + timedelta(hours=3))


@pytest.mark.parametrize("reason, days, hours, field", [
    ("", 1, 2, "note"),               # no reason
    (PART, None, None, "window_start"),  # no new window
    (PART, 1, -1, "window_end"),      # a window ending before it starts
    (PART, -1, 2, "window_end"),      # a second visit in the past
])
def test_a_pause_without_its_reason_or_a_good_window_changes_nothing(till, frozen, reason, days,
                                                                      hours, field):
    slip = under_way(till)
    version = slip.version
    start = frozen.now + timedelta(days=days) if days is not None else None
    end = start + timedelta(hours=hours) if start is not None else None
    with pytest.raises(DomainError) as err:
        svc.pause(slip, till.worker, reason, start, end)
    assert err.value.field == field
    assert (slip.state, slip.version) == (State.IN_PROGRESS, version)


def test_only_the_assigned_worker_or_a_supervisor_pauses(till, frozen):
    slip = under_way(till)
    start = frozen.now + timedelta(days=1)
    for who in (factories.user("worker"), till.clerk, till.cashier, till.manager):
        with pytest.raises(DomainError):
            svc.pause(slip, who, PART, start, start + timedelta(hours=2))
    assert slip.state == State.IN_PROGRESS
