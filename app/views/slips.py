"""A slip seen from the office: its page and timeline, its printouts, the desk's actions."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.domain import settlement
from app.domain.errors import Conflict
from app.domain.permissions import Perm, allowed
from app.domain.pricing import price_label
from app.domain.slip_states import BOARD_ACTIONS, PAGE_ACTIONS, Action, State
from app.extensions import db, htmx
from app.forms.slip_page import FORMS, HelperForm, RescheduleForm, SlipPageForm
from app.models.billing import (
    KIND_LABELS,
    METHOD_LABELS,
    ROUTE_LABELS,
)
from app.models.slips import Slip, SlipPhoto
from app.models.users import User
from app.services import billing, clock, crew, live, refusals, slips, uploads
from app.services.pdf import render_document_html, render_pdf
from app.services.slip_documents import card_context, slip_context
from app.web.filters import localized
from app.web.forms import save_form
from app.web.guards import can, require
from app.web.render import page_or_partial

bp = Blueprint("slips", __name__, url_prefix="/slips")

POSTABLE = "any(" + ", ".join(a.value for a in PAGE_ACTIONS) + ")"
# The nobody-home card is offered while someone is on the way or has found nobody at home.
CARD_STATES = frozenset({State.DISPATCHED, State.ACCEPTED, State.NOBODY_HOME})


def _slip_or_404(number: str) -> Slip:
    return slips.by_number(number) or abort(404)


def _visible_slip(number: str) -> Slip:
    """The office sees every slip; a worker only the slips assigned to them (404 otherwise)."""
    if allowed(current_user.roles, Perm.SLIP_VIEW):
        return _slip_or_404(number)
    return slips.worker_slip(number, current_user) or abort(404)


def _fingerprint(slip: Slip) -> str:
    """Changes whenever what the page shows changes: the version, or a photo added."""
    photos = uploads.photo_count(slip)
    return f"{slip.version}.{photos}"


def _page(slip: Slip, failed: tuple[Action, SlipPageForm] | None = None, status: int = 200,
          stamp: int | None = None):
    """The page (or its live region). After a refused action the page is a snapshot with the
    message, and the refused form is redrawn on the slip's current version."""
    actions = [a for a in slips.actions_for(slip, current_user)
               if a != Action.WAIVE or settlement.waivable(slip)]
    forms = {a: FORMS[a](formdata=None, prefix=a.value, version=slip.version, **_extra(a))
             for a in PAGE_ACTIONS if a in actions}
    if failed is not None:
        action, form = failed
        form.version.data, form.version.raw_data = slip.version, [str(slip.version)]
        if action in forms:
            forms[action] = form
    # approve_quote is legal in every open state, but only means something with a price waiting.
    board = [a for a in actions if a in BOARD_ACTIONS
             and (a != Action.APPROVE_QUOTE or slip.needs_approval)]
    field = [a for a in actions if a not in BOARD_ACTIONS and a not in PAGE_ACTIONS]
    return page_or_partial(
        "slips/page.html", "slips/_slip.html", status, slip=slip, forms=forms,
        board_actions=board, field_actions=field, failed=failed,
        live=failed is None, stamp=stamp, fingerprint=_fingerprint(slip),
        events=slips.timeline(slip),
        clock=slips.sla_clock(slip), english=str(get_locale()) == "en",
        offer_card=slip.state in CARD_STATES, money=_money(slip),
        follow_ups=slips.follow_ups(slip), crew=_crew(slip, failed),
        may_follow_up=slip.state in slips.FOLLOWABLE and slip.reception_id is not None
        and can(Perm.RECEPTION))


def _crew(slip: Slip, failed) -> dict | None:
    """The helpers box: who helps, and for a supervisor the form to add one or take one off."""
    if not slip.helpers and not (can(Perm.SUPERVISE) and slip.state in crew.HELPED
                                 and slip.worker_id is not None):
        return None
    refused = failed[1] if failed and failed[0] == "helper" else None
    taken = {slip.worker_id, *(h.user_id for h in slip.helpers)}
    may = can(Perm.SUPERVISE) and slip.state in crew.HELPED and slip.worker_id is not None
    return {"helpers": slip.helpers, "may": may, "form": refused,
            "version": slip.version,
            "free": [w for w in slips.active_workers() if w.id not in taken] if may else []}


def _money(slip: Slip) -> dict:
    """The slip's money as the office sees it: who pays, what is owed now, an errand's
    prepayment and purchases, every receipt (void ones marked) and the account entry."""
    payments, entries = billing.slip_records(slip)
    return {"route": ROUTE_LABELS.get(slip.pay_route, slip.pay_route),
            "owed_fen": billing.owed_fen(slip),
            "prepaid_fen": billing.prepaid_fen(slip) if slip.errand else None,
            "to_prepay": billing.needs_prepayment(slip),
            "prepayment_fen": billing.errand_prepayment_fen(slip),
            "payments": payments, "entries": entries, "kinds": KIND_LABELS,
            "methods": METHOD_LABELS}


@bp.route("/<number>")
@require(Perm.SLIP_VIEW)
def page(number: str):
    """The whole slip and its timeline, with the desk's actions; refreshes live.

    A live refresh (htmx, `v` = what the page shows) of an unchanged slip answers 204.
    """
    stamp = live.current()  # read first: a change made while the page is drawn still shows
    slip = _slip_or_404(number)
    if htmx and request.args.get("v") == _fingerprint(slip):
        return Response(status=204)
    return _page(slip, stamp=stamp)


def _extra(action: Action) -> dict:
    """What a form needs besides the slip: today (a new time), the call-out fees to choose."""
    if action in (Action.RESCHEDULE, Action.MOVE, Action.PAUSE):
        return {"today": clock.local_today()}
    if action == Action.CHARGE_CALL_OUT:
        return {"items": [
            (it.id, f"{it.code} {localized(it)} · {price_label(it.price, symbol='¥')}")
            for it in refusals.call_out_items()]}
    return {}


def _window(form: RescheduleForm) -> tuple[datetime, datetime]:
    return form.window(clock.zone())


_DO = {
    Action.CANCEL: lambda s, f, v: slips.cancel(s, current_user, f.note.data,
                                                expected_version=v),
    Action.HAND_BACK: lambda s, f, v: slips.hand_back(s, current_user, expected_version=v),
    Action.DISPUTE: lambda s, f, v: slips.dispute(s, current_user, f.note.data,
                                                  expected_version=v),
    Action.RESOLVE: lambda s, f, v: slips.resolve(s, current_user, f.note.data,
                                                  expected_version=v),
    Action.RESCHEDULE: lambda s, f, v: slips.reschedule(s, current_user, *_window(f),
                                                        expected_version=v),
    Action.WAIVE: lambda s, f, v: billing.waive(s, current_user, f.note.data,
                                                expected_version=v),
    Action.MOVE: lambda s, f, v: slips.move(s, current_user, *_window(f), f.note.data or "",
                                            expected_version=v),
    Action.PAUSE: lambda s, f, v: slips.pause(s, current_user, f.note.data, *_window(f),
                                              expected_version=v),
    Action.REQUOTE: lambda s, f, v: refusals.requote(s, current_user, f.note.data,
                                                     expected_version=v),
    Action.CLOSE_REFUSED: lambda s, f, v: refusals.close_refused(s, current_user, f.note.data,
                                                                 expected_version=v),
    Action.CHARGE_CALL_OUT: lambda s, f, v: refusals.charge_call_out(
        s, current_user, f.item_id.data, f.price.data, f.note.data, expected_version=v),
}


def _done_message(action: Action, number: str) -> str:
    # Spelled out so that the catalogue extraction finds every message.
    return {
        Action.CANCEL: _("Slip %(number)s cancelled.", number=number),
        Action.HAND_BACK: _("Slip %(number)s handed back.", number=number),
        Action.DISPUTE: _("Slip %(number)s marked disputed.", number=number),
        Action.RESOLVE: _("Dispute on slip %(number)s resolved.", number=number),
        Action.WAIVE: _("Fee on slip %(number)s waived: nothing is owed on it.", number=number),
        Action.RESCHEDULE: _("New time agreed: slip %(number)s waits for dispatch again.",
                             number=number),
        Action.MOVE: _("Slip %(number)s moved to the new time; the worker's phone shows it.",
                       number=number),
        Action.PAUSE: _("Slip %(number)s paused: the second visit is booked and the worker's "
                        "phone shows it.", number=number),
        Action.REQUOTE: _("Slip %(number)s goes back to the door: the worker agrees the fee "
                          "again.", number=number),
        Action.CLOSE_REFUSED: _("Slip %(number)s closed without charge.", number=number),
        Action.CHARGE_CALL_OUT: _("Call-out fee charged on slip %(number)s: it waits for the "
                                  "money like any finished job.", number=number),
    }[action]


@bp.route(f"/<number>/<{POSTABLE}:action>", methods=["POST"])
@require(Perm.SLIP_VIEW)
def act(number: str, action: str):
    """Take one desk action on the slip, on the version the page showed.

    Refused (moved on: 409; not allowed or bad input: 422): the page again with the message,
    nothing changed.
    """
    slip = _slip_or_404(number)
    action = Action(action)
    form = FORMS[action](prefix=action.value, **_extra(action))
    conflict = []

    def run():
        try:
            return _DO[action](slip, form, form.version.data)
        except Conflict:
            conflict.append(True)
            raise

    saved, _slip = save_form(form, run)
    if saved:
        flash(_done_message(action, slip.number), "success")
        return redirect(url_for("slips.page", number=slip.number))
    db.session.expire_all()  # rolled back: show the slip as it is now
    return _page(_slip_or_404(number), (action, form), 409 if conflict else 422)


# ---- two-person jobs: the supervisor adds or takes off a helper -------------------------

@bp.route("/<number>/helpers", methods=["POST"])
@require(Perm.SUPERVISE)
def helper_add(number: str):
    """A helper goes with the lead worker; the job shows on the helper's phone at once."""
    return _helpers(number, crew.add_helper,
                    lambda slip, name: _("%(name)s helps on slip %(number)s.", name=name,
                                         number=slip.number))


@bp.route("/<number>/helpers/remove", methods=["POST"])
@require(Perm.SUPERVISE)
def helper_remove(number: str):
    """The helper no longer goes; the job leaves their phone."""
    return _helpers(number, crew.remove_helper,
                    lambda slip, name: _("%(name)s no longer helps on slip %(number)s.",
                                         name=name, number=slip.number))


def _helpers(number: str, change, said):
    slip = _slip_or_404(number)
    form = HelperForm(prefix="helper")
    saved, _r = save_form(form, lambda: change(slip, current_user, form.helper_id.data,
                                               expected_version=form.version.data))
    if saved:
        helper = db.session.get(User, form.helper_id.data)
        flash(said(slip, helper.full_name), "success")
        return redirect(url_for("slips.page", number=slip.number, _anchor="helpers"))
    db.session.expire_all()
    return _page(_slip_or_404(number), ("helper", form), 422)


# ---- printouts ---------------------------------------------------------------------------

def _pdf(data: bytes, filename: str) -> Response:
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


@bp.route("/<number>/slip.pdf")
@require(Perm.SLIP_PRINT)
def slip_pdf(number: str):
    """The slip on one A4 sheet: 第一联（存根）and 第二联（客户联）, each with the check-in QR."""
    slip = _slip_or_404(number)
    return _pdf(render_pdf("pdf/slip.html", slip_context(slip, str(get_locale()))),
                f"slip-{slip.number}.pdf")


@bp.route("/<number>/slip.html")
@require(Perm.SLIP_PRINT)
def slip_preview(number: str):
    """The same two copies as an HTML page, to check before printing."""
    slip = _slip_or_404(number)
    return render_document_html("pdf/slip.html", slip_context(slip, str(get_locale())))


@bp.route("/<number>/card.pdf")
@require(Perm.CARD_PRINT)
def card_pdf(number: str):
    """The nobody-home reminder card for the door (温馨提示卡); a worker's own slips only."""
    slip = _visible_slip(number)
    return _pdf(render_pdf("pdf/card.html", card_context(slip, str(get_locale()))),
                f"card-{slip.number}.pdf")


# ---- photos and the signature ------------------------------------------------------------

def _instance_file(relative: str, folder: str) -> Path:
    """The stored file, only when it lies inside instance/<folder>; 404 otherwise."""
    root = Path(current_app.instance_path).resolve()
    base = (root / folder).resolve()
    path = (root / relative).resolve() if relative else base
    if not path.is_relative_to(base) or path == base or not path.is_file():
        abort(404)
    return path


def _send(path: Path, mimetype: str, cache: str = "private, no-store"):
    resp = send_file(path, mimetype=mimetype, max_age=0, conditional=True)
    resp.headers["Cache-Control"] = cache
    return resp


@bp.route("/<number>/photos/<int:photo_id>")
@require(Perm.SIGNED_IN)
def photo(number: str, photo_id: int):
    """A photo of the job: for the office, and for the worker the slip is assigned to."""
    slip = _visible_slip(number)
    found = db.session.get(SlipPhoto, photo_id)
    if found is None or found.slip_id != slip.id or not found.content_type.startswith("image/"):
        abort(404)
    # A job's photos are shown again and again on the phone: kept, but asked about each time.
    return _send(_instance_file(found.file, "photos"), found.content_type, "private, no-cache")


@bp.route("/<number>/signature.png")
@require(Perm.SIGNED_IN)
def signature(number: str):
    """The resident's signature from the acceptance: office and the assigned worker."""
    slip = _visible_slip(number)
    return _send(_instance_file(slip.signature_file, "signatures"), "image/png")
