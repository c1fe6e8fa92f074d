"""The supervisor's workspace: the live dispatch board and the actions taken on its cards.

Every action is a small form on a slip's card carrying the slip version the card was drawn
from. It answers with the board as it is now: the slip moved on, the action applied, or the
reason it was refused next to the field on the card (422).
"""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.domain.permissions import Perm
from app.domain.slip_states import BOARD_ACTIONS, WAITING_RESPONSE, Action, State
from app.extensions import db, htmx
from app.forms.dispatch import (
    DispatchForm,
    DutyForm,
    EndDutyForm,
    RejectPriceForm,
    SlipActionForm,
    UnassignForm,
)
from app.forms.money_review import ReverseEntryForm, ReviewEntryForm
from app.models.billing import AccountEntry
from app.models.slips import Slip
from app.services import billing, clock, duty, live, slips
from app.web import screen_cache
from app.web.forms import save_form
from app.web.guards import can, require
from app.web.render import page_or_partial

bp = Blueprint("supervise", __name__, url_prefix="/supervise")

@bp.route("/")
@require(Perm.BOARD_VIEW)
def home():
    """The dispatch board: open slips in lanes by state, urgent on top, the unassigned tray,
    each worker's load today. Refreshes itself when anything changes (live).

    Drawn once per change (and per minute, for the clocks) per person: every open board asks
    again after each change, and most asks find nothing new to draw.
    """
    if not screen_cache.cacheable():
        return _board()
    # Read before the board is drawn: a change after this read refreshes it again.
    stamp, epoch = live.current_with_epoch()
    key = screen_cache.key_for("board", (stamp, epoch))
    return screen_cache.get(key) or screen_cache.put(key, _board(stamp=stamp))


def _board(status: int = 200, *, failed: tuple[str, SlipActionForm] | None = None,
           done: str | None = None, stamp: int | None = None,
           refused: DutyForm | EndDutyForm | None = None):
    """The board as the database has it now: the page; for htmx the board partial, and after
    an action the partial with the note that says how the action went (swapped beside it, so a
    live refresh of the board leaves the note alone)."""
    if stamp is None:
        stamp = live.current()  # before the board: a change after this read refreshes it again
    board = slips.board()
    on_board = [slip for lane in board.lanes.values() for slip in lane]
    actions = {slip.number: [a for a in slips.actions_for(slip, current_user)
                             if a in BOARD_ACTIONS] for slip in on_board}
    clocks = {slip.number: slips.sla_clock(slip, board.now) for slip in on_board}
    summary = {
        "tray": len(board.lanes[State.REGISTERED]) + len(board.lanes[State.NOBODY_HOME]),
        "urgent": sum(1 for s in on_board if s.urgent and s.state in WAITING_RESPONSE),
        "overdue": sum(1 for c in clocks.values() if c.overdue),
        "approvals": sum(1 for s in on_board if s.needs_approval),
        "refused": len(board.lanes[State.REFUSED]),
    }
    if can(Perm.ACCOUNT_REVIEW):
        summary["entries"] = len(_pending_entries())
    on_duty = duty.current(board.now)
    duty_form = refused if isinstance(refused, DutyForm) else \
        DutyForm(formdata=None) if can(Perm.DUTY_SET) else None
    alerts = _messages(*failed) if failed else _form_messages(refused)
    answer = request.method == "POST"
    return page_or_partial(
        "supervise/board.html", "supervise/_answer.html" if answer else "supervise/_board.html",
        status, board=board, actions=actions, clocks=clocks, summary=summary, failed=failed,
        alerts=alerts, done=done, stamp=stamp, Action=Action,
        State=State, money_flags=_money_badges(on_board), on_duty=on_duty, duty_form=duty_form,
        alarms=duty.alarms(board.lanes[State.REGISTERED], current_user, board.now, on_duty))


def _money_badges(on_board: list[Slip]) -> dict:
    """What the cards say about money before dispatch: a tenant's deposit that does not cover
    the unit's open slips (one query for the whole board), an errand not prepaid yet."""
    return {"short": billing.shortfalls(on_board),
            "unpaid": billing.not_prepaid(on_board)}


def _form_messages(form) -> list[str]:
    """Every message of a refused form (none without one)."""
    if form is None:
        return []
    found = [str(m) for m in form.form_errors]
    for field in form:
        found += [str(m) for m in field.errors]
    return found


def _messages(number: str, form: SlipActionForm) -> list[str]:
    """Every message of a refused action, for the note above the board (the card also shows
    each one next to its field while the card is there)."""
    return [m if number in m else f"{number}: {m}" for m in _form_messages(form)]


def _slip_or_404(number: str) -> Slip:
    return slips.by_number(number) or abort(404)


def _act(number: str, form: SlipActionForm, action: Callable[[Slip], object],
         message: Callable[[Slip], str]):
    """Validate, take the action on the slip, commit; answer with the board as it is now."""
    slip = _slip_or_404(number)
    saved, _result = save_form(form, lambda: action(slip))
    if not saved:
        return _board(422, failed=(number, form))
    return _answered(message(slip), lambda text: _board(done=text), "supervise.home")


def _answered(text: str, draw: Callable[[str], object], endpoint: str):
    """After an action went through: for htmx the screen as it is now with the note saying
    so; for a plain form post the note flashed on the way back to the screen."""
    if htmx:
        return draw(text)
    flash(text, "success")
    return redirect(url_for(endpoint))


def _local(value):
    """A time typed on the board, in the property's time zone, as an aware datetime."""
    return value.replace(tzinfo=clock.zone()) if value is not None else None


@bp.route("/slips/<number>/dispatch", methods=["POST"])
@require(Perm.SUPERVISE)
def dispatch(number: str):
    """Give the slip to the worker picked on its card (dispatch, or reassign when it already
    has one), with a new time window when one was agreed after nobody was home."""
    form = DispatchForm()
    reassign = {}

    def run(slip: Slip):
        reassign["was"] = slip.worker_id is not None and slip.state != State.NOBODY_HOME
        return slips.dispatch(slip, current_user, form.worker_id.data,
                              window_start=_local(form.window_start.data),
                              window_end=_local(form.window_end.data),
                              expected_version=form.version.data, note=form.note.data or "")

    def said(slip: Slip) -> str:
        if reassign["was"]:
            return _("Slip %(number)s reassigned to %(name)s.", number=slip.number,
                     name=slip.worker.full_name)
        return _("Slip %(number)s dispatched to %(name)s.", number=slip.number,
                 name=slip.worker.full_name)
    return _act(number, form, run, said)


@bp.route("/slips/<number>/unassign", methods=["POST"])
@require(Perm.SUPERVISE)
def unassign(number: str):
    """Take the slip back from its worker: it returns to the unassigned tray."""
    form = UnassignForm()
    return _act(number, form,
                lambda s: slips.unassign(s, current_user, expected_version=form.version.data,
                                         note=form.note.data or ""),
                lambda s: _("Slip %(number)s taken back: it is in the tray again.",
                            number=s.number))


@bp.route("/slips/<number>/approve-quote", methods=["POST"])
@require(Perm.SUPERVISE)
def approve_quote(number: str):
    """Approve the out-of-range or workload prices the desk quoted on the slip."""
    form = SlipActionForm()
    return _act(number, form,
                lambda s: slips.approve_quote(s, current_user, expected_version=form.version.data),
                lambda s: _("Quoted prices on slip %(number)s approved.", number=s.number))


@bp.route("/slips/<number>/approve-price", methods=["POST"])
@require(Perm.SUPERVISE)
def approve_price(number: str):
    """Approve the price the worker agreed at the door: work may start."""
    form = SlipActionForm()
    return _act(number, form,
                lambda s: slips.approve_price(s, current_user, expected_version=form.version.data),
                lambda s: _("Price on slip %(number)s approved: work may start.",
                            number=s.number))


@bp.route("/slips/<number>/reject-price", methods=["POST"])
@require(Perm.SUPERVISE)
def reject_price(number: str):
    """Refuse the worker's price, with the reason the worker's phone shows."""
    form = RejectPriceForm()
    return _act(number, form,
                lambda s: slips.reject_price(s, current_user, form.note.data or "",
                                             expected_version=form.version.data),
                lambda s: _("Price on slip %(number)s refused; the worker sees your reason.",
                            number=s.number))


# ---- the night: who is on duty --------------------------------------------------------------

def _duty_answer(form: DutyForm | EndDutyForm, run, message):
    saved, _result = save_form(form, run)
    if not saved:
        return _board(422, refused=form)
    return _answered(message(), lambda text: _board(done=text), "supervise.home")


@bp.route("/duty", methods=["POST"])
@require(Perm.DUTY_SET)
def duty_set():
    """The supervisor on duty tonight, until a time: an urgent call nobody has been sent to
    alarms their board first."""
    form = DutyForm()
    return _duty_answer(
        form, lambda: duty.set_duty(form.supervisor_id.data, form.until.data, current_user),
        lambda: _("%(name)s is on duty until %(time)s.",
                  name=duty.current().supervisor.full_name,
                  time=clock.local(duty.current().ends_at).strftime("%m-%d %H:%M")))


@bp.route("/duty/end", methods=["POST"])
@require(Perm.DUTY_SET)
def duty_end():
    """The running duty ends now: the urgent alarm rings on every board at once again."""
    return _duty_answer(EndDutyForm(), lambda: duty.end_duty(current_user),
                        lambda: _("Nobody is on duty now: the urgent alarm rings on every "
                                  "board at once."))


# ---- owners' monthly-account entries (记帐月结) -------------------------------------------

def _pending_entries() -> list[AccountEntry]:
    """Entries waiting for review; one already reversed waits for nothing."""
    return [e for e in billing.entries_to_review() if not e.reversed]


def _entry_or_404(entry_id: int) -> AccountEntry:
    return db.session.get(AccountEntry, entry_id) or abort(404)


@bp.route("/accounts")
@require(Perm.ACCOUNT_REVIEW)
def accounts():
    """The owners' signed account entries waiting for review, each against its signed slip;
    refreshes itself when anything changes (live)."""
    return _accounts(stamp=live.current())


def _accounts(status: int = 200, *, failed: tuple[int, str, object] | None = None,
              done: str | None = None, stamp: int | None = None):
    if stamp is None:
        stamp = live.current()
    return page_or_partial("supervise/accounts.html", "supervise/_accounts.html", status,
                           entries=_pending_entries(), failed=failed, done=done, stamp=stamp)


def _entry_action(entry_id: int, kind: str, form, run, message):
    """Validate, call the billing service, commit; answer with the list as it is now (the
    refusal next to its field on the entry's row, 422)."""
    entry = _entry_or_404(entry_id)
    saved, _result = save_form(form, lambda: run(entry))
    if not saved:
        db.session.expire_all()
        return _accounts(422, failed=(entry_id, kind, form))
    return _answered(message(entry), lambda text: _accounts(done=text), "supervise.accounts")


@bp.route("/accounts/<int:entry_id>/review", methods=["POST"])
@require(Perm.ACCOUNT_REVIEW)
def review_entry(entry_id: int):
    """Reviewed against the signed slip: the entry goes on the owner's monthly account."""
    form = ReviewEntryForm()
    return _entry_action(
        entry_id, "review", form,
        lambda e: billing.review_entry(e, current_user, expected_version=form.version.data),
        lambda e: _("Slip %(number)s: %(amount)s posted to the monthly account of %(unit)s.",
                    number=e.slip.number, amount=billing.money(e.amount_fen),
                    unit=e.unit.label))


@bp.route("/accounts/<int:entry_id>/reverse", methods=["POST"])
@require(Perm.ACCOUNT_REVIEW)
def reverse_entry(entry_id: int):
    """Reverse a wrong entry, with the reason: the slip is then paid at the cashier."""
    form = ReverseEntryForm()
    return _entry_action(
        entry_id, "reverse", form,
        lambda e: billing.reverse_entry(e, current_user, form.note.data or ""),
        lambda e: _("Entry for slip %(number)s reversed: the slip is paid at the cashier.",
                    number=e.slip.number))
