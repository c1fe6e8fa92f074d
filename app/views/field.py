"""The worker's phone screens: today's jobs, one job with its next actions, the door."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.domain.errors import DomainError
from app.domain.permissions import Perm
from app.domain.settlement import deposit_short
from app.domain.slip_states import Action, State
from app.extensions import htmx
from app.forms.field import (
    ActionForm,
    CheckInForm,
    CompleteForm,
    PauseForm,
    PhotoForm,
    ReasonForm,
    complete_form,
    confirm_fee_form,
    editable_price,
    prices_of,
)
from app.models.billing import ROUTE_LABELS, PayRoute
from app.models.slips import Slip, SlipPhoto
from app.services import billing, catalogue, clock, refusals, slips, uploads
from app.web.filters import local_time, money
from app.web.forms import form_status, save_form, save_once
from app.web.guards import require
from app.web.render import page_or_partial

bp = Blueprint("field", __name__, url_prefix="/field")

# The worker's actions this screen offers, each posted to /field/jobs/<number>/<action>.
# REQUEST_PRICE is not a button of its own: a fee outside the list asks the supervisor.
FORMS = {
    Action.ACCEPT: ActionForm, Action.CHECK_IN: CheckInForm, Action.NOBODY_HOME: ActionForm,
    Action.CONFIRM_FEE: None, Action.COMPLETE: CompleteForm, Action.REFUSE: ReasonForm,
    Action.DISPUTE: ReasonForm, Action.PAUSE: PauseForm,
}
POSTABLE = "any(" + ", ".join(a.value for a in FORMS) + ")"


@bp.route("/")
@require(Perm.FIELD)
def home():
    """Today's jobs in order of urgency and time, then today's finished ones; live."""
    active, done = slips.worker_jobs(current_user)
    return page_or_partial("field/home.html", "field/_jobs.html", active=active, done=done,
                           price_list=catalogue.in_force(), clock=slips.sla_clock,
                           today=clock.local_today().isoformat())


@bp.route("/prices")
@require(Perm.FIELD)
def prices():
    """The price list, searchable with one thumb."""
    price_list = catalogue.in_force()
    q = request.args.get("q", "")
    items = catalogue.search_items(price_list, q, limit=200) if price_list else []
    return page_or_partial("field/prices.html", "field/_price_rows.html",
                           price_list=price_list, items=items, q=q)


@bp.route("/jobs/<number>")
@require(Perm.FIELD)
def job(number: str):
    """One of the worker's jobs and its legal next actions. A live refresh that finds the
    slip unchanged (`v` is the version on screen) answers 204 and keeps what is being typed."""
    slip = _mine(number)
    if htmx and request.args.get("v") == str(slip.version):
        return Response(status=204)
    return _job_page(slip)


@bp.route("/jobs/<number>/door")
@require(Perm.FIELD)
def door(number: str):
    """The QR code printed on the slip: the job, with "check in" ready."""
    return _job_page(_mine(number), door=True)


@bp.route(f"/jobs/<number>/<{POSTABLE}:action>", methods=["POST"])
@require(Perm.FIELD)
def act(number: str, action: str):
    """Take one action on the worker's own slip; a resent tap (same request key) is a no-op."""
    slip = _mine(number)
    action = Action(action)
    form = _form(action, slip)
    saved, _done = save_form(form, lambda: _DO[action](slip, form))
    if saved:
        flash(_done_message(action, slip), "success")
        return redirect(url_for(".job", number=slip.number))
    return _job_page(slip, posted=(action, form), status=form_status(form))


@bp.route("/jobs/<number>/photos", methods=["POST"])
@require(Perm.FIELD)
def photo(number: str):
    """A before/after/damage photo of the job: images only, size-limited, metadata removed."""
    slip = _mine(number)
    form = PhotoForm()
    saved, _photo = save_once(form, SlipPhoto, lambda: uploads.save_photo(
        slip, form.kind.data, _read(form.photo.data), current_user))
    if saved:
        flash(_("Photo saved."), "success")
        return redirect(url_for(".job", number=slip.number, _anchor="photos"))
    return _job_page(slip, photo_form=form, status=form_status(form))


# ---- helpers -----------------------------------------------------------------------------

def _mine(number: str) -> Slip:
    """The worker's own slip, or a plain "not assigned to you" page (404): nothing leaks."""
    slip = slips.worker_slip(number[:40], current_user)
    if slip is None:
        partial = htmx and request.method == "GET"
        resp = make_response(render_template(
            "field/_not_yours.html" if partial else "field/not_yours.html", number=number[:40]),
            200 if partial else 404)  # a live refresh swaps the message in place of the job
        abort(resp)
    return slip


def _read(storage) -> bytes:
    """At most one byte over the limit: enough to know the file is too large."""
    return storage.stream.read(current_app.config["PHOTO_MAX_BYTES"] + 1)


def _form(action: Action, slip: Slip, fresh: bool = False):
    kw = {"version": slip.version}
    if fresh:
        kw["formdata"] = None
    if action == Action.CONFIRM_FEE:
        return confirm_fee_form(slip, **kw)
    if action == Action.COMPLETE:
        form = complete_form(slip, [(r, ROUTE_LABELS[r]) for r in billing.routes_for(slip)],
                             **kw)
        if fresh and not form.acceptance_name.data:
            form.acceptance_name.data = slip.contact_name
        return form
    if action == Action.PAUSE:
        form = PauseForm(today=clock.local_today(), **kw)
        form.note.id = "pause-note"
        return form
    form = FORMS[action](**kw)
    if isinstance(form, ReasonForm):  # refuse and dispute share a page: ids of their own
        form.note.id = f"{action.value}-note"
        if action == Action.REFUSE:
            form.note.label.text = _("What the resident said")
    return form


def _keys(form) -> dict:
    return {"expected_version": form.version.data,
            "request_key": form.request_key.data}


def _complete(slip: Slip, form: CompleteForm) -> Slip:
    path = uploads.save_signature(slip, form.signature.data, form.request_key.data)
    acceptance = slips.Acceptance(
        name=form.acceptance_name.data, signature_file=path,
        satisfied=form.satisfied.data == "yes", remarks=form.remarks.data or "",
        materials=form.materials.data or "", pay_route=form.pay_route.data or None,
        purchase_spent_fen=form.purchase_spent.data if slip.errand else None)
    try:
        return slips.complete(slip, current_user, acceptance, **_keys(form))
    except DomainError:
        uploads.discard(path, keep=slip.signature_file)
        raise


_DO = {
    Action.ACCEPT: lambda s, f: slips.accept(s, current_user, **_keys(f)),
    Action.CHECK_IN: lambda s, f: slips.check_in(s, current_user,
                                                 damage_note=f.damage_note.data or "",
                                                 **_keys(f)),
    Action.NOBODY_HOME: lambda s, f: slips.nobody_home(s, current_user, **_keys(f)),
    Action.CONFIRM_FEE: lambda s, f: slips.confirm_fee(s, current_user, prices_of(f, s),
                                                       **_keys(f)),
    Action.COMPLETE: _complete,
    Action.REFUSE: lambda s, f: refusals.refuse(s, current_user, f.note.data, **_keys(f)),
    Action.DISPUTE: lambda s, f: slips.dispute(s, current_user, f.note.data, **_keys(f)),
    Action.PAUSE: lambda s, f: slips.pause(s, current_user, f.note.data, *f.window(clock.zone()),
                                           **_keys(f)),
}


def _done_message(action: Action, slip: Slip) -> str:
    if action == Action.ACCEPT:
        return _("Job %(number)s accepted.", number=slip.number)
    if action == Action.CHECK_IN:
        return _("Checked in at %(time)s.", time=local_time(slip.checked_in_at, "%H:%M"))
    if action == Action.NOBODY_HOME:
        return _("Nobody home recorded at %(time)s. The slip goes back to the office for a "
                 "new time.", time=local_time(slip.paused_since, "%H:%M"))
    if action == Action.CONFIRM_FEE:
        if slip.state == State.AWAITING_PRICE:
            return _("A price is outside the list: the supervisor must approve it. "
                     "Wait here; this screen shows the answer.")
        return _("Fee agreed: %(total)s. Work can start.", total=money(slip.total_fen))
    if action == Action.COMPLETE:
        return _("Job completed. Hand the slip back at the desk (返单).")
    if action == Action.REFUSE:
        return _("Refusal recorded: the supervisor decides what happens to slip %(number)s. "
                 "Take no money.", number=slip.number)
    if action == Action.PAUSE:
        return _("Paused: come back on %(day)s at %(time)s. The fee agreed stands.",
                 day=local_time(slip.window_start, "%m-%d"),
                 time=local_time(slip.window_start, "%H:%M"))
    return _("Slip %(number)s marked disputed: the supervisor takes it up.", number=slip.number)


def _job_page(slip: Slip, *, door: bool = False, posted=None, photo_form=None, status=200):
    actions = [a for a in slips.actions_for(slip, current_user) if a in FORMS]
    forms = {a: _form(a, slip, fresh=True) for a in actions}
    if posted is not None and posted[0] in forms:
        posted[1].renew(slip.version)
        forms[posted[0]] = posted[1]
    events = slips.timeline(slip)
    last = events[-1] if events else None
    pay = _pay_facts(slip) if Action.COMPLETE in actions else None
    refusal = last.note if last is not None and last.action == Action.REJECT_PRICE else ""
    moved = last if last is not None and last.action == Action.MOVE else None
    paused = next((e for e in reversed(events) if e.action == Action.PAUSE), None) \
        if slip.state == State.PAUSED else None
    return page_or_partial(
        "field/job.html", "field/_job.html", status, slip=slip, actions=actions, forms=forms,
        posted=posted, door=door, clock=slips.sla_clock(slip), refusal=refusal, moved=moved,
        paused=paused,
        photo_form=photo_form or PhotoForm(formdata=None), pay=pay, PayRoute=PayRoute,
        can_photo=slip.state in uploads.PHOTO_STATES, editable_price=editable_price,
        photo_max=current_app.config["PHOTO_MAX_BYTES"],
        photo_mb=f"{current_app.config['PHOTO_MAX_BYTES'] / 1048576:g}",
        today=clock.local_today().isoformat())


def _pay_facts(slip: Slip) -> dict:
    """What the completion form shows about the money: the deposit and whether it covers
    the job (a tenant), what an errand's resident prepaid."""
    facts: dict = {"routes": billing.routes_for(slip)}
    if PayRoute.DEPOSIT in facts["routes"]:
        available = billing.deposit_available(slip.unit)
        facts["balance_fen"] = available
        facts["short_fen"] = deposit_short(slip.total_fen, available)
    if slip.errand:
        facts["prepaid_fen"] = billing.prepaid_fen(slip)
    return facts
