"""The manager's workspace: staff accounts, the audit trail, the property's settings."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.domain.errors import DomainError
from app.domain.permissions import Perm
from app.extensions import db, htmx
from app.forms.money_review import RefundDecisionForm
from app.forms.settings import SettingsForm
from app.forms.staff import NewStaffForm, ResetPasswordForm, StaffForm
from app.models import User
from app.models.billing import (
    KIND_LABELS,
    METHOD_LABELS,
    REFUND_LABELS,
    DepositRefund,
    PaymentKind,
    RefundState,
)
from app.services import audit_trail, billing, live
from app.services import staff as staff_accounts
from app.services.overview import price_list_status, property_counts, recent_audit
from app.services.settings import FIELDS as SETTINGS_FIELDS
from app.services.settings import property_settings, update_settings
from app.web.args import parse_day, parse_int
from app.web.audit_labels import ACTIONS
from app.web.forms import form_status, refuse, save_form, save_once
from app.web.guards import can, require
from app.web.render import page_or_partial

bp = Blueprint("manage", __name__, url_prefix="/manage")


@bp.route("/")
@require(Perm.MANAGE)
def home():
    """The property at a glance: counts, the price list awaiting approval, recent activity."""
    return render_template("manage/home.html", counts=property_counts(), recent=recent_audit(),
                           money=_money_counts(), **price_list_status())


def _money_counts() -> dict:
    """The money that waits on the manager, and the corrections made, for the home page."""
    counts = billing.correction_counts()
    out = {}
    if can(Perm.REFUND_APPROVE):
        out["refunds"] = counts["refunds"]
    if can(Perm.MONEY_CORRECTIONS):
        for key in ("voids", "entry_reversals", "waivers"):
            out[key] = counts[key]
    return out


# ---- staff ------------------------------------------------------------------------------

def _user_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.route("/staff")
@require(Perm.STAFF_MANAGE)
def staff():
    """Every staff account, active ones first."""
    users = staff_accounts.accounts()
    return render_template("manage/staff.html", users=users)


@bp.route("/staff/new", methods=["GET", "POST"])
@require(Perm.STAFF_MANAGE)
def staff_new():
    """Create a staff account with its roles and first password."""
    form = NewStaffForm()
    saved, user = save_once(form, User, lambda: staff_accounts.create_user(
        form.username.data, form.full_name.data, form.password.data, form.roles.data,
        form.phone.data or ""))
    if saved:
        flash(_("Account %(name)s created.", name=user.username), "success")
        return redirect(url_for("manage.staff"))
    return render_template("manage/staff_form.html", form=form, user=None), form_status(form)


@bp.route("/staff/<int:user_id>", methods=["GET", "POST"])
@require(Perm.STAFF_MANAGE)
def staff_edit(user_id: int):
    """Change a person's name, phone and roles."""
    user = _user_or_404(user_id)
    form = StaffForm(obj=user if request.method == "GET" else None)
    if request.method == "GET":
        form.roles.data = user.roles
    saved, _done = save_form(form, lambda: staff_accounts.update_user(
        user, full_name=form.full_name.data, phone=form.phone.data or "", roles=form.roles.data,
        acting=current_user))
    if saved:
        flash(_("Saved."), "success")
        return redirect(url_for("manage.staff"))
    return render_template("manage/staff_form.html", form=form, user=user,
                           reset_form=ResetPasswordForm()), form_status(form)


@bp.route("/staff/<int:user_id>/password", methods=["POST"])
@require(Perm.STAFF_MANAGE)
def staff_password(user_id: int):
    """Set a new password for someone who forgot theirs; their open sessions end."""
    user = _user_or_404(user_id)
    form = ResetPasswordForm()
    own = session.get("sid") if user.id == current_user.id else None  # their own: it goes on
    saved, _done = save_form(form, lambda: staff_accounts.reset_password(
        user, form.password.data, keep=own))
    if saved:
        flash(_("New password set for %(name)s.", name=user.username), "success")
        return redirect(url_for("manage.staff_edit", user_id=user.id))
    edit = StaffForm(obj=user)
    edit.roles.data = user.roles
    return render_template("manage/staff_form.html", form=edit, user=user, reset_form=form), 422


@bp.route("/staff/<int:user_id>/active", methods=["POST"])
@require(Perm.STAFF_MANAGE)
def staff_active(user_id: int):
    """Deactivate (cannot sign in, history kept) or reactivate an account."""
    user = _user_or_404(user_id)
    want = request.form.get("active") == "1"
    try:
        staff_accounts.set_active(user, want, acting=current_user)
    except DomainError as err:
        refuse(err)
        return redirect(url_for("manage.staff_edit", user_id=user.id))
    flash(_("Account reactivated.") if want else _("Account deactivated."), "success")
    return redirect(url_for("manage.staff"))


# ---- audit trail --------------------------------------------------------------------------

@bp.route("/audit")
@require(Perm.AUDIT_VIEW)
def audit():
    """The audit trail, newest first, filtered by person, record type, action and days."""
    args = request.args
    page = parse_int(args.get("page"), maximum=100_000) or 1
    events, has_more = audit_trail.search(_audit_filter(args), page)
    people = staff_accounts.everyone()
    return page_or_partial("manage/audit.html", "manage/_audit_rows.html",
                           events=events, has_more=has_more, page=page, args=args, people=people,
                           filter_args={k: args[k] for k in AUDIT_FILTER_KEYS if args.get(k)},
                           entity_types=audit_trail.entity_types(), actions=list(ACTIONS))


AUDIT_FILTER_KEYS = ("actor", "entity", "action", "entity_id", "start", "end")


def _audit_filter(args) -> audit_trail.AuditFilter:
    """The filter from the query string; anything malformed is simply not applied."""
    def number(key):
        return parse_int(args.get(key))

    def day(key):
        return parse_day(args.get(key))

    return audit_trail.AuditFilter(actor_id=number("actor"), entity_type=args.get("entity") or None,
                                   action=args.get("action") or None, entity_id=number("entity_id"),
                                   start=day("start"), end=day("end"))


# ---- settings -----------------------------------------------------------------------------

@bp.route("/settings", methods=["GET", "POST"])
@require(Perm.SETTINGS_EDIT)
def settings():
    """The property's name, address, phone, time zone and currency, printed on every document."""
    form = SettingsForm(obj=property_settings() if request.method == "GET" else None)
    saved, _done = save_form(form, lambda: update_settings(
        **{f: (getattr(form, f).data or "").strip() for f in SETTINGS_FIELDS}))
    if saved:
        flash(_("Settings saved."), "success")
        return redirect(url_for("manage.settings"))
    return render_template("manage/settings.html", form=form), form_status(form)


# ---- deposit refunds and money corrections --------------------------------------------------

@bp.route("/refunds")
@require(Perm.REFUND_APPROVE)
def refunds():
    """Deposit refunds the cashier asked for, to approve or refuse; the ones decided below.
    Refreshes itself when anything changes (live)."""
    return _refunds(stamp=live.current())


def _refunds(status: int = 200, *, failed: tuple[int, RefundDecisionForm] | None = None,
             done: str | None = None, stamp: int | None = None):
    if stamp is None:
        stamp = live.current()
    rows = billing.refunds()
    pending = [r for r in rows if r.state == RefundState.PENDING]
    balances = billing.deposit_balances(r.unit_id for r in pending)
    return page_or_partial(
        "manage/refunds.html", "manage/_refunds.html", status, pending=pending,
        decided=[r for r in rows if r.state != RefundState.PENDING], balances=balances,
        failed=failed, done=done, stamp=stamp, labels=REFUND_LABELS, RefundState=RefundState)


@bp.route("/refunds/<int:refund_id>/decide", methods=["POST"])
@require(Perm.REFUND_APPROVE)
def refund_decide(refund_id: int):
    """Approve the refund (the cashier then pays it out) or refuse it with a note."""
    refund = db.session.get(DepositRefund, refund_id) or abort(404)
    form = RefundDecisionForm()
    saved, _done = save_form(form, lambda: billing.decide_refund(
        refund, current_user, form.decision.data == "approve", form.note.data or "",
        expected_version=form.version.data))
    if not saved:
        db.session.expire_all()
        return _refunds(422, failed=(refund_id, form))
    if refund.state == RefundState.APPROVED:
        text = _("Refund of %(amount)s to %(unit)s approved: the cashier pays it out.",
                 amount=billing.money(refund.amount_fen), unit=refund.unit.label)
    else:
        text = _("Refund of %(amount)s to %(unit)s refused.",
                 amount=billing.money(refund.amount_fen), unit=refund.unit.label)
    if htmx:
        return _refunds(done=text)
    flash(text, "success")
    return redirect(url_for("manage.refunds"))


@bp.route("/corrections")
@require(Perm.MONEY_CORRECTIONS)
def corrections():
    """Every voided receipt, reversed account entry and waived fee, newest first, with who
    and why: nothing disappears, each correction stays visible here."""
    return render_template("manage/corrections.html", voids=billing.reversals(),
                           entries=billing.entry_reversals(), waivers=billing.waivers(),
                           methods=METHOD_LABELS,
                           kinds=KIND_LABELS, PaymentKind=PaymentKind)
