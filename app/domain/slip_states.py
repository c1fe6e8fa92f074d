"""The service slip's life, as data: which action moves a slip from which state to which,
and who may take it. Every state change in the app goes through `app.services.slips.act`,
which reads only this table; templates show the buttons `allowed_actions` returns.

After the work, the money: a slip is settled (paid with a receipt, or drawn from a tenant's
deposit) or put on an owner's monthly account (an entry the resident signed, reviewed by the
supervisor), and it is closed once its money is settled and the paper slip is back at the desk.
A settled or on-account slip is one whose paper is still out; handing it back closes it.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from flask_babel import lazy_gettext as _l

from app.domain.roles import Role


class State(StrEnum):
    REGISTERED = "registered"        # 已登记: opened at the desk, waiting for a worker
    DISPATCHED = "dispatched"        # 已派工: a worker and a time are set
    ACCEPTED = "accepted"            # 已接单: the worker took it
    ON_SITE = "on_site"              # 已到场: checked in at the door
    AWAITING_PRICE = "awaiting_price"  # 待审批: a fee outside the list waits for the supervisor
    IN_PROGRESS = "in_progress"      # 施工中: the resident agreed the fee; work under way
    PAUSED = "paused"                # 待续: a second visit is needed (a part on order); the
                                     # fee stands, a new window is agreed
    COMPLETED = "completed"          # 已完工: the resident signed acceptance
    HANDED_BACK = "handed_back"      # 已返单: the slip is back at the desk
    NOBODY_HOME = "nobody_home"      # 无人在家: waits for a new time with the resident
    REFUSED = "refused"              # 住户拒绝: the resident said no at the door; waits for
                                     # the supervisor (close, with or without a call-out fee,
                                     # or re-quote)
    CANCELLED = "cancelled"          # 已取消 (with a reason; only before anyone is at the door)
    DISPUTED = "disputed"            # 有争议: the supervisor takes it up
    SETTLED = "settled"              # 已收款: paid or drawn from the deposit; slip not back yet
    ON_ACCOUNT = "on_account"        # 已记账: on the owner's monthly account; slip not back yet
    CLOSED = "closed"                # 已结案: money settled and the slip back at the desk


class Action(StrEnum):
    DISPATCH = "dispatch"
    REASSIGN = "reassign"
    UNASSIGN = "unassign"
    ACCEPT = "accept"
    CHECK_IN = "check_in"
    NOBODY_HOME = "nobody_home"
    RESCHEDULE = "reschedule"
    MOVE = "move"                      # the desk: the resident asked for another time
    APPROVE_QUOTE = "approve_quote"    # approve an out-of-range or workload price of the desk
    CONFIRM_FEE = "confirm_fee"
    REQUEST_PRICE = "request_price"
    APPROVE_PRICE = "approve_price"
    REJECT_PRICE = "reject_price"
    PAUSE = "pause"                    # a second visit is needed: the reason, a new window
    COMPLETE = "complete"
    HAND_BACK = "hand_back"
    CANCEL = "cancel"
    REFUSE = "refuse"                  # the worker: the resident refused at the door
    REQUOTE = "requote"                # the supervisor: another price, agreed at the door
    CLOSE_REFUSED = "close_refused"    # the supervisor: refused, nothing charged
    CHARGE_CALL_OUT = "charge_call_out"  # the supervisor: refused, a call-out fee charged
    DISPUTE = "dispute"
    RESOLVE = "resolve"
    WAIVE = "waive"                    # the supervisor waives the fee, with the reason
    SETTLE = "settle"                  # the cashier took the money (or drew it from a deposit)
    POST_TO_ACCOUNT = "post_to_account"  # the supervisor reviewed the owner's signed entry
    CLOSE = "close"                    # nothing is owed (a free job) and the slip is back
    REVERSE = "reverse"                # a payment voided or an entry reversed: owed again
    PREPAY = "prepay"                  # an errand's fee and purchases paid before it goes out
    VOID = "void"                      # a receipt voided that did not settle the slip


S, A = State, Action

# TRANSITIONS[state][action] -> the state it leads to. Nothing else is legal.
TRANSITIONS: dict[State, dict[Action, State]] = {
    S.REGISTERED: {A.DISPATCH: S.DISPATCHED, A.APPROVE_QUOTE: S.REGISTERED,
                   A.MOVE: S.REGISTERED, A.CANCEL: S.CANCELLED, A.PREPAY: S.REGISTERED,
                   A.VOID: S.REGISTERED},
    S.DISPATCHED: {A.ACCEPT: S.ACCEPTED, A.CHECK_IN: S.ON_SITE, A.NOBODY_HOME: S.NOBODY_HOME,
                   A.REASSIGN: S.DISPATCHED, A.UNASSIGN: S.REGISTERED,
                   A.APPROVE_QUOTE: S.DISPATCHED, A.MOVE: S.DISPATCHED, A.CANCEL: S.CANCELLED},
    S.ACCEPTED: {A.CHECK_IN: S.ON_SITE, A.NOBODY_HOME: S.NOBODY_HOME,
                 A.REASSIGN: S.DISPATCHED, A.UNASSIGN: S.REGISTERED,
                 A.APPROVE_QUOTE: S.ACCEPTED, A.MOVE: S.ACCEPTED, A.CANCEL: S.CANCELLED},
    S.NOBODY_HOME: {A.DISPATCH: S.DISPATCHED, A.RESCHEDULE: S.REGISTERED,
                    A.APPROVE_QUOTE: S.NOBODY_HOME, A.CANCEL: S.CANCELLED,
                    A.PREPAY: S.NOBODY_HOME, A.VOID: S.NOBODY_HOME},
    # At the door nobody cancels: a resident who says no is recorded as refused, and the
    # supervisor decides (the SOP's 严禁私下结算: no job ends quietly between worker and resident).
    # People change (ill, wrong skill): the supervisor gives a job at the door to someone else
    # (who goes to the door again; a price asked is dropped) or takes it back to the tray; a
    # job under way keeps its agreed fee and goes on in the new worker's hands.
    S.ON_SITE: {A.CONFIRM_FEE: S.IN_PROGRESS, A.REQUEST_PRICE: S.AWAITING_PRICE,
                A.REFUSE: S.REFUSED, A.REASSIGN: S.DISPATCHED, A.UNASSIGN: S.REGISTERED},
    S.AWAITING_PRICE: {A.APPROVE_PRICE: S.IN_PROGRESS, A.REJECT_PRICE: S.ON_SITE,
                       A.REFUSE: S.REFUSED, A.REASSIGN: S.DISPATCHED,
                       A.UNASSIGN: S.REGISTERED},
    S.REFUSED: {A.REQUOTE: S.ON_SITE, A.CLOSE_REFUSED: S.CANCELLED,
                A.CHARGE_CALL_OUT: S.COMPLETED},
    # A fee is waived only before any money is taken or reviewed (a receipt is voided, an
    # entry reversed first): the waiver, its supervisor and reason stay on the slip.
    S.IN_PROGRESS: {A.COMPLETE: S.COMPLETED, A.PAUSE: S.PAUSED, A.DISPUTE: S.DISPUTED,
                    A.WAIVE: S.IN_PROGRESS, A.REASSIGN: S.IN_PROGRESS},
    # Unfinished work keeps its slip, its number and its agreed fee: the worker (or whoever
    # is sent instead) checks in again at the new time and the work goes on.
    S.PAUSED: {A.CHECK_IN: S.IN_PROGRESS, A.MOVE: S.PAUSED, A.REASSIGN: S.PAUSED,
               A.DISPUTE: S.DISPUTED, A.WAIVE: S.PAUSED},
    S.COMPLETED: {A.HAND_BACK: S.HANDED_BACK, A.SETTLE: S.SETTLED,
                  A.POST_TO_ACCOUNT: S.ON_ACCOUNT, A.DISPUTE: S.DISPUTED,
                  A.WAIVE: S.COMPLETED},
    S.HANDED_BACK: {A.SETTLE: S.CLOSED, A.POST_TO_ACCOUNT: S.CLOSED, A.CLOSE: S.CLOSED,
                    A.DISPUTE: S.DISPUTED, A.WAIVE: S.HANDED_BACK},
    S.DISPUTED: {A.RESOLVE: S.COMPLETED, A.WAIVE: S.COMPLETED},
    S.CANCELLED: {A.VOID: S.CANCELLED},  # a cancelled errand's prepayment is given back
    # Money settled, the paper still out: handing it back closes the slip.
    S.SETTLED: {A.HAND_BACK: S.CLOSED, A.REVERSE: S.COMPLETED},
    S.ON_ACCOUNT: {A.HAND_BACK: S.CLOSED, A.REVERSE: S.COMPLETED},
    S.CLOSED: {A.REVERSE: S.HANDED_BACK},
}

_DESK = frozenset({Role.CLERK, Role.SUPERVISOR})
_BOARD = frozenset({Role.SUPERVISOR})
_FIELD = frozenset({Role.WORKER})
_TILL = frozenset({Role.CASHIER})

# Who may take each action. Worker actions also need the slip to be assigned to them.
ACTION_ROLES: dict[Action, frozenset[Role]] = {
    A.DISPATCH: _BOARD, A.REASSIGN: _BOARD, A.UNASSIGN: _BOARD,
    A.APPROVE_QUOTE: _BOARD, A.APPROVE_PRICE: _BOARD, A.REJECT_PRICE: _BOARD,
    A.RESOLVE: _BOARD, A.WAIVE: _BOARD,
    A.REQUOTE: _BOARD, A.CLOSE_REFUSED: _BOARD, A.CHARGE_CALL_OUT: _BOARD,
    A.ACCEPT: _FIELD, A.CHECK_IN: _FIELD, A.NOBODY_HOME: _FIELD, A.CONFIRM_FEE: _FIELD,
    A.REQUEST_PRICE: _FIELD, A.COMPLETE: _FIELD, A.REFUSE: _FIELD,
    A.PAUSE: frozenset({Role.WORKER, Role.SUPERVISOR}),
    A.RESCHEDULE: _DESK, A.MOVE: _DESK, A.HAND_BACK: _DESK,
    # Cancelling belongs to the office (the resident calls the desk), never to the worker.
    A.CANCEL: _DESK,
    A.DISPUTE: frozenset({Role.CLERK, Role.SUPERVISOR, Role.WORKER}),
    # Only the cashier records money; the supervisor reviews the owners' account entries.
    A.SETTLE: _TILL, A.POST_TO_ACCOUNT: _BOARD, A.PREPAY: _TILL, A.VOID: _TILL,
    A.CLOSE: frozenset({Role.CLERK, Role.SUPERVISOR, Role.CASHIER}),
    A.REVERSE: frozenset({Role.CASHIER, Role.SUPERVISOR}),
}

# Taken by a worker only on a slip assigned to them.
ASSIGNEE_ONLY = frozenset({Role.WORKER})

# Nobody is at the door yet: the only states a slip may be cancelled from.
CANCELLABLE = frozenset(s for s, moves in TRANSITIONS.items() if A.CANCEL in moves)
# The worker has not reached the door yet: the SLA clock runs on response in these.
WAITING_RESPONSE = frozenset({S.REGISTERED, S.DISPATCHED, S.ACCEPTED})
# On someone's hands today: the board's lanes and the worker's list.
OPEN = frozenset(S) - {S.HANDED_BACK, S.CANCELLED, S.SETTLED, S.ON_ACCOUNT, S.CLOSED}
# The work is done and signed; the money is not settled yet (the cashier's queue).
UNSETTLED = frozenset({S.COMPLETED, S.HANDED_BACK})
# The resident's money is settled (with a receipt or a reviewed account entry).
SETTLED_STATES = frozenset({S.SETTLED, S.ON_ACCOUNT, S.CLOSED})
# The paper slip is still out with the worker.
PAPER_OUT = frozenset({S.COMPLETED, S.SETTLED, S.ON_ACCOUNT})
# Actions that need a note (a reason) to be legal.
NEEDS_NOTE = frozenset({A.CANCEL, A.DISPUTE, A.REJECT_PRICE, A.RESOLVE, A.WAIVE, A.REVERSE,
                        A.VOID,
                        A.REFUSE, A.REQUOTE, A.CLOSE_REFUSED, A.CHARGE_CALL_OUT, A.PAUSE})
# Someone has been at the door: taking the job from them needs the reason.
AT_THE_DOOR = frozenset({S.ON_SITE, S.AWAITING_PRICE, S.IN_PROGRESS, S.PAUSED})
# Taken only through the money services (a payment, an entry review), never a bare button.
MONEY_ACTIONS = frozenset({A.SETTLE, A.POST_TO_ACCOUNT, A.CLOSE, A.REVERSE, A.PREPAY, A.VOID})

# Which screen offers which action: the dispatch board on a card, the slip's own page; the
# worker's phone offers the rest (money actions are on the money screens only).
BOARD_ACTIONS = frozenset({A.DISPATCH, A.REASSIGN, A.UNASSIGN, A.APPROVE_QUOTE,
                           A.APPROVE_PRICE, A.REJECT_PRICE})
PAGE_ACTIONS = (A.RESCHEDULE, A.MOVE, A.PAUSE, A.HAND_BACK, A.RESOLVE, A.CHARGE_CALL_OUT,
                A.CLOSE_REFUSED,
                A.REQUOTE, A.DISPUTE, A.WAIVE, A.CANCEL)


@dataclass(frozen=True)
class Actor:
    """Who is acting, as the rules see them: their id and the roles they hold."""

    id: int
    roles: frozenset[Role]


def next_state(state: State | str, action: Action | str) -> State | None:
    """Where `action` leads from `state`, or None when it is not legal there."""
    return TRANSITIONS[State(state)].get(Action(action))


def needs_note(action: Action | str, state: State | str) -> bool:
    """The action needs a reason: always (NEEDS_NOTE), or a reassignment or a take-back once
    someone has been at the door (the worker ill, the wrong skill: said in the timeline)."""
    action = Action(action)
    return action in NEEDS_NOTE or (action in (A.REASSIGN, A.UNASSIGN)
                                    and State(state) in AT_THE_DOOR)


def may(actor: Actor, action: Action | str, state: State | str, worker_id: int | None) -> bool:
    """True when the action is legal from the state and the actor holds a role for it.

    A role in ASSIGNEE_ONLY counts only when the slip is assigned to this actor.
    """
    action = Action(action)
    if next_state(state, action) is None:
        return False
    for role in ACTION_ROLES[action] & actor.roles:
        if role not in ASSIGNEE_ONLY or worker_id == actor.id:
            return True
    return False


def allowed_actions(actor: Actor, state: State | str, worker_id: int | None,
                    among: Iterable[Action] | None = None) -> list[Action]:
    """The legal next actions for this actor, in the table's order."""
    actions = TRANSITIONS[State(state)].keys() if among is None else among
    return [a for a in actions if may(actor, a, state, worker_id)]


STATE_LABELS = {
    S.REGISTERED: _l("Registered"), S.DISPATCHED: _l("Dispatched"),
    S.ACCEPTED: _l("Accepted"), S.ON_SITE: _l("On site"),
    S.AWAITING_PRICE: _l("Price awaiting approval"), S.IN_PROGRESS: _l("In progress"),
    S.PAUSED: _l("Paused: second visit"),
    S.COMPLETED: _l("Completed"), S.HANDED_BACK: _l("Handed back"),
    S.NOBODY_HOME: _l("Nobody home"), S.REFUSED: _l("Refused at the door"),
    S.CANCELLED: _l("Cancelled"),
    S.DISPUTED: _l("Disputed"), S.SETTLED: _l("Paid"), S.ON_ACCOUNT: _l("On monthly account"),
    S.CLOSED: _l("Closed"),
}

ACTION_LABELS = {
    A.DISPATCH: _l("Dispatch"), A.REASSIGN: _l("Reassign"), A.UNASSIGN: _l("Take back"),
    A.ACCEPT: _l("Accept job"), A.CHECK_IN: _l("Check in"), A.NOBODY_HOME: _l("Nobody home"),
    A.RESCHEDULE: _l("New time agreed"), A.MOVE: _l("Move the appointment"),
    A.APPROVE_QUOTE: _l("Approve quoted price"),
    A.CONFIRM_FEE: _l("Resident agrees the fee"), A.REQUEST_PRICE: _l("Ask supervisor"),
    A.APPROVE_PRICE: _l("Approve price"), A.REJECT_PRICE: _l("Refuse price"),
    A.PAUSE: _l("Pause: second visit needed"),
    A.COMPLETE: _l("Complete"), A.HAND_BACK: _l("Slip handed back"),
    A.CANCEL: _l("Cancel slip"), A.REFUSE: _l("Resident refused"),
    A.REQUOTE: _l("Quote again at the door"), A.CLOSE_REFUSED: _l("Close without charge"),
    A.CHARGE_CALL_OUT: _l("Charge a call-out fee"),
    A.DISPUTE: _l("Mark disputed"), A.RESOLVE: _l("Resolve"), A.WAIVE: _l("Waive the fee"),
    A.SETTLE: _l("Payment received"), A.POST_TO_ACCOUNT: _l("Posted to monthly account"),
    A.CLOSE: _l("Closed"), A.REVERSE: _l("Payment reversed"),
    A.PREPAY: _l("Errand prepaid"), A.VOID: _l("Receipt voided"),
    "open": _l("Opened"),
    "add_helper": _l("Helper added"), "remove_helper": _l("Helper taken off"),
}
