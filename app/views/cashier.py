"""The cashier's workspace: the live queue of slips waiting at the till, taking a payment in at
most three actions, a unit's account (deposit, refunds, statements), receipts and voids, the
day's cash report and month end.

Every view is thin: load, authorise (`Perm.CASHIER`), validate the form, call one billing
service, answer (the transaction boundary commits). A broken rule lands next to its field
with 422 and nothing saved.
"""
from __future__ import annotations

from datetime import date, timedelta

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError

from app.domain.errors import DomainError
from app.domain.permissions import Perm
from app.domain.settlement import TillStep, deposit_short
from app.extensions import db, htmx
from app.forms.cashier import (
    CashCountForm,
    DrawForm,
    ErrandReturnForm,
    MonthEndForm,
    PayForm,
    PayRefundForm,
    PayStatementForm,
    RefundRequestForm,
    TopUpForm,
    VoidForm,
)
from app.models.billing import (
    KIND_LABELS,
    METHOD_LABELS,
    REFUND_LABELS,
    DepositRefund,
    Method,
    Payment,
    PaymentKind,
    PayRoute,
    RefundState,
    StatementRun,
)
from app.models.slips import Slip
from app.services import billing, catalogue, clock, live, slips
from app.services import property as prop
from app.services.money_documents import receipt_lines
from app.web.forms import form_status, save_form, save_once
from app.web.guards import require
from app.web.render import page_or_partial, wants_partial

bp = Blueprint("cashier", __name__, url_prefix="/cashier")

QUEUE_CHANGED = "queue-changed"  # the response of a payment asks the queue to refresh at once


@bp.context_processor
def _labels():
    """Labels for stored codes, and links to the printed papers (another blueprint's, which
    may not be there yet: then the link is left out rather than the page failing)."""
    def paper_url(endpoint: str, **kw) -> str | None:
        try:
            return url_for(endpoint, **kw)
        except BuildError:
            return None

    def label(table, code):
        for key, text in table.items():
            if key.value == code:
                return str(text)
        return code
    return {"paper_url": paper_url, "method_label": lambda c: label(METHOD_LABELS, c),
            "kind_label": lambda c: label(KIND_LABELS, c),
            "refund_label": lambda c: label(REFUND_LABELS, c),
            "PaymentKind": PaymentKind, "RefundState": RefundState, "Method": Method,
            "PayRoute": PayRoute}


# ---- the queue --------------------------------------------------------------------------

def _queue(stamp: int | None = None, status: int = 200):
    """The home page, or (htmx) just its queue, as the database has it now."""
    if stamp is None:
        stamp = live.current()  # read first: a change while the queue is drawn shows next time
    rows = billing.queue()
    draws = {r.slip.id: DrawForm(formdata=None, version=r.slip.version)
             for r in rows if r.from_deposit}
    page = {} if wants_partial() else {  # a live refresh redraws the queue alone
        "to_pay_out": billing.refunds(RefundState.APPROVED), "today": clock.local_today(),
        "price_list": catalogue.in_force()}
    return page_or_partial("cashier/home.html", "cashier/_queue.html", status, rows=rows,
                           draws=draws, stamp=stamp, **page)


@bp.route("/")
@require(Perm.TILL_VIEW)
def home():
    """The queue of slips waiting at the till (refreshes live), the unit finder, and the way
    to the day's cash report, month end and refunds to pay out."""
    return _queue()


@bp.route("/find")
@require(Perm.CASHIER)
def find():
    """Units and residents matching what the cashier types, each leading to the unit's account."""
    q = request.args.get("q", "")[:60]
    return render_template("cashier/_matches.html", q=q, matches=prop.find(q))


# ---- taking a payment -------------------------------------------------------------------

def _slip_or_404(number: str) -> Slip:
    return slips.by_number(number) or abort(404)


def _fresh_form(slip: Slip, kind: TillStep | None):
    if kind == TillStep.ERRAND_PREPAY:
        return PayForm(formdata=None, version=slip.version,
                       amount=billing.errand_prepayment_fen(slip), payer_name=slip.contact_name)
    if kind == TillStep.ERRAND_RETURN:
        return ErrandReturnForm(formdata=None, version=slip.version,
                                payer_name=slip.contact_name)
    if kind in (TillStep.PAY, TillStep.DEPOSIT):
        return PayForm(formdata=None, version=slip.version, amount=billing.owed_fen(slip),
                       payer_name=slip.contact_name)
    return None


def _panel(slip: Slip, form=None, *, kind: TillStep | None = None,
           done: Payment | None = None, settled: bool = False,
           alerts: list[str] | None = None, status: int = 200):
    kind = kind or billing.till_step(slip)
    if form is None and done is None and not settled:
        form = _fresh_form(slip, kind)
    draw = None
    if kind in (TillStep.PAY, TillStep.DEPOSIT) and slip.pay_route == PayRoute.DEPOSIT \
            and done is None:
        draw = DrawForm(formdata=None, version=slip.version)
    owed = billing.owed_fen(slip)
    balance = billing.deposit_available(slip.unit) if slip.pay_route == PayRoute.DEPOSIT \
        else None
    short = deposit_short(owed, balance) if balance is not None else 0
    resp = make_response(render_template(
        "cashier/_panel.html" if htmx else "cashier/pay.html", slip=slip, form=form,
        to_prepay=kind == TillStep.ERRAND_PREPAY, errand_back=kind == TillStep.ERRAND_RETURN,
        done=done, settled=settled, draw=draw, balance=balance, short=short,
        alerts=alerts or [], owed=owed, change=max(-owed, 0), due=max(owed, 0),
        prepayment=billing.errand_prepayment_fen(slip),
        prepaid=billing.prepaid_fen(slip) if slip.errand else 0,
        cost=billing.errand_cost_fen(slip) if slip.errand else 0), status)
    resp.headers["Vary"] = "HX-Request"
    if done is not None or settled:
        resp.headers["HX-Trigger"] = QUEUE_CHANGED
    return resp


def _paid(slip: Slip, payment: Payment | None, form, kind: TillStep):
    """After a payment: for htmx the panel shows the new receipt (and the queue refreshes);
    a plain form post goes to the receipt's page."""
    if htmx:
        return _panel(slip, form, kind=kind, done=payment, settled=payment is None)
    if payment is None:
        flash(_("Slip %(number)s settled: nothing to pay either way.", number=slip.number),
              "success")
        return redirect(url_for("cashier.home"))
    flash(_("Receipt %(number)s issued: %(amount)s.", number=payment.number,
            amount=billing.money(payment.amount_fen)), "success")
    return redirect(url_for("cashier.receipt", number=payment.number))


def _refused(slip: Slip, form, kind: TillStep | None):
    """A refused payment: the same panel with the message, drawn on the slip as it is now."""
    db.session.refresh(slip)
    form.version.raw_data, form.version.data = None, slip.version
    form.renew()
    return _panel(slip, form, kind=kind or billing.till_step(slip), status=422)


@bp.route("/slips/<number>/pay")
@require(Perm.CASHIER)
def pay_panel(number: str):
    """The panel that takes a slip's money: amount prefilled with what is owed, cash chosen,
    the payer's name filled in. One click more confirms it."""
    return _panel(_slip_or_404(number))


@bp.route("/slips/<number>/pay", methods=["POST"])
@require(Perm.CASHIER)
def pay(number: str):
    """Take the payment for a finished slip (one receipt; the slip is settled), or reconcile an
    errand that is back (the difference collected or the change given back)."""
    slip = _slip_or_404(number)
    if slip.errand:
        form = ErrandReturnForm()
        saved, payment = save_once(form, Payment, lambda: billing.settle_errand(
            slip, current_user, form.method.data, payer_name=form.payer_name.data or "",
            expected_version=form.version.data, request_key=form.request_key.data))
        kind = TillStep.ERRAND_RETURN
    else:
        form = PayForm()
        saved, payment = save_once(form, Payment, lambda: billing.take_payment(
            slip, current_user, form.method.data, form.amount.data,
            payer_name=form.payer_name.data or "", note=form.note.data or "",
            expected_version=form.version.data, request_key=form.request_key.data))
        kind = TillStep.PAY
    if not saved:
        return _refused(slip, form, kind)
    return _paid(slip, payment, form, kind)


@bp.route("/slips/<number>/draw", methods=["POST"])
@require(Perm.CASHIER)
def draw(number: str):
    """One button: a tenant's finished slip drawn from the unit's prepaid deposit."""
    slip = _slip_or_404(number)
    form = DrawForm()
    saved, payment = save_once(form, Payment, lambda: billing.draw_from_deposit(
        slip, current_user, expected_version=form.version.data,
        request_key=form.request_key.data))
    if not saved:
        if htmx:
            return _draw_refused(slip, form)
        return _refused_page(form)
    return _paid(slip, payment, form, TillStep.DEPOSIT)


def _messages(form) -> list[str]:
    found = [str(m) for m in form.form_errors]
    for field in form:
        found += [str(m) for m in field.errors]
    return found


def _draw_refused(slip: Slip, form: DrawForm):
    """The draw refused (the deposit is short, the slip moved on): the slip's panel as it is
    now, with the reason on top."""
    db.session.refresh(slip)
    return _panel(slip, alerts=_messages(form), status=422)


def _refused_page(form):
    """A plain (no htmx) button refused: the message on an error page, nothing saved."""
    raise DomainError("; ".join(_messages(form))
                      or _("Some of what was entered needs correcting."))


@bp.route("/slips/<number>/prepay", methods=["POST"])
@require(Perm.CASHIER)
def prepay(number: str):
    """An errand paid before the worker goes out: the quoted fee plus the purchase money."""
    slip = _slip_or_404(number)
    form = PayForm()
    saved, payment = save_once(form, Payment, lambda: billing.prepay_errand(
        slip, current_user, form.method.data, form.amount.data,
        payer_name=form.payer_name.data or "", note=form.note.data or "",
        expected_version=form.version.data, request_key=form.request_key.data))
    if not saved:
        return _refused(slip, form, TillStep.ERRAND_PREPAY)
    return _paid(slip, payment, form, TillStep.ERRAND_PREPAY)


# ---- a unit's account -------------------------------------------------------------------

def _unit_or_404(key: str):
    return billing.unit_by_key(key) or abort(404)


def _account(unit, status: int = 200, **failed):
    """The unit's account page; a refused form (by name) is shown with its messages."""
    account = billing.unit_account(unit)
    payer = next((r.name for r in unit.current_residents), "")
    forms = {
        "top_up": TopUpForm(formdata=None, prefix="topup", payer_name=payer),
        "refund": RefundRequestForm(formdata=None, prefix="refund"),
        "pay_refund": {r.id: PayRefundForm(formdata=None, prefix=f"payout{r.id}")
                       for r in account.refunds if r.state == RefundState.APPROVED},
        "statement": {s.id: PayStatementForm(formdata=None, amount=due, payer_name=payer,
                                             prefix=f"st{s.id}")
                      for s, due in account.statements if due > 0},
    }
    for name, value in failed.items():
        if isinstance(value, tuple):
            forms[name][value[0]] = value[1]
        else:
            forms[name] = value
    return render_template("cashier/unit.html", unit=unit, account=account, forms=forms,
                           today=clock.local_today()), status


@bp.route("/units/<key>")
@require(Perm.CASHIER)
def unit(key: str):
    """A unit's account: residents, deposit and its history, refunds, account entries,
    statements with what is due, payments with their receipts, slips still owed."""
    return _account(_unit_or_404(key))


def _to_receipt(payment: Payment, message: str):
    flash(message, "success")
    return redirect(url_for("cashier.receipt", number=payment.number), 303)


@bp.route("/units/<key>/top-up", methods=["POST"])
@require(Perm.CASHIER)
def top_up(key: str):
    """Money into the tenant's prepaid deposit, with a receipt."""
    unit = _unit_or_404(key)
    form = TopUpForm(prefix="topup")
    saved, payment = save_once(form, Payment, lambda: billing.top_up(
        unit, current_user, form.method.data, form.amount.data,
        payer_name=form.payer_name.data or "", note=form.note.data or "",
        request_key=form.request_key.data))
    if not saved:
        form.renew()
        return _account(unit, 422, top_up=form)
    return _to_receipt(payment, _("Deposit topped up by %(amount)s: receipt %(number)s.",
                                  amount=billing.money(payment.amount_fen),
                                  number=payment.number))


@bp.route("/units/<key>/refunds", methods=["POST"])
@require(Perm.CASHIER)
def refund_request(key: str):
    """Ask the manager to pay deposit money back; nothing moves until it is approved and paid."""
    unit = _unit_or_404(key)
    form = RefundRequestForm(prefix="refund")
    saved, refund = save_once(form, DepositRefund, lambda: billing.request_refund(
        unit, current_user, form.amount.data, form.reason.data or ""))
    if not saved:
        return _account(unit, 422, refund=form)
    flash(_("Refund of %(amount)s asked for: it waits for the manager's approval.",
            amount=billing.money(refund.amount_fen)), "success")
    return redirect(url_for("cashier.unit", key=unit.search_key), 303)


@bp.route("/refunds/<int:refund_id>/pay", methods=["POST"])
@require(Perm.CASHIER)
def pay_refund(refund_id: int):
    """Pay out a refund the manager approved: money leaves the deposit, with a voucher."""
    refund = db.session.get(DepositRefund, refund_id) or abort(404)
    form = PayRefundForm(prefix=f"payout{refund.id}")
    saved, payment = save_once(form, Payment, lambda: billing.pay_refund(
        refund, current_user, form.method.data, request_key=form.request_key.data))
    if not saved:
        form.renew()
        return _account(refund.unit, 422, pay_refund=(refund.id, form))
    return _to_receipt(payment, _("Refund of %(amount)s paid out: voucher %(number)s.",
                                  amount=billing.money(-payment.amount_fen),
                                  number=payment.number))


@bp.route("/units/<key>/statements/<month>/pay", methods=["POST"])
@require(Perm.CASHIER)
def pay_statement(key: str, month: str):
    """The owner pays the month's statement (in part or in full), with a receipt."""
    unit = _unit_or_404(key)
    statement = billing.statement_of(unit, month) if billing.MONTH.fullmatch(month) else None
    if statement is None:
        abort(404)
    form = PayStatementForm(prefix=f"st{statement.id}")
    saved, payment = save_once(form, Payment, lambda: billing.pay_statement(
        statement, current_user, form.method.data, form.amount.data,
        payer_name=form.payer_name.data or "", note=form.note.data or "",
        request_key=form.request_key.data))
    if not saved:
        form.renew()
        return _account(unit, 422, statement=(statement.id, form))
    return _to_receipt(payment, _("Statement %(month)s paid %(amount)s: receipt %(number)s.",
                                  month=month, amount=billing.money(payment.amount_fen),
                                  number=payment.number))


# ---- receipts ---------------------------------------------------------------------------

def _receipt_page(payment: Payment, form: VoidForm | None = None, status: int = 200):
    return render_template("cashier/receipt.html", payment=payment,
                           lines=receipt_lines(payment),
                           form=form or VoidForm(formdata=None),
                           refusal=billing.void_refusal(payment)), status


@bp.route("/receipts/<number>")
@require(Perm.CASHIER)
def receipt(number: str):
    """A receipt on screen: its lines, payer, method, cashier and time; VOID with the reason,
    time and person when it was voided."""
    payment = billing.receipt(number) or abort(404)
    return _receipt_page(payment)


@bp.route("/receipts/<number>/void", methods=["POST"])
@require(Perm.CASHIER)
def void(number: str):
    """Void a receipt with a reason: a reversal is recorded, the receipt keeps its number."""
    payment = billing.receipt(number) or abort(404)
    form = VoidForm()
    saved, _reversal = save_once(form, Payment, lambda: billing.void(
        payment, current_user, form.reason.data or "", request_key=form.request_key.data))
    if not saved:
        form.renew()
        return _receipt_page(payment, form, 422)
    flash(_("Receipt %(number)s is void.", number=payment.number), "success")
    return redirect(url_for("cashier.receipt", number=payment.number), 303)


# ---- the day's cash ---------------------------------------------------------------------

@bp.route("/day")
@require(Perm.CASH_REPORT)
def today():
    """The cash report of today, or of the day picked (?day=YYYY-MM-DD)."""
    picked = request.args.get("day", "").strip()[:10]
    return redirect(url_for("cashier.day", day=picked or clock.local_today().isoformat()))


def _day_page(day: date, form: CashCountForm | None = None, status: int = 200):
    report = billing.day_report(day)
    mine = report.counted.get(current_user.id)
    form = form or CashCountForm(formdata=None)
    drawn = [p for p in report.payments if p.method == Method.DEPOSIT]
    return render_template(
        "cashier/day.html", day=day, report=report, form=form, mine=mine, drawn=drawn,
        drawn_fen=sum(p.amount_fen for p in drawn), today=clock.local_today(),
        yesterday=day - timedelta(days=1),
        tomorrow=day + timedelta(days=1) if day < clock.local_today() else None,
        methods=[m for m in Method if m.value in report.by_method]), status


@bp.route("/day/<day>")
@require(Perm.CASH_REPORT)
def day(day: str):
    """The day's cash report: by method and by cashier, expected against counted cash, every
    payment and reversal. A day not begun (or not a date) is not found, with the reason."""
    try:
        when = billing.parse_day(day)
    except DomainError as err:
        return render_template("cashier/day_missing.html", message=err.message,
                               today=clock.local_today()), 404
    return _day_page(when)


@bp.route("/day/<day>/count", methods=["POST"])
@require(Perm.CASHIER)
def count(day: str):
    """The cash this cashier counted in the drawer at the end of the day."""
    try:
        when = billing.parse_day(day)
    except DomainError:
        abort(404)
    form = CashCountForm()
    saved, _count = save_form(form, lambda: billing.count_cash(
        when, current_user, form.counted.data, form.note.data or ""))
    if not saved:
        return _day_page(when, form, 422)
    flash(_("Cash counted: %(amount)s.", amount=billing.money(form.counted.data)), "success")
    return redirect(url_for("cashier.day", day=when.isoformat()), 303)


# ---- month end --------------------------------------------------------------------------

def _last_month() -> str:
    first = clock.local_today().replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


@bp.route("/month-end", methods=["GET", "POST"])
@require(Perm.CASHIER)
def month_end():
    """Choose a month (last month by default) and start its statements: one per unit with
    reviewed entries, never twice. The run's page then shows the progress."""
    form = MonthEndForm(month=_last_month())
    saved, run = save_form(form, lambda: billing.start_month_end(form.month.data,
                                                                 current_user))
    if saved:
        return redirect(url_for("cashier.month_run", run_id=run.id), 303)
    return render_template("cashier/month_end.html", form=form, runs=billing.recent_runs(),
                           this_month=clock.local_today().strftime("%Y-%m")), form_status(form)


def _run_or_404(run_id: int) -> StatementRun:
    return db.session.get(StatementRun, run_id) or abort(404)


def _progress(run: StatementRun):
    already = billing.made_by_other_runs(run)
    return page_or_partial(
        "cashier/month_run.html", "cashier/_progress.html", run=run, already=already,
        statements=billing.month_statements(run.month) if run.finished_at else [])


@bp.route("/month-end/runs/<int:run_id>")
@require(Perm.CASHIER)
def month_run(run_id: int):
    """A month-end run: its progress while it runs, then the month's statements."""
    return _progress(_run_or_404(run_id))


@bp.route("/month-end/runs/<int:run_id>/step", methods=["POST"])
@require(Perm.CASHIER)
def month_step(run_id: int):
    """Make the next batch of statements and commit; the progress it answers asks for the
    next step by itself until the run is finished."""
    run = _run_or_404(run_id)
    billing.run_step(run, current_user)
    if not htmx:
        return redirect(url_for("cashier.month_run", run_id=run.id), 303)
    return _progress(run)
