"""The slip's verbs (app/services/slips.py): quoting, the clock, the fee, races, the readers."""
from __future__ import annotations

import itertools
import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import event, func, insert, select

from app.domain.errors import Conflict, DomainError
from app.domain.slip_states import State
from app.extensions import db as _db
from app.models import AuditEvent, Slip, SlipEvent, SlipLine, User
from app.services import billing, catalogue, clock, reception, refusals
from app.services import slips as svc
from tests import factories
from tests.moments import yyyymm

_doors = itertools.count(5000)

# The factory list: 0 疏通下水 30 yuan fixed · 1 换管 10–1000 by workload · 2 水龙头 10–30 · 3 free
DRAIN, PIPE, TAP, COMMON = range(4)


class Team:
    def __init__(self):
        self.clerk = factories.user("clerk")
        self.sup = factories.user("supervisor")
        self.worker = factories.user("worker")
        self.other = factories.user("worker")
        self.cashier = factories.user("cashier")
        self.pl = factories.price_list(self.clerk)

    def item(self, i: int) -> int:
        return self.pl.items[i].id

    def request(self, *lines: svc.LineRequest, unit=None, **kw) -> svc.SlipRequest:
        start = clock.now() + timedelta(hours=1)
        kw.setdefault("window_start", start)
        kw.setdefault("window_end", start + timedelta(hours=2))
        return svc.SlipRequest(unit=unit or factories.unit(number=str(next(_doors))),
                               lines=list(lines), contact_name="张伟",
                               contact_phone="13800001111", **kw)

    def open(self, *lines: svc.LineRequest, **kw) -> Slip:
        lines = lines or (svc.LineRequest(self.item(DRAIN)),)
        return svc.open_slip(self.request(*lines, **kw), self.clerk, self.pl)

    def walk(self, slip: Slip, to: State) -> Slip:
        """Take the slip through the real services up to the state `to`."""
        path = {
            State.REGISTERED: [],
            State.DISPATCHED: [self.dispatch],
            State.ACCEPTED: [self.dispatch, self.accept],
            State.NOBODY_HOME: [self.dispatch, self.accept, self.nobody_home],
            State.ON_SITE: [self.dispatch, self.accept, self.check_in],
            State.AWAITING_PRICE: [self.dispatch, self.accept, self.check_in, self.ask],
            State.IN_PROGRESS: [self.dispatch, self.accept, self.check_in, self.agree],
            State.COMPLETED: [self.dispatch, self.accept, self.check_in, self.agree,
                              self.complete],
            State.HANDED_BACK: [self.dispatch, self.accept, self.check_in, self.agree,
                                self.complete, self.hand_back],
            State.DISPUTED: [self.dispatch, self.accept, self.check_in, self.agree,
                             self.complete, self.dispute],
            State.CANCELLED: [self.dispatch, self.cancel],
            State.REFUSED: [self.dispatch, self.accept, self.check_in, self.refuse],
            State.PAUSED: [self.dispatch, self.accept, self.check_in, self.agree, self.pause],
            State.SETTLED: [self.dispatch, self.accept, self.check_in, self.agree,
                            self.complete, self.pay],
            State.ON_ACCOUNT: [self.owner, self.dispatch, self.accept, self.check_in,
                               self.agree, self.complete_on_account, self.review],
            State.CLOSED: [self.dispatch, self.accept, self.check_in, self.agree,
                           self.complete, self.hand_back, self.pay],
        }[State(to)]
        for step in path:
            step(slip)
        return slip

    def dispatch(self, s): svc.dispatch(s, self.sup, self.worker.id)
    def accept(self, s): svc.accept(s, self.worker)
    def nobody_home(self, s): svc.nobody_home(s, self.worker)
    def check_in(self, s): svc.check_in(s, self.worker, damage_note="Scratch on the door")
    def agree(self, s): svc.confirm_fee(s, self.worker, {})
    def ask(self, s): svc.confirm_fee(s, self.worker, {s.lines[0].id: 99_900})
    def complete(self, s): svc.complete(s, self.worker, acceptance())
    def hand_back(self, s): svc.hand_back(s, self.clerk)
    def dispute(self, s): svc.dispute(s, self.clerk, "Resident says it leaks again")
    def cancel(self, s): svc.cancel(s, self.clerk, "Resident changed their mind")
    def refuse(self, s): refusals.refuse(s, self.worker, "Too dear, the resident says")
    def pause(self, s):
        start = clock.now() + timedelta(days=2)
        svc.pause(s, self.worker, "The part is on order", start, start + timedelta(hours=2))
    def pay(self, s): billing.take_payment(s, self.cashier, "cash", billing.owed_fen(s))
    def owner(self, s): s.resident = factories.resident(s.unit, kind="owner")
    def complete_on_account(self, s):
        svc.complete(s, self.worker, acceptance(pay_route="on_account"))
    def review(self, s):
        billing.review_entry(billing.entries_to_review()[-1], self.sup)


def acceptance(**kw) -> svc.Acceptance:
    return svc.Acceptance(**{"name": "张伟", "signature_file": "signatures/x.png",
                             "satisfied": True, **kw})


@pytest.fixture
def team(db) -> Team:
    return Team()


def count(model, *where) -> int:
    return _db.session.scalar(select(func.count()).select_from(model).where(*where))


def english(err: pytest.ExceptionInfo) -> str:
    with force_locale("en"):
        return str(err.value.message)


@contextmanager
def refused(field: str | None = "lines", *, conflict: bool = False, says: str = ""):
    """The call raises a DomainError on `field` saying `says`, and no slip is saved."""
    slip_audits = AuditEvent.entity_type == "slip"
    slips, audits = count(Slip), count(AuditEvent, slip_audits)
    with pytest.raises(DomainError) as err:
        yield err
    assert err.value.field == field
    assert isinstance(err.value, Conflict) is conflict
    assert says in english(err)
    assert (count(Slip), count(AuditEvent, slip_audits)) == (slips, audits)


# ---- quoting at the desk -----------------------------------------------------------------

def test_a_fixed_item_takes_the_list_price(team):
    slip = team.open(svc.LineRequest(team.item(DRAIN), 2))
    line = slip.lines[0]
    assert (line.unit_price_fen, line.quantity, line.needs_approval) == (3000, 2, False)
    assert slip.quoted_total_fen == 6000 and slip.total_fen == 6000
    assert (line.name_zh, line.unit, line.list_min_fen, line.list_max_fen) == (
        "疏通下水", "次", 3000, 3000)
    assert slip.state == State.REGISTERED and slip.received_by == team.clerk


def test_a_fixed_item_at_another_price_waits_for_the_supervisor(team):
    slip = team.open(svc.LineRequest(team.item(DRAIN), 1, 4000))
    assert slip.lines[0].needs_approval and slip.quoted_total_fen == 4000


def test_a_range_item_takes_a_price_inside_the_range_or_its_lowest(team):
    slip = team.open(svc.LineRequest(team.item(TAP), 3, 2500), svc.LineRequest(team.item(TAP)))
    inside, lowest = slip.lines
    assert (inside.unit_price_fen, inside.needs_approval) == (2500, False)
    assert (lowest.unit_price_fen, lowest.needs_approval) == (1000, False)
    assert slip.quoted_total_fen == 3 * 2500 + 1000 and not slip.needs_approval


@pytest.mark.parametrize("fen", [999, 3001])
def test_a_range_item_outside_its_range_is_kept_and_marked_for_approval(team, fen):
    slip = team.open(svc.LineRequest(team.item(TAP), 1, fen))
    assert slip.lines[0].unit_price_fen == fen and slip.lines[0].needs_approval
    assert slip.needs_approval and slip.quoted_total_fen == fen


def test_a_workload_item_is_agreed_inside_its_guide_range(team):
    slip = team.open(svc.LineRequest(team.item(PIPE), 1, 45_000),
                     svc.LineRequest(team.item(PIPE), 1, 150_000))
    within, beyond = slip.lines
    assert within.by_workload and not within.needs_approval
    assert beyond.needs_approval


def test_a_workload_item_without_a_guide_always_needs_the_supervisor(db):
    clerk = factories.user("clerk")
    pl = factories.price_list(clerk, items=(
        ("窗户(推拉门)换锁", "Replace a sliding-door lock", "把", None, None, True, False),))
    unit = factories.unit(number=str(next(_doors)))
    slip = svc.open_slip(svc.SlipRequest(unit=unit, lines=[svc.LineRequest(pl.items[0].id, 1,
                                                                           3000)]), clerk, pl)
    assert slip.lines[0].needs_approval and slip.lines[0].list_min_fen is None
    sup = factories.user("supervisor")
    svc.approve_quote(slip, sup)
    line = slip.lines[0]
    assert not line.needs_approval and line.approved_by == sup and line.approved_at
    assert slip.state == State.REGISTERED  # approving the quote does not move the slip
    with pytest.raises(Conflict):           # nothing left to approve
        svc.approve_quote(slip, sup)


def test_a_free_item_is_quoted_at_zero_and_refuses_a_price(team):
    slip = team.open(svc.LineRequest(team.item(COMMON)))
    assert slip.lines[0].free and slip.lines[0].unit_price_fen == 0 and slip.quoted_total_fen == 0
    with refused(says="is free"):
        team.open(svc.LineRequest(team.item(COMMON), 1, 500))


def test_a_free_slip_is_at_zero_whatever_the_items_and_needs_no_approval(team):
    slip = team.open(svc.LineRequest(team.item(DRAIN), 2), svc.LineRequest(team.item(TAP), 1, 9999),
                     free=True)
    assert slip.free and slip.quoted_total_fen == 0
    assert all(line.unit_price_fen == 0 and not line.needs_approval for line in slip.lines)
    team.walk(slip, State.ON_SITE)
    svc.confirm_fee(slip, team.worker, {})
    assert slip.state == State.IN_PROGRESS and slip.agreed_total_fen == 0


def test_the_slip_keeps_its_list_version_after_a_new_one_is_approved(team):
    manager = factories.user("manager")
    slip = team.open(svc.LineRequest(team.item(DRAIN)))
    draft = catalogue.start_draft(team.sup)
    drain = next(i for i in draft.items if i.name_zh == "疏通下水")
    catalogue.update_item(drain, catalogue.ItemInput(
        category_id=drain.category_id, name_zh=drain.name_zh, name_en=drain.name_en,
        unit=drain.unit, price_min_fen=3500, price_max_fen=3500, by_workload=False, free=False,
        department="repair"))
    v2 = catalogue.approve(draft, clock.local_today(), manager)
    assert catalogue.in_force().id == v2.id
    _db.session.expire_all()
    kept = _db.session.get(Slip, slip.id)
    assert kept.price_list_id == team.pl.id
    assert (kept.lines[0].unit_price_fen, kept.quoted_total_fen) == (3000, 3000)
    later = svc.open_slip(team.request(svc.LineRequest(drain.id)), team.clerk, v2)
    assert later.price_list_id == v2.id and later.quoted_total_fen == 3500
    with refused(says="not on the price list in force"):  # an item of the old list
        svc.open_slip(team.request(svc.LineRequest(team.item(DRAIN))), team.clerk, v2)


@pytest.mark.parametrize("quantity,ok", [(0, False), (-1, False), (1, True), (999, True),
                                         (1000, False)])
def test_quantity_bounds(team, quantity, ok):
    if ok:
        assert team.open(svc.LineRequest(team.item(DRAIN), quantity)).lines[0].quantity == quantity
        return
    with refused(says="Quantity must be between 1 and 999"):
        team.open(svc.LineRequest(team.item(DRAIN), quantity))


def test_refusals_at_the_desk_save_nothing_and_use_no_number(team):
    with refused(says="not on the price list in force"):
        team.open(svc.LineRequest(987_654))
    with refused(says="at least one item"):
        svc.open_slip(team.request(), team.clerk, team.pl)
    with refused(says="at most 30 items"):
        team.open(*[svc.LineRequest(team.item(DRAIN))] * 31)
    with refused(says="cannot be negative"):
        team.open(svc.LineRequest(team.item(TAP), 1, -100))
    with refused(None, says="No approved price list"):
        svc.open_slip(team.request(svc.LineRequest(team.item(DRAIN))), team.clerk, None)
    neighbour = factories.resident(factories.unit(number="7001"), name="李娜")
    with refused("resident_id", says="does not live at that unit"):
        team.open(svc.LineRequest(team.item(DRAIN)), resident=neighbour)
    start = clock.now() + timedelta(hours=1)
    with refused("window_end", says="both the start and the end"):
        team.open(window_start=start, window_end=None)
    with refused("window_end", says="end after it starts"):
        team.open(window_start=start, window_end=start)
    with refused("window_end", says="end after it starts"):
        team.open(window_start=start, window_end=start - timedelta(minutes=5))
    # none of the refusals took a number: the first slip opened is -0001
    assert team.open().number.endswith("-0001")


def test_the_resident_fills_the_contact_and_the_log_entry_is_followed_up(team):
    unit = factories.unit(number="8001")
    person = factories.resident(unit, name="王芳", phone="13900002222")
    entry = reception.log_contact(reception.Contact(
        channel="phone", kind="paid", request="厨房下水堵了", unit=unit, resident=person),
        team.clerk)
    assert entry.closed_at is None
    req = svc.SlipRequest(unit=unit, resident=person, reception=entry,
                          lines=[svc.LineRequest(team.item(DRAIN))], notes="家里有狗")
    slip = svc.open_slip(req, team.clerk, team.pl)
    assert (slip.contact_name, slip.contact_phone) == ("王芳", "13900002222")
    assert entry.closed_at == slip.created_at and entry.slips == [slip]
    assert slip.notes == "家里有狗"
    opened = svc.timeline(slip)
    assert [(e.action, e.from_state, e.to_state, e.actor_id) for e in opened] == [
        ("open", None, "registered", team.clerk.id)]
    trail = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "slip.open"))
    assert trail.entity_id == slip.id and trail.actor_id == team.clerk.id
    assert trail.after == {"unit": unit.label, "total_fen": 3000, "urgent": False}


# ---- the paths through the states, with the real services --------------------------------

@pytest.mark.parametrize("state", list(State))
def test_every_state_is_reached_through_the_services(team, state):
    slip = team.walk(team.open(), state)
    _db.session.expire_all()
    slip = _db.session.get(Slip, slip.id)
    assert slip.state == state
    steps = svc.timeline(slip)
    assert steps[-1].to_state == state
    # the history is a chain: each step starts where the one before ended
    for before, after in zip(steps, steps[1:]):
        assert after.from_state == before.to_state
    actions = [e.action for e in steps]
    assert count(AuditEvent, AuditEvent.entity_type == "slip",
                 AuditEvent.entity_id == slip.id) == len(actions)
    assert slip.version == len(actions)  # one version per recorded change


def test_the_worker_fields_are_stamped_along_the_way(team):
    slip = team.walk(team.open(), State.HANDED_BACK)
    assert slip.worker == team.worker and slip.dispatched_by == team.sup
    assert slip.checked_in_at and slip.damage_note == "Scratch on the door"
    assert slip.completed_at and slip.handed_back_at
    assert slip.checked_in_at <= slip.completed_at <= slip.handed_back_at
    assert (slip.acceptance_name, slip.satisfied) == ("张伟", True)
    assert slip.agreed_total_fen == slip.quoted_total_fen == 3000


def test_complete_needs_a_name_and_a_signature(team):
    slip = team.walk(team.open(), State.IN_PROGRESS)
    with pytest.raises(DomainError) as err:
        svc.complete(slip, team.worker, acceptance(name="  "))
    assert err.value.field == "acceptance_name"
    with pytest.raises(DomainError) as err:
        svc.complete(slip, team.worker, acceptance(signature_file=""))
    assert err.value.field == "signature"
    assert slip.state == State.IN_PROGRESS


def test_dispatch_needs_an_active_worker_and_reassigning_to_the_same_one_is_refused(team):
    slip = team.open()
    for who in (None, team.clerk.id, 999_999):
        with pytest.raises(DomainError) as err:
            svc.dispatch(slip, team.sup, who)
        assert err.value.field == "worker_id" and english(err) == "Choose a worker."
    team.other.active = False
    with pytest.raises(DomainError):
        svc.dispatch(slip, team.sup, team.other.id)
    team.other.active = True
    svc.dispatch(slip, team.sup, team.worker.id)
    with pytest.raises(DomainError) as err:
        svc.dispatch(slip, team.sup, team.worker.id)
    assert "already has this slip" in english(err)
    svc.dispatch(slip, team.sup, team.other.id)  # a reassignment
    assert svc.timeline(slip)[-1].action == "reassign" and slip.worker == team.other
    assert svc.timeline(slip)[-1].data == {"worker": team.other.full_name,
                                           "previous": team.worker.full_name}
    svc.unassign(slip, team.sup)
    assert slip.state == State.REGISTERED and slip.worker is None


# ---- the SLA clock -------------------------------------------------------------------------

def test_an_urgent_slip_is_due_thirty_minutes_after_the_call(team):
    slip = team.open(urgent=True, window_start=None, window_end=None)
    assert slip.due_at == slip.created_at + timedelta(minutes=30)
    running = svc.sla_clock(slip, slip.created_at + timedelta(minutes=10))
    assert (running.paused, running.overdue, running.minutes_left) == (False, False, 20)
    late = svc.sla_clock(slip, slip.created_at + timedelta(minutes=31))
    assert late.overdue and late.minutes_left < 0
    # once the worker is at the door the response clock has done its job
    team.walk(slip, State.ON_SITE)
    assert not svc.sla_clock(slip, slip.created_at + timedelta(hours=5)).overdue


def test_an_ordinary_slip_is_due_at_the_end_of_its_window(team):
    slip = team.open()
    assert slip.due_at == slip.window_end
    assert not svc.sla_clock(slip, slip.window_end - timedelta(minutes=1)).overdue
    assert svc.sla_clock(slip, slip.window_end + timedelta(minutes=1)).overdue


def test_nobody_home_pauses_the_clock_and_a_new_time_resumes_it(team):
    slip = team.walk(team.open(), State.NOBODY_HOME)
    assert slip.nobody_home_count == 1 and slip.paused_since is not None
    paused = svc.sla_clock(slip, slip.window_end + timedelta(days=3))
    assert paused.paused and not paused.overdue and paused.minutes_left is None
    assert slip.worker == team.worker  # the attempt stays with whoever went
    with pytest.raises(DomainError) as err:
        svc.reschedule(slip, team.clerk, None, None)
    assert err.value.field == "window_start" and slip.state == State.NOBODY_HOME
    start = clock.now() + timedelta(days=1)
    svc.reschedule(slip, team.clerk, start, start + timedelta(hours=2))
    assert slip.state == State.REGISTERED and slip.worker is None
    assert slip.paused_since is None and slip.due_at == start + timedelta(hours=2)
    running = svc.sla_clock(slip, start)
    assert not running.paused and running.minutes_left == 120
    # a second attempt counts, and dispatching straight from "nobody home" resumes too
    team.walk(slip, State.NOBODY_HOME)
    assert slip.nobody_home_count == 2
    later = clock.now() + timedelta(days=2)
    svc.dispatch(slip, team.sup, team.other.id, window_start=later,
                 window_end=later + timedelta(hours=1))
    assert slip.state == State.DISPATCHED and slip.paused_since is None
    assert slip.due_at == later + timedelta(hours=1) and slip.worker == team.other


def test_an_urgent_slip_back_from_nobody_home_without_a_window_gets_thirty_new_minutes(team):
    slip = team.open(urgent=True, window_start=None, window_end=None)
    team.walk(slip, State.NOBODY_HOME)
    before = clock.now()
    svc.dispatch(slip, team.sup, team.worker.id)
    assert before + timedelta(minutes=29) <= slip.due_at <= clock.now() + timedelta(minutes=30)


# ---- the fee at the door -------------------------------------------------------------------

def test_a_fee_inside_the_list_starts_the_work(team):
    slip = team.walk(team.open(svc.LineRequest(team.item(TAP), 2)), State.ON_SITE)
    svc.confirm_fee(slip, team.worker, {slip.lines[0].id: 2800})
    assert slip.state == State.IN_PROGRESS
    assert slip.lines[0].final_price_fen == 2800 and slip.agreed_total_fen == 5600
    assert slip.total_fen == 5600 and slip.quoted_total_fen == 2000
    assert svc.timeline(slip)[-1].data == {"total_fen": 5600, "outside": []}


def test_a_fee_outside_the_list_waits_for_the_supervisor_who_approves(team):
    slip = team.walk(team.open(svc.LineRequest(team.item(TAP))), State.ON_SITE)
    svc.confirm_fee(slip, team.worker, {slip.lines[0].id: 4500})
    assert slip.state == State.AWAITING_PRICE and slip.lines[0].needs_approval
    assert svc.timeline(slip)[-1].action == "request_price"
    with pytest.raises(DomainError):  # the worker cannot approve their own price
        svc.approve_price(slip, team.worker)
    svc.approve_price(slip, team.sup)
    line = slip.lines[0]
    assert slip.state == State.IN_PROGRESS and slip.agreed_total_fen == 4500
    assert not line.needs_approval and line.approved_by == team.sup


def test_a_refused_price_goes_back_to_the_door_and_needs_a_reason(team):
    slip = team.walk(team.open(svc.LineRequest(team.item(TAP))), State.ON_SITE)
    svc.confirm_fee(slip, team.worker, {slip.lines[0].id: 4500})
    with pytest.raises(DomainError) as err:
        svc.reject_price(slip, team.sup, "  ")
    assert err.value.field == "note" and slip.state == State.AWAITING_PRICE
    svc.reject_price(slip, team.sup, "Too dear for a tap")
    assert slip.state == State.ON_SITE and slip.agreed_total_fen is None
    assert slip.lines[0].final_price_fen is None and not slip.lines[0].needs_approval
    assert svc.timeline(slip)[-1].note == "Too dear for a tap"
    svc.confirm_fee(slip, team.worker, {slip.lines[0].id: 3000})  # the top of the range
    assert slip.state == State.IN_PROGRESS and slip.agreed_total_fen == 3000


def test_a_desk_price_approved_before_needs_no_second_approval_at_the_door(team):
    slip = team.open(svc.LineRequest(team.item(TAP), 1, 5000))
    svc.approve_quote(slip, team.sup)
    team.walk(slip, State.ON_SITE)
    svc.confirm_fee(slip, team.worker, {})
    assert slip.state == State.IN_PROGRESS and slip.agreed_total_fen == 5000
    # ...but another price outside the range does
    other = team.open(svc.LineRequest(team.item(TAP), 1, 5000))
    svc.approve_quote(other, team.sup)
    team.walk(other, State.ON_SITE)
    svc.confirm_fee(other, team.worker, {other.lines[0].id: 6000})
    assert other.state == State.AWAITING_PRICE


def test_confirm_fee_refuses_strange_prices(team):
    slip = team.walk(team.open(svc.LineRequest(team.item(TAP)),
                               svc.LineRequest(team.item(COMMON))), State.ON_SITE)
    tap, common = slip.lines
    for prices, says in (({987_654: 1000}, "not on this slip"),
                         ({tap.id: -1}, "cannot be negative"),
                         ({common.id: 100}, "is free")):
        with pytest.raises(DomainError) as err:
            svc.confirm_fee(slip, team.worker, prices)
        assert err.value.field == "prices" and says in english(err)
    assert slip.state == State.ON_SITE and tap.final_price_fen is None
    assert count(SlipEvent, SlipEvent.slip_id == slip.id) == 4  # open, dispatch, accept, check in


def test_confirm_fee_in_the_wrong_state_is_explained_by_the_table(team):
    slip = team.walk(team.open(), State.ACCEPTED)
    with pytest.raises(Conflict) as err:
        svc.confirm_fee(slip, team.worker, {})
    assert "is Accepted" in english(err) and "not possible now" in english(err)


# ---- two people, stale screens, resent taps -------------------------------------------------

def test_a_screen_showing_an_old_version_is_told_and_changes_nothing(team):
    slip = team.open()
    seen = slip.version
    svc.dispatch(slip, team.sup, team.worker.id, expected_version=seen)
    events = count(SlipEvent, SlipEvent.slip_id == slip.id)
    with pytest.raises(Conflict) as err:
        svc.dispatch(slip, team.sup, team.other.id, expected_version=seen)
    assert "changed since you opened it" in english(err) and "Dispatched" in english(err)
    assert slip.worker == team.worker and slip.version == seen + 1
    assert count(SlipEvent, SlipEvent.slip_id == slip.id) == events


def test_two_supervisors_dispatching_at_the_same_moment_one_wins(real_db, app, team):
    """Two requests, each with its own app context and session, both read version 1 and both
    dispatch at the same instant (to different workers): one is applied, the other is told."""
    slip = team.open()
    second = factories.user("supervisor")
    _db.session.commit()
    slip_id = slip.id
    plan = {"a": (team.sup.id, team.worker.id), "b": (second.id, team.other.id)}
    barrier = threading.Barrier(2)
    outcome: dict[str, str] = {}

    def supervisor(name: str) -> None:
        sup_id, worker_id = plan[name]
        with app.app_context():
            try:
                seen, sup = _db.session.get(Slip, slip_id), _db.session.get(User, sup_id)
                assert seen.version == 1
                barrier.wait(timeout=10)
                svc.dispatch(seen, sup, worker_id)
                _db.session.commit()
                outcome[name] = "dispatched"
            except Conflict as err:
                _db.session.rollback()
                with force_locale("en"):
                    outcome[name] = str(err.message)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=supervisor, args=(n,)) for n in plan]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcome) == ["a", "b"]
    winner = next(n for n, text in outcome.items() if text == "dispatched")
    loser = "b" if winner == "a" else "a"
    assert "Someone else changed slip" in outcome[loser] and "same moment" in outcome[loser]
    _db.session.expire_all()
    final = _db.session.get(Slip, slip_id)
    assert (final.state, final.worker_id, final.version) == ("dispatched", plan[winner][1], 2)
    assert count(SlipEvent, SlipEvent.slip_id == slip_id, SlipEvent.action == "dispatch") == 1
    assert count(AuditEvent, AuditEvent.action == "slip.dispatch") == 1


def test_a_resent_tap_is_applied_once(team):
    slip = team.walk(team.open(), State.ACCEPTED)
    svc.check_in(slip, team.worker, request_key="tap-0001-abcdef")
    version, events = slip.version, count(SlipEvent, SlipEvent.slip_id == slip.id)
    again = svc.check_in(slip, team.worker, request_key="tap-0001-abcdef")
    assert again is slip and slip.state == State.ON_SITE and slip.version == version
    assert count(SlipEvent, SlipEvent.slip_id == slip.id) == events
    assert count(AuditEvent, AuditEvent.action == "slip.check_in") == 1
    other = team.walk(team.open(), State.ACCEPTED)
    with pytest.raises(DomainError) as err:
        svc.check_in(other, team.worker, request_key="tap-0001-abcdef")
    assert "already used for another slip" in english(err) and other.state == State.ACCEPTED


# ---- cancelling and disputes -----------------------------------------------------------------

@pytest.mark.parametrize("state", [State.REGISTERED, State.DISPATCHED, State.ACCEPTED,
                                   State.NOBODY_HOME])
def test_a_slip_is_cancelled_with_a_reason_before_anyone_is_at_the_door(team, state):
    slip = team.walk(team.open(), state)
    with pytest.raises(DomainError) as err:
        svc.cancel(slip, team.clerk, "   ")
    assert err.value.field == "note" and slip.state == state
    svc.cancel(slip, team.clerk, "  Resident went away for a week ")
    assert slip.state == State.CANCELLED and slip.cancel_reason == "Resident went away for a week"
    assert slip.paused_since is None
    step = svc.timeline(slip)[-1]
    assert (step.from_state, step.note) == (state, "Resident went away for a week")


@pytest.mark.parametrize("state", [State.ON_SITE, State.AWAITING_PRICE, State.REFUSED,
                                   State.IN_PROGRESS, State.COMPLETED, State.HANDED_BACK,
                                   State.DISPUTED, State.CANCELLED])
def test_once_the_worker_is_at_the_door_a_slip_cannot_be_cancelled(team, state):
    slip = team.walk(team.open(), state)
    with pytest.raises(Conflict) as err:
        svc.cancel(slip, team.sup, "Changed their mind")
    assert "not possible now" in english(err) and slip.state == state
    assert slip.cancel_reason in ("", "Resident changed their mind")


def test_a_dispute_is_raised_with_a_reason_and_resolved_by_the_supervisor(team):
    slip = team.walk(team.open(), State.HANDED_BACK)
    with pytest.raises(DomainError):
        svc.dispute(slip, team.clerk, "")
    svc.dispute(slip, team.clerk, "Resident says the drain is blocked again")
    assert slip.state == State.DISPUTED
    with pytest.raises(DomainError):  # the clerk takes it up with the supervisor, who resolves
        svc.resolve(slip, team.clerk, "Came back, fixed")
    with pytest.raises(DomainError):
        svc.resolve(slip, team.sup, "")
    svc.resolve(slip, team.sup, "Worker went back, cleared it free of charge")
    assert slip.state == State.COMPLETED
    assert [e.action for e in svc.timeline(slip)][-2:] == ["dispute", "resolve"]
    svc.hand_back(slip, team.clerk)
    assert slip.state == State.HANDED_BACK


# ---- the board and the phone -----------------------------------------------------------------

def test_the_board_has_a_lane_per_open_state_urgent_first_then_by_due_time(team):
    now = clock.now()
    late = team.open(window_start=now + timedelta(hours=5), window_end=now + timedelta(hours=6))
    soon = team.open(window_start=now + timedelta(hours=1), window_end=now + timedelta(hours=2))
    no_time = team.open(window_start=None, window_end=None)
    urgent = team.open(urgent=True, window_start=None, window_end=None)
    urgent_later = team.open(urgent=True, window_start=None, window_end=None)
    on_site = team.walk(team.open(), State.ON_SITE)
    waiting = team.walk(team.open(svc.LineRequest(team.item(TAP))), State.AWAITING_PRICE)
    done = team.walk(team.open(), State.COMPLETED)
    away = team.walk(team.open(), State.NOBODY_HOME)
    disputed = team.walk(team.open(), State.DISPUTED)
    gone = [team.walk(team.open(), State.HANDED_BACK), team.walk(team.open(), State.CANCELLED)]
    board = svc.board()
    registered = board.lanes["registered"]
    assert [s.id for s in registered] == [urgent.id, urgent_later.id, soon.id, late.id,
                                          no_time.id]
    assert board.lanes["on_site"] == [on_site] and board.lanes["awaiting_price"] == [waiting]
    assert board.lanes["completed"] == [done] and board.lanes["nobody_home"] == [away]
    assert board.lanes["disputed"] == [disputed]
    on_board = {s.id for lane in board.lanes.values() for s in lane}
    assert not on_board & {s.id for s in gone}
    assert set(board.lanes) == {s.value for s in svc.BOARD_LANES}
    assert [w.id for w in board.workers] == sorted([team.worker.id, team.other.id],
                                                   key=lambda i: _db.session.get(User, i).full_name)


def test_the_board_shows_each_workers_load_today(team):
    for state in (State.DISPATCHED, State.ACCEPTED, State.IN_PROGRESS, State.COMPLETED):
        team.walk(team.open(), state)
    team.walk(team.open(), State.HANDED_BACK)      # finished today: counts
    team.walk(team.open(), State.NOBODY_HOME)      # still theirs until rescheduled
    old = team.walk(team.open(), State.HANDED_BACK)
    old.completed_at = clock.now() - timedelta(days=3)  # history: finished days ago
    svc.dispatch(team.open(), team.sup, team.other.id)
    _db.session.flush()
    board = svc.board()
    assert board.load[team.worker.id] == 6
    assert board.load[team.other.id] == 1


def test_the_worker_sees_only_their_own_jobs_most_urgent_first(team):
    mine_later = team.walk(team.open(), State.DISPATCHED)
    mine_urgent = team.walk(team.open(urgent=True, window_start=None, window_end=None),
                            State.ACCEPTED)
    mine_on_site = team.walk(team.open(), State.ON_SITE)
    mine_done = team.walk(team.open(), State.COMPLETED)
    team.walk(team.open(), State.HANDED_BACK)
    theirs = team.open()
    svc.dispatch(theirs, team.sup, team.other.id)
    unassigned = team.open()
    active, done = svc.worker_jobs(team.worker)
    assert active[0] == mine_urgent
    assert {s.id for s in active} == {mine_later.id, mine_urgent.id, mine_on_site.id}
    assert mine_done in done and all(s.worker_id == team.worker.id for s in active + done)
    assert theirs not in active + done and unassigned not in active + done
    assert svc.worker_slip(theirs.number, team.worker) is None
    assert svc.worker_slip(mine_later.number.lower(), team.worker) == mine_later
    assert svc.worker_slip("YC000000-0000", team.worker) is None
    other_active, _ = svc.worker_jobs(team.other)
    assert other_active == [theirs]


@contextmanager
def counting_queries():
    statements: list[str] = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    engine = _db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _history(team: Team, n: int) -> None:
    """n handed-back slips from last year, written directly (each with one line)."""
    when = clock.now() - timedelta(days=500)
    series = f"YC{yyyymm(when)}"
    unit = factories.unit(number="9901")
    start = count(Slip) + 1
    _db.session.execute(insert(Slip), [
        {"number": f"{series}-{i:04d}", "state": "handed_back", "unit_id": unit.id,
         "received_by_id": team.clerk.id, "worker_id": team.worker.id, "quoted_total_fen": 3000,
         "created_at": when, "updated_at": when, "completed_at": when, "handed_back_at": when,
         "price_list_id": team.pl.id, "version": 7} for i in range(1, n + 1)])
    ids = _db.session.scalars(select(Slip.id).where(Slip.number.like(f"{series}-%"))).all()
    assert len(ids) == n and min(ids) >= start
    _db.session.execute(insert(SlipLine), [
        {"slip_id": i, "name_zh": "疏通下水", "unit": "次", "quantity": 1, "unit_price_fen": 3000}
        for i in ids])


def test_the_board_costs_the_same_few_queries_with_a_thousand_slips_of_history(real_db, team):
    for state in (State.REGISTERED, State.DISPATCHED, State.ON_SITE, State.COMPLETED):
        team.walk(team.open(), state)
    _db.session.commit()
    _db.session.expire_all()
    with counting_queries() as small:
        before = svc.board()
    lanes_before = {k: [s.id for s in v] for k, v in before.lanes.items()}
    _history(team, 1000)
    for _ in range(20):
        team.open()
    _db.session.commit()
    _db.session.expire_all()
    with counting_queries() as big:
        after = svc.board()
        for lane in after.lanes.values():  # what the board template reads
            for slip in lane:
                slip.unit.label, slip.worker, [line.name_zh for line in slip.lines]
    # the settings row (twice outside a request), slips, their lines, the workers, their
    # roles, the load: the same statements whatever the history holds
    assert len(big) == len(small) <= 9, big  # 8, and the cards' helpers since two-person jobs
    assert (sum(len(v) for v in after.lanes.values())
            == sum(len(v) for v in lanes_before.values()) + 20)
    assert count(Slip) == 1000 + 4 + 20
    assert after.load[team.worker.id] == 3  # dispatched, on site; completed today


def test_searching_the_desk_list(team):
    slips = [team.open() for _ in range(3)]
    svc.cancel(slips[1], team.clerk, "No longer needed")
    rows, more = svc.search(svc.SlipFilter())
    assert [s.id for s in rows] == [s.id for s in reversed(slips)] and not more
    assert svc.search(svc.SlipFilter(state="cancelled"))[0] == [slips[1]]
    assert svc.search(svc.SlipFilter(q=slips[2].number[-4:]))[0] == [slips[2]]
    assert svc.search(svc.SlipFilter(q="%"))[0] == []
    assert svc.search(svc.SlipFilter(unit_id=slips[0].unit_id))[0] == [slips[0]]
    assert svc.search(svc.SlipFilter(day=clock.local_today()))[0] == list(reversed(slips))
    assert svc.search(svc.SlipFilter(day=clock.local_today() - timedelta(days=400)))[0] == []
    rows, more = svc.search(svc.SlipFilter(), page=1, per_page=2)
    assert len(rows) == 2 and more
