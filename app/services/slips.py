"""The service slip's verbs: open it, move it through its states, and read it for the screens.

Every state change goes through `act()`, which asks the table in app.domain.slip_states,
appends the slip's history, writes the audit trail and tells open screens. Services flush;
the view commits.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select, union, union_all
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.domain import settlement
from app.domain.errors import Conflict, DomainError
from app.domain.pricing import MAX_LINES, MAX_QUANTITY
from app.domain.roles import Role
from app.domain.slip_states import (
    MONEY_ACTIONS,
    OPEN,
    PAPER_OUT,
    WAITING_RESPONSE,
    Action,
    Actor,
    State,
    allowed_actions,
    may,
    needs_note,
    next_state,
)
from app.extensions import db
from app.models.catalogue import PriceItem, PriceList
from app.models.property import Resident, Unit
from app.models.reception import ReceptionEntry
from app.models.slips import Slip, SlipEvent, SlipHelper, SlipLine
from app.models.users import User, UserRole
from app.services import clock, live, slip_money
from app.services.audit import record
from app.services.numbering import slip_number
from app.services.paging import one_page


def actor_of(user: User) -> Actor:
    return Actor(user.id, frozenset(Role(r) for r in user.roles))


# ---- opening a slip ----------------------------------------------------------------------

@dataclass
class LineRequest:
    """One line as the clerk entered it: an item of the list in force, how many, what price."""

    item_id: int
    quantity: int = 1
    price_fen: int | None = None  # None: the list price (the lowest of a range)


@dataclass
class SlipRequest:
    unit: Unit
    resident: Resident | None = None
    contact_name: str = ""
    contact_phone: str = ""
    request: str = ""
    notes: str = ""
    urgent: bool = False
    free: bool = False
    window_start: datetime | None = None
    window_end: datetime | None = None
    lines: list[LineRequest] = field(default_factory=list)
    reception: ReceptionEntry | None = None
    purchase_fen: int = 0   # an errand's purchase money, prepaid with the fee
    follows: Slip | None = None  # unfinished work done as a new job: the slip it follows


ERRAND_CATEGORY = "errands"  # the price list's 代办 category: such a slip is an errand


def is_errand(item: PriceItem) -> bool:
    """An errand (代办) item: its slip is prepaid before the worker goes out."""
    return item.category.code == ERRAND_CATEGORY


def quote(item: PriceItem, quantity: int, price_fen: int | None, *, free: bool) -> SlipLine:
    """A line as the slip charges it, and as the desk previews it while the clerk types: a
    free slip (covered by the management fee) charges nothing and needs no approval."""
    quoted = quote_line(item, quantity, 0 if free else price_fen)
    if free:
        quoted.unit_price_fen, quoted.needs_approval = 0, False
    return quoted


def quote_line(item: PriceItem, quantity: int, price_fen: int | None) -> SlipLine:
    """Price one line from the approved list. Raises DomainError on the `lines` field.

    A fixed item takes its list price; a range item takes a price inside its range; a price
    outside the range, or a workload item without an agreed price inside its guide, is kept
    and marked as waiting for the supervisor's approval.
    """
    if not 1 <= quantity <= MAX_QUANTITY:
        raise DomainError(_l("Quantity must be between 1 and %(max)s.", max=MAX_QUANTITY),
                          "lines")
    spec = item.price
    if spec.free:
        if price_fen not in (None, 0):
            raise DomainError(_l("%(name)s is free: it has no price.", name=item.name_zh),
                              "lines")
        price_fen = 0
    elif price_fen is None:
        price_fen = spec.min_fen or 0
    if price_fen < 0:
        raise DomainError(_l("A price cannot be negative."), "lines")
    needs_approval = not spec.free and (spec.by_workload and spec.min_fen is None
                                        or not spec.contains(price_fen))
    return SlipLine(price_item_id=item.id, code=item.code, name_zh=item.name_zh,
                    name_en=item.name_en, unit=item.unit, quantity=quantity,
                    list_min_fen=spec.min_fen, list_max_fen=spec.max_fen,
                    by_workload=spec.by_workload, free=spec.free, unit_price_fen=price_fen,
                    needs_approval=needs_approval)


def _check_window(start: datetime | None, end: datetime | None) -> None:
    if (start is None) != (end is None):
        raise DomainError(_l("Give both the start and the end of the time window."),
                          "window_end")
    if start is not None and end is not None and end <= start:
        raise DomainError(_l("The time window must end after it starts."), "window_end")


def open_slip(req: SlipRequest, actor: User, price_list: PriceList | None) -> Slip:
    """Open a numbered slip quoted from the approved list in force. Raises DomainError.

    A free repair gets a slip too, at zero. The slip keeps the list version it was quoted
    from; the reception entry it came from records it in its follow-up column. The slip is
    numbered in the property's month of the clock's now.
    """
    if price_list is None:
        raise DomainError(_l("No approved price list is in force: a slip cannot be quoted."))
    if not req.lines:
        raise DomainError(_l("Add at least one item from the price list."), "lines")
    if len(req.lines) > MAX_LINES:
        raise DomainError(_l("A slip holds at most %(n)s items.", n=MAX_LINES), "lines")
    if req.resident is not None and req.resident.unit_id != req.unit.id:
        raise DomainError(_l("This resident does not live at that unit."), "resident_id")
    _check_window(req.window_start, req.window_end)
    items = {it.id: it for it in price_list.items}
    lines = []
    for line in req.lines:
        item = items.get(line.item_id)
        if item is None:
            raise DomainError(_l("That item is not on the price list in force."), "lines")
        lines.append(quote(item, line.quantity, line.price_fen, free=req.free))
    resident = req.resident
    errand = any(is_errand(items[line.item_id]) for line in req.lines)
    if req.purchase_fen < 0:
        raise DomainError(_l("A price cannot be negative."), "purchase")
    if req.purchase_fen and not errand:
        raise DomainError(_l("Purchase money is only for errands (代办)."), "purchase")
    if req.follows is not None:
        _check_follows(req.follows, req.unit)
    now = clock.now()
    month = clock.month_of(now).replace("-", "")
    slip = Slip(number=slip_number(month), unit=req.unit, resident=resident,
                contact_name=(req.contact_name or (resident.name if resident else "")).strip(),
                contact_phone=(req.contact_phone or (resident.phone if resident else "")).strip(),
                request=req.request.strip(), notes=req.notes.strip(), urgent=req.urgent,
                free=req.free, window_start=req.window_start, window_end=req.window_end,
                price_list=price_list, lines=lines, received_by=actor, reception=req.reception,
                created_at=now, updated_at=now, errand=errand, purchase_fen=req.purchase_fen,
                pay_route=settlement.default_route(resident.kind if resident else None,
                                                   errand=errand, free=req.free).value,
                follows=req.follows)
    slip.quoted_total_fen = sum(line.amount_fen for line in lines)
    slip.due_at = _due(slip, now)
    db.session.add(slip)
    if req.reception is not None and req.reception.closed_at is None:
        req.reception.closed_at = now  # its follow-up column now holds this slip's number
    db.session.flush()
    _append(slip, "open", None, State.REGISTERED, actor.id, "",
            {"follows": req.follows.number} if req.follows else None, None)
    record("slip.open", "slip", slip.id, slip.number, actor_id=actor.id,
           after={"unit": req.unit.label, "total_fen": slip.quoted_total_fen,
                  "urgent": slip.urgent,
                  **({"follows": req.follows.number} if req.follows else {})})
    live.changed()
    return slip


# A follow-up is opened for work done and signed: unfinished work still open is paused
# instead, and a cancelled job has nothing to follow.
FOLLOWABLE = frozenset({State.COMPLETED, State.HANDED_BACK, State.SETTLED, State.ON_ACCOUNT,
                        State.CLOSED})


def _check_follows(first: Slip, unit: Unit) -> None:
    if first.unit_id != unit.id:
        raise DomainError(_l("A follow-up slip is for the same unit as slip %(number)s.",
                             number=first.number))
    if first.state not in FOLLOWABLE:
        raise DomainError(_l("Slip %(number)s is not finished: pause it for a second visit "
                             "instead of opening a follow-up.", number=first.number))


def follow_ups(slip: Slip) -> list[Slip]:
    """The slips opened to finish this one's work, oldest first."""
    return list(db.session.scalars(select(Slip).where(Slip.follows_id == slip.id)
                                   .order_by(Slip.id)))


def _due(slip: Slip, now: datetime) -> datetime | None:
    """When the worker must be at the door: urgent, 30 minutes; else the end of the window."""
    if slip.urgent:
        return now + timedelta(minutes=current_app.config["URGENT_RESPONSE_MINUTES"])
    return slip.window_end


# ---- the one way a slip changes state ----------------------------------------------------

def act(slip: Slip, action: Action | str, user: User, *, note: str = "",
        expected_version: int | None = None, request_key: str | None = None,
        effect: Callable[[Slip], dict | None] | None = None) -> Slip:
    """Take `action` on the slip: check the table and the person, apply, record. Raises.

    `expected_version` is the version the person's screen showed: if the slip has moved on
    since, nothing happens and they are told (Conflict). `request_key` makes a resent tap
    (a phone back from a dead zone) a no-op. `effect` changes the slip's fields for this
    action and returns what to keep in the history.
    """
    action = Action(action)
    if request_key:
        done = db.session.scalar(select(SlipEvent).where(SlipEvent.request_key == request_key))
        if done is not None:
            if done.slip_id != slip.id:
                raise DomainError(_l("This request was already used for another slip."))
            return slip  # already applied once: the phone is only resending it
    if expected_version is not None and expected_version != slip.version:
        raise Conflict(_l("Slip %(number)s changed since you opened it (now: %(state)s). "
                          "Look at it again.", number=slip.number,
                          state=state_label(slip.state)))
    target = next_state(slip.state, action)
    if target is None:
        raise Conflict(_l("Slip %(number)s is %(state)s: “%(action)s” is not possible now.",
                          number=slip.number, state=state_label(slip.state),
                          action=action_label(action)))
    if not may(actor_of(user), action, slip.state, slip.worker_id):
        raise DomainError(_l("You may not do this on slip %(number)s.", number=slip.number))
    note = (note or "").strip()
    if needs_note(action, slip.state) and not note:
        raise DomainError(_l("Give a reason."), "note")
    before, number = slip.state, slip.number  # a failed flush expires the slip: read first
    data = effect(slip) if effect else None
    slip.state = target.value
    slip.updated_at = clock.now()
    try:
        db.session.flush()  # the version check: a second writer at the same moment fails here
    except StaleDataError:
        raise Conflict(_l("Someone else changed slip %(number)s at the same moment. "
                          "Look at it again.", number=number)) from None
    _append(slip, action.value, before, target, user.id, note, data, request_key)
    record(f"slip.{action.value}", "slip", slip.id, slip.number, actor_id=user.id,
           before={"state": before}, after={"state": target.value, **(data or {})})
    live.changed()
    return slip


def _append(slip: Slip, action: str, before: str | None, to: State, actor_id: int, note: str,
            data: dict | None, request_key: str | None) -> None:
    db.session.add(SlipEvent(slip_id=slip.id, action=action, from_state=before,
                             to_state=to.value, actor_id=actor_id, note=note, data=data,
                             request_key=request_key or None))
    db.session.flush()


# ---- the actions, each a thin layer over act() -------------------------------------------

def _worker(worker_id: int | None) -> User:
    worker = db.session.get(User, worker_id) if worker_id else None
    if worker is None or not worker.active or Role.WORKER.value not in worker.roles:
        raise DomainError(_l("Choose a worker."), "worker_id")
    return worker


def dispatch(slip: Slip, user: User, worker_id: int | None, *, window_start=None,
             window_end=None, expected_version: int | None = None, note: str = "") -> Slip:
    """Assign a worker (first time, again after nobody home, or to someone else).

    An errand goes out only once the cashier has taken its prepayment."""
    worker = _worker(worker_id)
    if slip.state in (State.REGISTERED, State.NOBODY_HOME) and not slip_money.may_go_out(slip):
        raise DomainError(_l("Errand %(number)s is not prepaid yet: the cashier takes the fee "
                             "and the purchase money before the worker goes out.",
                             number=slip.number), "worker_id")
    if slip.worker_id is not None and slip.state != State.NOBODY_HOME:
        action = Action.REASSIGN
        if worker.id == slip.worker_id and window_start is None:
            raise DomainError(_l("%(name)s already has this slip.", name=worker.full_name),
                              "worker_id")
    else:
        action = Action.DISPATCH
    _check_window(window_start, window_end)

    def effect(s: Slip) -> dict:
        previous = s.worker.full_name if s.worker else None
        if s.state == State.AWAITING_PRICE:
            clear_agreed(s)  # the new worker agrees the fee at the door again
        with db.session.no_autoflush:  # reading the helpers writes nothing on its own
            for now_leading in [h for h in s.helpers if h.user_id == worker.id]:
                s.helpers.remove(now_leading)  # a helper now leads
        s.worker, s.dispatched_by = worker, user
        if window_start is not None:
            s.window_start, s.window_end = window_start, window_end
        if s.state == State.NOBODY_HOME:
            _resume_clock(s)
        elif window_start is not None and not s.urgent:
            s.due_at = window_end
        return {"worker": worker.full_name, "previous": previous}

    return act(slip, action, user, note=note, expected_version=expected_version, effect=effect)


def unassign(slip: Slip, user: User, *, expected_version: int | None = None,
             note: str = "") -> Slip:
    """Take the slip back to the tray (a reason once someone has been at the door)."""
    def effect(s: Slip) -> dict:
        name = s.worker.full_name if s.worker else None
        if s.state == State.AWAITING_PRICE:
            clear_agreed(s)
        s.worker = None
        return {"previous": name}
    return act(slip, Action.UNASSIGN, user, note=note, expected_version=expected_version,
               effect=effect)


def clear_agreed(s: Slip) -> None:
    """Nothing is agreed any more: the prices asked at the door are dropped."""
    for line in s.lines:
        line.final_price_fen = None
        line.needs_approval = False
    s.agreed_total_fen = None


def accept(slip: Slip, user: User, **kw) -> Slip:
    return act(slip, Action.ACCEPT, user, **kw)


def check_in(slip: Slip, user: User, *, damage_note: str = "", **kw) -> Slip:
    """At the door: time stamped; damage seen before touching anything is noted. Back for a
    second visit, the work goes on at the fee agreed (the first arrival stays on the slip)."""
    second_visit = slip.state == State.PAUSED

    def effect(s: Slip) -> dict:
        if not second_visit or s.checked_in_at is None:
            s.checked_in_at = clock.now()
        s.paused_since = None
        if damage_note.strip():
            s.damage_note = damage_note.strip()
        data = {"damage": s.damage_note} if s.damage_note else {}
        return {**data, "second_visit": True} if second_visit else data
    return act(slip, Action.CHECK_IN, user, effect=effect, **kw)


def pause(slip: Slip, user: User, reason: str, window_start: datetime | None,
          window_end: datetime | None, **kw) -> Slip:
    """The work needs a second visit (a part on order): the reason and the new window agreed
    with the resident. The slip keeps its number and agreed fee; the time it waits does not
    run against the worker (the clock runs again for the second visit's window)."""
    if window_start is None:
        raise DomainError(_l("Agree the second visit's time with the resident."),
                          "window_start")
    _check_window(window_start, window_end)
    if window_end <= clock.now():
        raise DomainError(_l("The second visit must be in the future."), "window_end")

    def effect(s: Slip) -> dict:
        s.paused_since = clock.now()
        s.window_start, s.window_end, s.due_at = window_start, window_end, window_end
        return {"window_start": window_start.isoformat(), "window_end": window_end.isoformat()}
    return act(slip, Action.PAUSE, user, note=reason, effect=effect, **kw)


def nobody_home(slip: Slip, user: User, **kw) -> Slip:
    """Nobody answered: the attempt is kept, the SLA clock pauses, the slip goes back."""
    def effect(s: Slip) -> dict:
        s.nobody_home_count += 1
        s.paused_since = clock.now()
        return {"attempt": s.nobody_home_count}
    return act(slip, Action.NOBODY_HOME, user, effect=effect, **kw)


def _resume_clock(s: Slip) -> None:
    """A new time was agreed after nobody was home: the clock runs again from it."""
    now = clock.now()
    s.paused_since = None
    if s.urgent and s.window_end is None:
        s.due_at = now + timedelta(minutes=current_app.config["URGENT_RESPONSE_MINUTES"])
    else:
        s.due_at = s.window_end


def reschedule(slip: Slip, user: User, window_start: datetime | None,
               window_end: datetime | None, **kw) -> Slip:
    """A new time agreed with the resident after nobody was home: back to the tray."""
    if window_start is None:
        raise DomainError(_l("Agree a new time window with the resident."), "window_start")
    _check_window(window_start, window_end)

    def effect(s: Slip) -> dict:
        s.window_start, s.window_end, s.worker = window_start, window_end, None
        _resume_clock(s)
        return {"window_start": window_start.isoformat()}
    return act(slip, Action.RESCHEDULE, user, effect=effect, **kw)


def move(slip: Slip, user: User, window_start: datetime | None, window_end: datetime | None,
         note: str = "", **kw) -> Slip:
    """The resident asked the desk for another time: the window moves, the SLA follows it
    (an urgent job keeps its clock), and the worker, if one is assigned, sees the new time
    on the phone at once, with who moved it and what the time was."""
    if window_start is None:
        raise DomainError(_l("Agree a new time window with the resident."), "window_start")
    _check_window(window_start, window_end)

    def effect(s: Slip) -> dict:
        was = (s.window_start.isoformat() if s.window_start else None,
               s.window_end.isoformat() if s.window_end else None)
        if (s.window_start, s.window_end) == (window_start, window_end):
            raise DomainError(_l("That is the time already booked."), "window_start")
        s.window_start, s.window_end = window_start, window_end
        if not s.urgent or s.state == State.PAUSED:  # a second visit is booked, urgent or not
            s.due_at = window_end
        return {"window_start": window_start.isoformat(), "window_end": window_end.isoformat(),
                "was_start": was[0], "was_end": was[1]}
    return act(slip, Action.MOVE, user, note=note, effect=effect, **kw)


def approve_quote(slip: Slip, user: User, **kw) -> Slip:
    """The supervisor accepts the desk's out-of-range or workload prices as quoted."""
    if not slip.needs_approval:
        raise Conflict(_l("Slip %(number)s has no price waiting for approval.",
                          number=slip.number))
    return act(slip, Action.APPROVE_QUOTE, user, effect=_approve_lines(user), **kw)


def _approve_lines(user: User) -> Callable[[Slip], dict]:
    def effect(s: Slip) -> dict:
        now = clock.now()
        approved = []
        for line in s.lines:
            if line.needs_approval:
                line.needs_approval, line.approved_by, line.approved_at = False, user, now
                approved.append(line.code or line.name_zh)
        return {"approved": approved}
    return effect


def confirm_fee(slip: Slip, user: User, prices: dict[int, int], **kw) -> Slip:
    """Agree the final prices with the resident at the door.

    Inside the list (or already approved): work starts. Any price outside the list: the
    slip waits for the supervisor (REQUEST_PRICE) and the worker's phone shows the answer.
    """
    lines = {line.id: line for line in slip.lines}
    for line_id, fen in prices.items():
        if line_id not in lines:
            raise DomainError(_l("That line is not on this slip."), "prices")
        if fen < 0:
            raise DomainError(_l("A price cannot be negative."), "prices")
        if lines[line_id].free and fen != 0:
            raise DomainError(_l("%(name)s is free: it has no price.",
                                 name=lines[line_id].name_zh), "prices")
    if slip.state != State.ON_SITE:  # the table says why, in its own words
        return act(slip, Action.CONFIRM_FEE, user, **kw)

    def outside(line: SlipLine, fen: int) -> bool:
        if line.free or slip.free:
            return False
        if line.approved_at is not None and fen == line.price_fen:
            return False  # the supervisor already approved exactly this price
        return line.by_workload and line.list_min_fen is None or not line.spec.contains(fen)

    final = {line.id: prices.get(line.id, line.price_fen) for line in slip.lines}
    needs = [line for line in slip.lines if outside(line, final[line.id])]

    def effect(s: Slip) -> dict:
        for line in s.lines:
            line.final_price_fen = 0 if s.free else final[line.id]
            line.needs_approval = line in needs
        s.agreed_total_fen = sum(line.amount_fen for line in s.lines)
        return {"total_fen": s.agreed_total_fen,
                "outside": [line.code or line.name_zh for line in needs]}
    action = Action.REQUEST_PRICE if needs else Action.CONFIRM_FEE
    return act(slip, action, user, effect=effect, **kw)


def approve_price(slip: Slip, user: User, **kw) -> Slip:
    """The supervisor approves the price the worker agreed at the door: work may start."""
    return act(slip, Action.APPROVE_PRICE, user, effect=_approve_lines(user), **kw)


def reject_price(slip: Slip, user: User, note: str, **kw) -> Slip:
    """Refused: the worker agrees another price with the resident (or the job is cancelled)."""
    def effect(s: Slip) -> dict:
        for line in s.lines:
            line.final_price_fen = None
            line.needs_approval = False
        s.agreed_total_fen = None
        return {}
    return act(slip, Action.REJECT_PRICE, user, note=note, effect=effect, **kw)


@dataclass
class Acceptance:
    name: str
    signature_file: str
    satisfied: bool
    remarks: str = ""
    materials: str = ""
    pay_route: str | None = None           # None: the slip's default
    purchase_spent_fen: int | None = None  # an errand: what the purchases really cost


def complete(slip: Slip, user: User, acceptance: Acceptance, **kw) -> Slip:
    """The resident checked the work and signed on the phone: the job is done."""
    if not acceptance.name.strip():
        raise DomainError(_l("The resident's name is needed for the acceptance."),
                          "acceptance_name")
    if not acceptance.signature_file:
        raise DomainError(_l("The resident must sign on the screen."), "signature")
    route = slip_money.check_route(slip, acceptance.pay_route)
    spent = acceptance.purchase_spent_fen
    if slip.errand and (spent is None or spent < 0):
        raise DomainError(_l("Enter what the purchases cost (zero if nothing was bought)."),
                          "purchase_spent")

    def effect(s: Slip) -> dict:
        s.acceptance_name = acceptance.name.strip()
        s.signature_file = acceptance.signature_file
        s.satisfied = acceptance.satisfied
        s.acceptance_remarks = acceptance.remarks.strip()
        s.materials = acceptance.materials.strip()
        s.completed_at = clock.now()
        s.pay_route = route.value
        if s.errand:
            s.purchase_spent_fen = spent
        return {"satisfied": s.satisfied, "name": s.acceptance_name, "pay_route": route.value,
                **({"purchase_spent_fen": spent} if s.errand else {})}
    before = slip.version
    act(slip, Action.COMPLETE, user, effect=effect, **kw)
    if slip.version != before:  # not a resend of a tap already applied
        slip_money.post_to_account(slip, user)
    return slip


def hand_back(slip: Slip, user: User, **kw) -> Slip:
    """The worker brought the signed slip back to the desk (返单)."""
    def effect(s: Slip) -> dict:
        s.handed_back_at = clock.now()
        return {}
    act(slip, Action.HAND_BACK, user, effect=effect, **kw)
    if slip.state == State.HANDED_BACK and settlement.nothing_to_collect(slip):
        act(slip, Action.CLOSE, user)  # a free job owes nothing: it closes at once
    return slip


def cancel(slip: Slip, user: User, reason: str, **kw) -> Slip:
    """Cancel before work starts; the number stays, marked cancelled, with the reason."""
    def effect(s: Slip) -> dict:
        s.cancel_reason = reason.strip()[:300]
        s.paused_since = None
        return {"reason": s.cancel_reason}
    return act(slip, Action.CANCEL, user, note=reason, effect=effect, **kw)


def dispute(slip: Slip, user: User, note: str, **kw) -> Slip:
    return act(slip, Action.DISPUTE, user, note=note, **kw)


def resolve(slip: Slip, user: User, note: str, **kw) -> Slip:
    """The supervisor settled the dispute and the fee stands: the slip is completed and its
    money goes where it is collected. A job disputed before the resident signed gets its
    completion time now and, on an owner's monthly account, the entry the signature would
    have written (confirmed by this resolution), so the supervisor's review holds it."""
    def effect(s: Slip) -> dict:
        if s.completed_at is None:
            s.completed_at = clock.now()
        return {}
    before = slip.version
    act(slip, Action.RESOLVE, user, note=note, effect=effect, **kw)
    if slip.version != before and slip_money.standing_entry(slip) is None:
        slip_money.post_to_account(slip, user)
    return slip


# ---- reading -----------------------------------------------------------------------------

def state_label(state: str):
    from app.domain.slip_states import STATE_LABELS
    return STATE_LABELS[State(state)]


def action_label(action: str):
    from app.domain.slip_states import ACTION_LABELS
    return ACTION_LABELS.get(action, action)


def actions_for(slip: Slip, user: User) -> list[Action]:
    """The buttons this person sees on this slip: the same rule `act` enforces.

    Money actions are left out: they are taken on the cashier's and the review screens,
    through app.services.billing, never by a bare button."""
    return [a for a in allowed_actions(actor_of(user), slip.state, slip.worker_id)
            if a not in MONEY_ACTIONS]


# YC202611-0001; a month may run past 9999 slips, so four digits or more.
SLIP_NUMBER = re.compile(r"YC\d{6}-\d{4,6}")


def by_number(number: str) -> Slip | None:
    """The slip with this number, or None: also for text that cannot be a slip number (which
    never reaches the database, so a stray NUL in a URL is a 404, not an error)."""
    number = number.strip().upper()
    if not SLIP_NUMBER.fullmatch(number):
        return None
    return db.session.scalar(select(Slip).where(Slip.number == number))


def timeline(slip: Slip) -> list[SlipEvent]:
    return list(db.session.scalars(select(SlipEvent).where(SlipEvent.slip_id == slip.id)
                                   .order_by(SlipEvent.id)))


@dataclass(frozen=True)
class Clock:
    """The SLA clock as a screen shows it."""

    due_at: datetime | None
    paused: bool
    overdue: bool
    minutes_left: int | None


def sla_clock(slip: Slip, now: datetime | None = None) -> Clock:
    """Running while the worker has not reached the door; paused while nobody is home."""
    now = now or clock.now()
    if slip.state == State.NOBODY_HOME:
        return Clock(slip.due_at, True, False, None)
    if slip.state == State.PAUSED:  # waiting for the second visit; its window runs the clock
        if slip.window_start is not None and now < slip.window_start:
            return Clock(slip.due_at, True, False, None)
        left = int((slip.due_at - now).total_seconds() // 60) if slip.due_at else None
        return Clock(slip.due_at, False, left is not None and left < 0, left)
    # Stopped once someone reached the door (a job handed to another worker since included).
    if slip.state not in WAITING_RESPONSE or slip.due_at is None or slip.checked_in_at:
        return Clock(slip.due_at, False, False, None)
    left = int((slip.due_at - now).total_seconds() // 60)
    return Clock(slip.due_at, False, left < 0, left)


def _active_order():
    """Urgent first, then by the time the worker is due, then oldest first."""
    return (Slip.urgent.desc(), case((Slip.due_at.is_(None), 1), else_=0), Slip.due_at,
            Slip.id)


@dataclass
class Board:
    lanes: dict[str, list[Slip]]
    workers: list[User]
    load: dict[int, int]       # open slips per worker for today
    now: datetime
    supervisors: list[User]    # who may be set on duty for the night


BOARD_LANES = (State.REGISTERED, State.NOBODY_HOME, State.AWAITING_PRICE, State.REFUSED,
               State.DISPATCHED,
               State.ACCEPTED, State.ON_SITE, State.IN_PROGRESS, State.PAUSED, State.DISPUTED,
               State.COMPLETED)


def board(day: date | None = None) -> Board:
    """The dispatch board: open slips in lanes by state, urgent on top; each worker's load.

    Handed-back slips of the day stay off the board; finished ones show until handed back.
    Two queries however long the history: the state index keeps closed slips out of reach.
    """
    day = day or clock.local_today()
    slips = db.session.scalars(
        select(Slip).where(Slip.state.in_([s.value for s in BOARD_LANES]))
        .order_by(*_active_order())
        .options(selectinload(Slip.lines), selectinload(Slip.helpers))).unique().all()
    lanes: dict[str, list[Slip]] = {s.value: [] for s in BOARD_LANES}
    for slip in slips:
        lanes[slip.state].append(slip)
    staff = _active_staff(Role.WORKER, Role.SUPERVISOR)
    workers = [u for u in staff if Role.WORKER.value in u.roles]
    start, end = clock.day_bounds(day)
    # Two parts, each on its own index (state; completed_at), so the count never walks the
    # history: slips on a worker's hands now, and slips they finished today.
    busy = [s.value for s in OPEN if s not in (State.COMPLETED, State.DISPUTED)]
    held = union_all(
        select(Slip.worker_id).where(Slip.state.in_(busy), Slip.worker_id.is_not(None)),
        select(Slip.worker_id).where(Slip.completed_at >= start, Slip.completed_at < end,
                                     Slip.state.not_in(busy), Slip.worker_id.is_not(None)),
    ).subquery()
    load_rows = db.session.execute(
        select(held.c.worker_id, func.count()).group_by(held.c.worker_id)).all()
    return Board(lanes, workers, dict(load_rows), clock.now(),
                 [u for u in staff if Role.SUPERVISOR.value in u.roles])


def active_workers() -> list[User]:
    return _active_staff(Role.WORKER)


def _active_staff(*roles: Role) -> list[User]:
    """Active people holding any of `roles`, by name (one query, their roles loaded with it)."""
    holders = select(UserRole.user_id).where(UserRole.role.in_([r.value for r in roles]))
    return list(db.session.scalars(
        select(User).where(User.id.in_(holders), User.active.is_(True))
        .order_by(User.full_name)))


WORKER_ACTIVE = (State.DISPATCHED, State.ACCEPTED, State.ON_SITE, State.AWAITING_PRICE,
                 State.REFUSED, State.IN_PROGRESS, State.PAUSED)


def worker_jobs(worker: User, day: date | None = None) -> tuple[list[Slip], list[Slip]]:
    """The worker's list: open jobs in order of urgency and time; then today's finished ones.

    Only slips assigned to this worker are ever returned.
    """
    day = day or clock.local_today()
    start, end = clock.day_bounds(day)
    # Theirs: the slips they lead, and those they help on (a two-person job).
    helping = select(SlipHelper.slip_id).where(SlipHelper.user_id == worker.id)
    active = db.session.scalars(
        select(Slip).where(or_(Slip.worker_id == worker.id, Slip.id.in_(helping)),
                           Slip.state.in_([s.value for s in WORKER_ACTIVE]))
        .options(selectinload(Slip.helpers))
        .order_by(*_active_order())).unique().all()
    # Three index-friendly parts, not one OR that walks the worker's whole history.
    # (Everyone's finished-today is a few dozen rows by its date index; filtering it by worker
    # first would walk the worker's whole history instead.)
    mine = or_(Slip.worker_id == worker.id, Slip.id.in_(helping))
    finished_today = select(Slip.id).where(Slip.completed_at >= start, Slip.completed_at < end)
    not_handed_back = select(Slip.id).where(mine, Slip.state.in_([s.value for s in PAPER_OUT]))
    # Nobody home, or cancelled by the office, today: the worker sees why the job went.
    went_today = select(Slip.id).where(
        mine, Slip.state.in_([State.NOBODY_HOME.value, State.CANCELLED.value]),
        Slip.updated_at >= start)
    done = db.session.scalars(
        select(Slip).where(mine, Slip.id.in_(union(finished_today, not_handed_back,
                                                   went_today)))
        .order_by(Slip.updated_at.desc()).limit(20)).unique().all()
    return list(active), list(done)


def worker_slip(number: str, worker: User) -> Slip | None:
    """A slip as the worker may see it: one they lead or help on (None otherwise, so nothing
    leaks). Only the lead's role counts for the actions (the state table's ASSIGNEE_ONLY)."""
    slip = by_number(number)
    if slip is None or (slip.worker_id != worker.id
                        and all(h.user_id != worker.id for h in slip.helpers)):
        return None
    return slip


@dataclass
class SlipFilter:
    day: date | None = None
    state: str | None = None
    unit_id: int | None = None
    q: str = ""


def search(f: SlipFilter, page: int = 1, per_page: int = 50) -> tuple[list[Slip], bool]:
    """The desk's slip list, newest first, and whether older ones follow."""
    query = select(Slip).order_by(Slip.id.desc())
    if f.day:
        start, end = clock.day_bounds(f.day)
        query = query.where(Slip.created_at >= start, Slip.created_at < end)
    if f.state:
        query = query.where(Slip.state == f.state)
    if f.unit_id:
        query = query.where(Slip.unit_id == f.unit_id)
    if f.q.strip():
        query = query.where(Slip.number.contains(f.q.strip().upper(), autoescape=True))
    return one_page(query, page, per_page)


def unit_history(unit: Unit, limit: int = 10) -> Sequence[Slip]:
    return db.session.scalars(select(Slip).where(Slip.unit_id == unit.id)
                              .order_by(Slip.id.desc()).limit(limit)).unique().all()
