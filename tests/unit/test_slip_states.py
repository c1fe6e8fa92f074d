"""The slip's rules written out once more, by hand, and held against the table in the code.

RULES below is an independent statement of DOMAIN.md's flow (not a copy of TRANSITIONS): if
the code's table or its role list drifts from it, these tests and the parametrized test in
tests/services/test_slip_states.py fail and name the move.
"""
from __future__ import annotations

import pytest

from app.domain.roles import Role
from app.domain.slip_states import (
    ACTION_LABELS,
    CANCELLABLE,
    STATE_LABELS,
    TRANSITIONS,
    Action,
    Actor,
    State,
    allowed_actions,
    may,
    needs_note,
    next_state,
)

C, S, W = "clerk", "supervisor", "worker"  # W: the worker the slip is assigned to, only
K = "cashier"
ANYONE_AT_THE_DESK_OR_DOOR = {C, S, W}
THE_OFFICE = {C, S}  # cancelling: the resident calls the desk; the worker never cancels

# (state, action) -> (the state it leads to, who may take it). Anything not listed is illegal.
RULES: dict[tuple[str, str], tuple[str, set[str]]] = {
    ("registered", "dispatch"): ("dispatched", {S}),
    ("registered", "approve_quote"): ("registered", {S}),
    ("registered", "cancel"): ("cancelled", THE_OFFICE),
    # the resident calls for another time: the desk moves it, before anyone is at the door
    ("registered", "move"): ("registered", THE_OFFICE),
    # an errand is prepaid at the till before it goes out; a prepayment voided changes no state
    ("registered", "prepay"): ("registered", {K}),
    ("registered", "void"): ("registered", {K}),

    ("dispatched", "accept"): ("accepted", {W}),
    ("dispatched", "check_in"): ("on_site", {W}),
    ("dispatched", "nobody_home"): ("nobody_home", {W}),
    ("dispatched", "reassign"): ("dispatched", {S}),
    ("dispatched", "unassign"): ("registered", {S}),
    ("dispatched", "approve_quote"): ("dispatched", {S}),
    ("dispatched", "cancel"): ("cancelled", THE_OFFICE),
    ("dispatched", "move"): ("dispatched", THE_OFFICE),

    ("accepted", "check_in"): ("on_site", {W}),
    ("accepted", "nobody_home"): ("nobody_home", {W}),
    ("accepted", "reassign"): ("dispatched", {S}),
    ("accepted", "unassign"): ("registered", {S}),
    ("accepted", "approve_quote"): ("accepted", {S}),
    ("accepted", "cancel"): ("cancelled", THE_OFFICE),
    ("accepted", "move"): ("accepted", THE_OFFICE),

    ("nobody_home", "dispatch"): ("dispatched", {S}),
    ("nobody_home", "reschedule"): ("registered", {C, S}),
    ("nobody_home", "approve_quote"): ("nobody_home", {S}),
    ("nobody_home", "cancel"): ("cancelled", THE_OFFICE),
    ("nobody_home", "prepay"): ("nobody_home", {K}),
    ("nobody_home", "void"): ("nobody_home", {K}),

    ("on_site", "confirm_fee"): ("in_progress", {W}),
    ("on_site", "request_price"): ("awaiting_price", {W}),
    # at the door nobody cancels: the worker records the refusal and the supervisor decides
    ("on_site", "refuse"): ("refused", {W}),
    # people change (ill, the wrong skill): someone else goes to the door, or back to the tray
    ("on_site", "reassign"): ("dispatched", {S}),
    ("on_site", "unassign"): ("registered", {S}),

    ("awaiting_price", "approve_price"): ("in_progress", {S}),
    ("awaiting_price", "reject_price"): ("on_site", {S}),
    ("awaiting_price", "refuse"): ("refused", {W}),
    ("awaiting_price", "reassign"): ("dispatched", {S}),
    ("awaiting_price", "unassign"): ("registered", {S}),

    # refused: another price at the door, or closed (nothing charged, or a call-out fee)
    ("refused", "requote"): ("on_site", {S}),
    ("refused", "close_refused"): ("cancelled", {S}),
    ("refused", "charge_call_out"): ("completed", {S}),

    # work has started: no cancelling any more, only finishing or disputing
    ("in_progress", "complete"): ("completed", {W}),
    ("in_progress", "dispute"): ("disputed", ANYONE_AT_THE_DESK_OR_DOOR),
    # a fee waived (covered by the management fee after all, a dispute given up): only the
    # supervisor, only before any money is taken or reviewed
    ("in_progress", "waive"): ("in_progress", {S}),
    # under way: the agreed fee stands and the new worker finishes the job
    ("in_progress", "reassign"): ("in_progress", {S}),
    # unfinished (a part on order): paused with the reason and a new window, by the worker
    # or the supervisor; back at the door, the work goes on at the fee agreed
    ("in_progress", "pause"): ("paused", {W, S}),
    ("paused", "check_in"): ("in_progress", {W}),
    ("paused", "move"): ("paused", THE_OFFICE),
    ("paused", "reassign"): ("paused", {S}),
    ("paused", "dispute"): ("disputed", ANYONE_AT_THE_DESK_OR_DOOR),
    ("paused", "waive"): ("paused", {S}),
    ("completed", "waive"): ("completed", {S}),
    ("handed_back", "waive"): ("handed_back", {S}),
    ("disputed", "waive"): ("completed", {S}),

    ("completed", "hand_back"): ("handed_back", {C, S}),
    ("completed", "dispute"): ("disputed", ANYONE_AT_THE_DESK_OR_DOOR),
    # the money: only the cashier takes it; the supervisor reviews an owner's account entry
    ("completed", "settle"): ("settled", {K}),
    ("completed", "post_to_account"): ("on_account", {S}),

    ("handed_back", "dispute"): ("disputed", ANYONE_AT_THE_DESK_OR_DOOR),
    ("handed_back", "settle"): ("closed", {K}),
    ("handed_back", "post_to_account"): ("closed", {S}),
    ("handed_back", "close"): ("closed", {C, S, K}),   # a free job: nothing to settle

    ("disputed", "resolve"): ("completed", {S}),
    # cancelled: final; only a cancelled errand's prepayment is given back (its receipt voided)
    ("cancelled", "void"): ("cancelled", {K}),

    # settled or on account while the paper is still out: handing it back closes the slip
    ("settled", "hand_back"): ("closed", {C, S}),
    ("settled", "reverse"): ("completed", {K, S}),
    ("on_account", "hand_back"): ("closed", {C, S}),
    ("on_account", "reverse"): ("completed", {K, S}),
    ("closed", "reverse"): ("handed_back", {K, S}),
}

# The people the tests act as: each single role, the worker the slip is NOT assigned to, and a
# foreman who is supervisor and worker at once (on someone else's slip).
ACTORS: dict[str, tuple[set[str], bool]] = {   # name -> (roles, assigned to the slip)
    "clerk": ({"clerk"}, False),
    "supervisor": ({"supervisor"}, False),
    "worker": ({"worker"}, True),
    "worker not assigned": ({"worker"}, False),
    "cashier": ({"cashier"}, False),
    "manager": ({"manager"}, False),
    "supervisor+worker not assigned": ({"supervisor", "worker"}, False),
}


def expected(state: str, action: str, actor: str, has_worker: bool = True) -> str | None:
    """The state the rules above lead to for this person, or None when they may not."""
    rule = RULES.get((state, action))
    if rule is None:
        return None
    target, who = rule
    roles, assigned = ACTORS[actor]
    assigned = assigned and has_worker
    for role in roles:
        if role in who and (role != W or assigned):
            return target
    return None


ASSIGNED_ID, SOMEONE_ELSE_ID = 7, 8


def _actor(name: str) -> Actor:
    roles, assigned = ACTORS[name]
    return Actor(ASSIGNED_ID if assigned else SOMEONE_ELSE_ID, frozenset(Role(r) for r in roles))


def test_the_rules_name_only_real_states_actions_and_roles():
    for (state, action), (target, who) in RULES.items():
        State(state), Action(action), State(target)
        assert who <= {r.value for r in Role}


def test_the_table_in_the_code_has_exactly_these_moves():
    in_code = {(s.value, a.value): t.value for s, moves in TRANSITIONS.items()
               for a, t in moves.items()}
    written = {k: target for k, (target, _) in RULES.items()}
    assert in_code == written
    assert set(TRANSITIONS) == set(State)  # every state has its row, even an empty one


def test_cancelling_is_possible_exactly_before_anyone_is_at_the_door():
    can_cancel = {s for (s, a) in RULES if a == "cancel"}
    assert can_cancel == {s.value for s in CANCELLABLE}
    assert can_cancel == {"registered", "dispatched", "accepted", "nobody_home"}


def test_after_check_in_the_worker_can_only_record_a_refusal_never_cancel():
    worker = _actor("worker")
    for state in ("on_site", "awaiting_price"):
        assert not may(worker, "cancel", state, ASSIGNED_ID)
        assert may(worker, "refuse", state, ASSIGNED_ID)
    for state in [s.value for s in State]:
        assert not may(worker, "cancel", state, ASSIGNED_ID)


def test_every_state_and_action_has_a_label():
    assert set(STATE_LABELS) == set(State)
    assert set(Action) <= set(ACTION_LABELS)


@pytest.mark.parametrize("actor", list(ACTORS))
@pytest.mark.parametrize("action", [a.value for a in Action])
@pytest.mark.parametrize("state", [s.value for s in State])
def test_may_agrees_with_the_rules(state, action, actor):
    """The pure rule, without a database: may() and allowed_actions() say what RULES say."""
    worker_id = None if state == "registered" else ASSIGNED_ID  # nobody holds a registered slip
    who = _actor(actor)
    want = expected(state, action, actor, has_worker=worker_id is not None)
    assert may(who, action, state, worker_id) is (want is not None)
    assert (action in allowed_actions(who, state, worker_id)) is (want is not None)
    if want is not None:
        assert next_state(state, action) == want


@pytest.mark.parametrize("state", ["dispatched", "accepted", "on_site", "awaiting_price",
                                   "in_progress"])
def test_taking_a_job_from_someone_at_the_door_needs_the_reason(state):
    at_the_door = state in ("on_site", "awaiting_price", "in_progress")
    assert needs_note("reassign", state) is at_the_door
    assert needs_note("unassign", state) is at_the_door
    assert needs_note("cancel", state) and needs_note("waive", state)
    assert not needs_note("move", state)
