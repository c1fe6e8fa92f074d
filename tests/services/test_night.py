"""Urgent at night: the supervisor on duty, and the alarm an urgent call nobody has been sent to
raises on every board (the on-duty supervisor's first, then everyone's)."""
from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import select

from app.domain.errors import DomainError
from app.models.audit import AuditEvent
from app.services import clock, duty
from app.services import slips as svc
from tests import factories
from tests.moments import at, tomorrow


@pytest.fixture
def night(db, frozen):
    day = tomorrow()
    frozen.to(at(day, 20, 0))
    people = {"day": day, "on": factories.user("supervisor"), "off": factories.user("supervisor"),
              "manager": factories.user("manager"), "clerk": factories.user("clerk"),
              "worker": factories.user("worker")}
    return people


def test_a_supervisor_is_on_duty_until_the_next_time_given(night, frozen):
    evening = frozen.now
    shift = duty.set_duty(night["on"].id, time(8, 0), night["manager"])
    morning = at(night["day"] + timedelta(days=1), 8, 0)
    assert (shift.starts_at, shift.ends_at) == (evening, morning)
    assert duty.current() is shift
    frozen.to(morning - timedelta(minutes=1))
    assert duty.current() is shift
    frozen.to(morning)
    assert duty.current() is None
    event = duty_events()[-1]
    assert (event.action, event.actor_id) == ("duty.set", night["manager"].id)


def test_set_after_midnight_the_duty_ends_the_same_morning(night, frozen):
    frozen.to(at(night["day"], 2, 30))
    shift = duty.set_duty(night["on"].id, time(8, 0), night["on"])
    assert shift.ends_at == at(night["day"], 8, 0)


@pytest.mark.parametrize("who", ["worker", "clerk", "manager", None])
def test_only_a_supervisor_goes_on_duty(night, who):
    with pytest.raises(DomainError) as err:
        duty.set_duty(night[who].id if who else 99999, time(8), night["manager"])
    assert err.value.field == "supervisor_id" and duty.current() is None


def test_a_duty_needs_its_end(night):
    with pytest.raises(DomainError) as err:
        duty.set_duty(night["on"].id, None, night["manager"])
    assert err.value.field == "until" and duty.current() is None


def test_the_latest_duty_set_is_the_one_running_and_it_can_end_early(night, frozen):
    duty.set_duty(night["on"].id, time(8), night["manager"])
    frozen.advance(minutes=5)
    swapped = duty.set_duty(night["off"].id, time(6), night["off"])
    assert duty.current() is swapped
    frozen.advance(minutes=1)
    duty.end_duty(night["off"])
    assert duty.current() is not None and duty.current().supervisor_id == night["on"].id
    duty.end_duty(night["on"])
    assert duty.current() is None
    with pytest.raises(DomainError):
        duty.end_duty(night["on"])
    assert [e.action for e in duty_events()] == ["duty.set", "duty.set", "duty.end", "duty.end"]


def duty_events() -> list[AuditEvent]:
    from app.extensions import db
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("duty.%"))
                                   .order_by(AuditEvent.id)))


def tray():
    return svc.board().lanes["registered"]


def test_an_urgent_call_unanswered_alarms_the_on_duty_supervisor_first(night, frozen):
    opened = frozen.now
    call = factories.slip(night["clerk"], urgent=True)
    factories.slip(night["clerk"])  # not urgent: no alarm
    duty.set_duty(night["on"].id, time(8), night["manager"])
    shift = duty.current()
    dispatch_by = opened + timedelta(minutes=10)
    first = duty.alarms(tray(), night["on"], frozen.now, shift)
    assert [(a.slip, a.at, a.raised) for a in first] == [(call, dispatch_by, False)]
    frozen.to(dispatch_by)
    for viewer, raised in (("on", True), ("off", False), ("manager", False)):
        (alarm,) = duty.alarms(tray(), night[viewer], clock.now(), shift)
        assert alarm.raised is raised, viewer
    frozen.to(dispatch_by + timedelta(minutes=10))  # still nobody sent: every board
    for viewer in ("on", "off", "manager"):
        (alarm,) = duty.alarms(tray(), night[viewer], clock.now(), shift)
        assert alarm.raised and alarm.late_minutes == 10
    svc.dispatch(call, night["on"], night["worker"].id)
    assert duty.alarms(tray(), night["on"], clock.now(), shift) == []


def test_with_nobody_on_duty_every_board_alarms_at_once(night, frozen):
    call = factories.slip(night["clerk"], urgent=True)
    frozen.advance(minutes=10)
    for viewer in ("on", "off", "manager"):
        (alarm,) = duty.alarms(tray(), night[viewer], clock.now(), None)
        assert alarm.slip == call and alarm.raised
