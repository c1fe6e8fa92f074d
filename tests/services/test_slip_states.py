"""Every state × action through `act()`, the one function that changes a slip's state, by one
person the rules allow and one they refuse (the pure matrix in tests/unit takes every person).

The expectation comes from RULES in tests/unit/test_slip_states.py, written out by hand from
DOMAIN.md, never from the code's own table. Each case opens a real slip with open_slip() and
then *sets its state directly* (with the assigned worker in place from "dispatched" on): the
service paths that reach each state are walked in tests/services/test_slips.py; this test is
about what each state allows.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.domain.errors import Conflict, DomainError
from app.domain.slip_states import MONEY_ACTIONS, STATE_LABELS, Action, State
from app.extensions import db as _db
from app.models import AuditEvent, PriceList, Unit, User
from app.models.slips import Slip, SlipEvent
from app.services import clock
from app.services import slips as svc
from tests import factories
from tests.unit.test_slip_states import ACTORS, RULES, expected

NOTE = "The resident asked for it"


@pytest.fixture(scope="module")
def cast(app):
    """The people and the price list, made once for the module (and wiped after it)."""
    from tests.conftest import _wipe
    with app.app_context():
        clerk = factories.user("clerk")
        people = {"clerk": clerk, "worker": factories.user("worker")}
        for name, (roles, _assigned) in ACTORS.items():
            if name not in people:
                people[name] = factories.user(*sorted(roles))
        pl = factories.price_list(clerk)
        unit = factories.unit(number="1502")
        _db.session.commit()
        ids = {name: u.id for name, u in people.items()}, pl.id, unit.id
    yield ids
    _wipe(app)


@pytest.fixture
def db(app, cast):
    """Like conftest's `db`, but a rollback cleans up (nothing here commits): the cases stay
    quick on PostgreSQL, where emptying every table after each one would dominate."""
    with app.app_context():
        yield _db
        _db.session.rollback()


def _count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def slip_in(db, state: str, clerk, assigned, pl, unit) -> Slip:
    slip = factories.slip(clerk, pl=pl, unit_=unit)
    if state != State.REGISTERED:
        slip.worker, slip.dispatched_by = assigned, clerk
    slip.state = state  # set directly: see the module docstring
    db.session.flush()
    return slip


def _one_allowed_and_one_refused() -> list[tuple[str, str, str]]:
    """For each (state, action), the first person the rules let take it and the first they
    refuse (when there are such people): the pure test in tests/unit walks every person; this
    one proves the database path agrees with it, which one of each shows."""
    cases = []
    for state in State:
        for action in Action:
            verdicts = {actor: expected(state.value, action.value, actor,
                                        has_worker=state != State.REGISTERED) is not None
                        for actor in ACTORS}
            for allowed in (True, False):
                first = next((a for a, ok in verdicts.items() if ok is allowed), None)
                if first is not None:
                    cases.append((state.value, action.value, first))
    return cases


@pytest.mark.parametrize(("state", "action", "actor"), _one_allowed_and_one_refused())
def test_every_state_action_and_person(db, cast, state, action, actor):
    people, pl_id, unit_id = cast
    clerk = db.session.get(User, people["clerk"])
    assigned = db.session.get(User, people["worker"])
    person = db.session.get(User, people[actor])
    assert (person.id == assigned.id) is ACTORS[actor][1]
    assert set(person.roles) == ACTORS[actor][0]
    slip = slip_in(db, state, clerk, assigned, db.session.get(PriceList, pl_id),
                   db.session.get(Unit, unit_id))
    want = expected(state, action, actor, has_worker=slip.worker_id is not None)
    version = slip.version
    events = _count(db, SlipEvent, SlipEvent.slip_id == slip.id)
    audits = _count(db, AuditEvent, AuditEvent.entity_type == "slip",
                    AuditEvent.entity_id == slip.id)

    # the buttons a screen shows say the same as the rules (money is taken on its own screens)
    button = want is not None and Action(action) not in MONEY_ACTIONS
    assert (Action(action) in svc.actions_for(slip, person)) is button

    if want is None:
        with pytest.raises(DomainError) as caught:
            svc.act(slip, action, person, note=NOTE)
        with force_locale("en"):
            message = str(caught.value.message)
            label = str(STATE_LABELS[State(state)])
        assert slip.number in message
        if (state, action) not in RULES:   # the state does not allow it: say what it is now
            assert isinstance(caught.value, Conflict)
            assert f"is {label}" in message and "not possible now" in message
        else:                              # the state allows it, this person does not
            assert not isinstance(caught.value, Conflict)
            assert message.startswith("You may not do this")
        db.session.expire_all()
        again = db.session.get(Slip, slip.id)
        assert (again.state, again.version) == (state, version)
        assert _count(db, SlipEvent, SlipEvent.slip_id == slip.id) == events
        assert _count(db, AuditEvent, AuditEvent.entity_type == "slip",
                      AuditEvent.entity_id == slip.id) == audits
        return

    before = clock.now()
    svc.act(slip, action, person, note=NOTE)
    db.session.expire_all()
    again = db.session.get(Slip, slip.id)
    assert again.state == want
    assert again.version == version + 1
    history = svc.timeline(again)
    assert len(history) == events + 1
    step = history[-1]
    assert (step.action, step.from_state, step.to_state) == (action, state, want)
    assert step.actor_id == person.id and step.note == NOTE
    assert before - timedelta(seconds=1) <= step.at <= clock.now() and step.at.tzinfo is not None
    trail = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_type == "slip", AuditEvent.entity_id == slip.id,
        AuditEvent.action == f"slip.{action}")).all()
    assert len(trail) == 1
    assert trail[0].actor_id == person.id
    assert trail[0].before == {"state": state} and trail[0].after["state"] == want
    assert trail[0].summary == slip.number
