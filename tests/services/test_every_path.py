"""Every way a slip can go, walked through the real services: from the slip just opened, each
action the state table allows from where the slip stands, depth first, every path without a
state repeated — for a visitor who pays now, an owner on the monthly account and a tenant
paying from the deposit. Each branch runs in a savepoint and is rolled back, so every path
starts from the same slip.

Wherever a path stops, the slip may stay there, so each stop is checked: it is on the
supervisor's board while it is open; finished and owed, it waits at the till or stands on the
owner's account (for the amount the board shows); settled, it owes nothing and its receipt or
entry stands; cancelled, nothing is owed, queued or posted. No slip ends owed but nowhere.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest

from app.domain.errors import DomainError
from app.domain.settlement import TillStep
from app.domain.slip_states import (
    OPEN,
    SETTLED_STATES,
    TRANSITIONS,
    UNSETTLED,
    Action,
    State,
)
from app.extensions import db as _db
from app.models.slips import Slip
from app.services import billing, clock, refusals, slip_money
from app.services import slips as svc
from tests import factories
from tests.factories import DRAIN, TAP, acceptance

A = Action
# Taken elsewhere: an approval of the desk's quote changes no state; an errand's prepayment
# and its void are the errand's own paths; CLOSE follows a free job's hand-back by itself;
# a reversal is the money's correction (tests/services/test_billing.py walks it).
NOT_WALKED = frozenset({A.APPROVE_QUOTE, A.PREPAY, A.VOID, A.CLOSE, A.REVERSE})
ROUTE = {"visitor": None, "owner": "on_account", "tenant": "deposit"}


class Office:
    """The people and one slip (a fixed drain and a tap in a range) for one kind of payer."""

    def __init__(self, till, payer: str):
        self.till, self.payer = till, payer
        self.other = factories.user("worker")
        unit = till.topped_up(50_000) if payer == "tenant" else till.unit()
        self.slip = till.open(svc.LineRequest(till.item(DRAIN)), svc.LineRequest(till.item(TAP)),
                              kind=None if payer == "visitor" else payer, unit=unit)

    def drivers(self) -> dict[Action, Callable[[Slip], object]]:
        t, tap = self.till, lambda s: s.lines[1].id
        start = clock.now() + timedelta(days=1)
        return {
            A.DISPATCH: lambda s: svc.dispatch(s, t.sup, t.worker.id),
            A.REASSIGN: lambda s: svc.dispatch(
                s, t.sup, (self.other if s.worker_id == t.worker.id else t.worker).id,
                note="换人：师傅病了"),
            A.UNASSIGN: lambda s: svc.unassign(s, t.sup, note="师傅病了"),
            A.ACCEPT: lambda s: svc.accept(s, s.worker),
            A.CHECK_IN: lambda s: svc.check_in(s, s.worker),
            A.NOBODY_HOME: lambda s: svc.nobody_home(s, s.worker),
            A.RESCHEDULE: lambda s: svc.reschedule(s, t.clerk, start, start + timedelta(hours=2)),
            A.MOVE: lambda s: svc.move(s, t.clerk, start, start + timedelta(hours=3)),
            A.CONFIRM_FEE: lambda s: svc.confirm_fee(s, s.worker, {}),
            A.REQUEST_PRICE: lambda s: svc.confirm_fee(s, s.worker, {tap(s): 9000}),
            A.APPROVE_PRICE: lambda s: svc.approve_price(s, t.sup),
            A.REJECT_PRICE: lambda s: svc.reject_price(s, t.sup, "超出标准"),
            A.REFUSE: lambda s: refusals.refuse(s, s.worker, "住户嫌贵"),
            A.REQUOTE: lambda s: refusals.requote(s, t.sup, "主管沟通后再报价"),
            A.CLOSE_REFUSED: lambda s: refusals.close_refused(s, t.sup, "不收上门费"),
            A.CHARGE_CALL_OUT: lambda s: refusals.charge_call_out(s, t.sup, t.item(DRAIN),
                                                                  None, "收上门检查费"),
            A.PAUSE: lambda s: svc.pause(s, s.worker, "配件要订货，下周再来", start,
                                         start + timedelta(hours=2)),
            A.COMPLETE: lambda s: svc.complete(s, s.worker,
                                               acceptance(pay_route=ROUTE[self.payer])),
            A.HAND_BACK: lambda s: svc.hand_back(s, t.clerk),
            A.CANCEL: lambda s: svc.cancel(s, t.clerk, "业主来电取消"),
            A.DISPUTE: lambda s: svc.dispute(s, t.clerk, "业主说还漏水"),
            A.RESOLVE: lambda s: svc.resolve(s, t.sup, "复查无问题，费用照收"),
            A.WAIVE: lambda s: billing.waive(s, t.sup, "管理费内免费"),
            A.SETTLE: self._settle,
            A.POST_TO_ACCOUNT: self._review,
        }

    def _settle(self, s: Slip):
        if billing.till_step(s) == TillStep.DEPOSIT:
            return billing.draw_from_deposit(s, self.till.cashier)
        return billing.take_payment(s, self.till.cashier, "cash", billing.owed_fen(s))

    def _review(self, s: Slip):
        entry = next((e for e in billing.entries_to_review() if e.slip_id == s.id), None)
        if entry is None:
            raise DomainError("no entry waits for review")  # not this payer's path
        return billing.review_entry(entry, self.till.sup)


def where_it_stands(slip: Slip) -> list[str]:
    """What is wrong with the slip resting here (empty: its money and its place are right)."""
    wrong = []
    owed = billing.owed_fen(slip)
    queued = [r for r in billing.queue() if r.slip.id == slip.id]
    entry = slip_money.standing_entry(slip)
    receipts = slip_money.live_payments(slip)
    state = State(slip.state)
    if state in OPEN and slip not in svc.board().lanes.get(state, []):
        wrong.append("open but not on the board")
    if state in UNSETTLED and owed > 0:
        if not queued and entry is None:
            wrong.append(f"owes {owed} but is neither at the till nor on an account")
        if queued and queued[0].owed_fen != owed:
            wrong.append(f"the till asks {queued[0].owed_fen}, the slip owes {owed}")
        if entry is not None and entry.amount_fen != owed:
            wrong.append(f"the account holds {entry.amount_fen}, the slip owes {owed}")
        if queued and entry is not None:
            wrong.append("at the till and on the account at once")
    if state in SETTLED_STATES:
        if owed != 0 or queued:
            wrong.append("settled but still owed or queued")
        if slip.total_fen > 0 and not receipts and entry is None:
            wrong.append("settled with neither a receipt nor an entry")
    if slip.waived_at is not None:
        if not (slip.waived_by and slip.waiver_reason and slip.waived_fen > 0):
            wrong.append("waived without a supervisor, a reason or an amount")
        if owed or queued or entry is not None or receipts:
            wrong.append("waived with money still on it")
    if state == State.CANCELLED and (owed or queued or entry is not None or receipts):
        wrong.append("cancelled with money still on it")
    if state not in UNSETTLED and queued:
        wrong.append(f"at the till while {state}")
    return wrong


def where(slip: Slip) -> tuple[str, bool]:
    """A place on a path: the state, and whether the fee was waived (a waiver keeps the state
    but changes what the slip owes, so the path goes on from there)."""
    return slip.state, slip.waived_at is not None


def walk(office: Office) -> tuple[Counter, list[str]]:
    """Depth first from the opened slip; each branch in a savepoint, rolled back after."""
    drivers = office.drivers()
    stops: Counter = Counter()
    waived: Counter = Counter()
    problems: list[str] = []
    slip_id = office.slip.id

    def visit(path: list[str], seen: frozenset[tuple[str, bool]]):
        slip = _db.session.get(Slip, slip_id)
        state = State(slip.state)
        stops[state] += 1
        waived[slip.waived_at is not None] += 1
        problems.extend(f"{' → '.join(path) or 'opened'} ({state}): {w}"
                        for w in where_it_stands(slip))
        for action in TRANSITIONS[state]:
            if action in NOT_WALKED:
                continue
            nested = _db.session.begin_nested()
            try:
                drivers[action](_db.session.get(Slip, slip_id))
                after = where(_db.session.get(Slip, slip_id))
                if after not in seen:
                    visit([*path, action.value], seen | {after})
            except DomainError:
                pass  # legal in the table, not for this payer (e.g. a till step on account)
            finally:
                nested.rollback()
                _db.session.expire_all()

    visit([], frozenset({where(office.slip)}))
    return stops, waived, problems


@pytest.mark.parametrize("payer", list(ROUTE))
def test_no_path_leaves_a_slip_owed_but_nowhere(till, payer):
    stops, waived, problems = walk(Office(till, payer))
    assert problems == []
    assert waived[True] > 0  # paths go on after a waiver (to the hand-back, the close)
    # Every state is a stop on some path (the other payers' money state aside), and the walk
    # is as wide as the table.
    elsewhere = State.SETTLED if payer == "owner" else State.ON_ACCOUNT
    assert set(stops) == set(State) - {elsewhere}
    assert sum(stops.values()) >= 100
