"""The clerk's front desk: the reception log, opening a slip from a contact, today's slips."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import (
    Blueprint,
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
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.domain import settlement
from app.domain.appointments import default_window
from app.domain.errors import DomainError
from app.domain.permissions import Perm
from app.domain.roles import Role
from app.domain.slip_states import State
from app.extensions import db, htmx
from app.forms.reception import NEW_RESIDENT, AnswerForm, ContactForm
from app.forms.slips import SlipForm
from app.models.catalogue import PriceItem, PriceList
from app.models.property import Resident, Unit
from app.models.reception import CHANNEL_LABELS, KIND_LABELS, ContactKind, ReceptionEntry
from app.models.slips import Slip
from app.services import catalogue, clock, live, reception
from app.services import property as prop
from app.services import slips as svc
from app.services.overview import staff_with_role
from app.web.args import parse_int
from app.web.forms import form_status, save_form, save_once
from app.web.guards import require
from app.web.render import page_or_partial

bp = Blueprint("desk", __name__, url_prefix="/desk")

PER_PAGE = 50
MAX_PAGE = 100_000
ITEM_HITS = 8
TODAY_ROWS = 12
EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2999, 12, 31)


@bp.context_processor
def _desk_helpers() -> dict:
    return {"slip_url": _slip_url, "kind_labels": KIND_LABELS,
            "channel_labels": CHANNEL_LABELS}


# ---- the reception log --------------------------------------------------------------------

@bp.route("/")
@require(Perm.DESK)
def home():
    """Log the caller's contact (unit found as you type), quote from the list, today's log."""
    form = ContactForm()
    unit = _unit(parse_int(request.args.get("unit")))
    if unit is not None:
        form.unit_id.data = str(unit.id)
    return _home(form, unit)


def _home(form: ContactForm, unit: Unit | None, status: int = 200):
    stamp = live.current()  # read first: a change made while the page is drawn still shows
    return make_response(render_template(
        "desk/home.html", form=form, unit=unit, residents=_residents(unit),
        price_list=catalogue.in_force(), stamp=stamp, **_today_context()), status)


@bp.route("/today")
@require(Perm.DESK)
def today():
    """Today's contacts in short, beside the new-contact form; it refreshes itself live."""
    return render_template("desk/_today.html", **_today_context())


def _today_context() -> dict:
    entries, has_more = reception.search(reception.LogFilter(day=clock.local_today()), 1,
                                         TODAY_ROWS)
    return {"today_entries": entries, "today_more": has_more}


@bp.route("/units")
@require(Perm.RECEPTION)
def units():
    """The finder's matches as the clerk types; each one picks the unit for the contact."""
    q = request.args.get("q", "")[:60]
    return render_template("desk/_unit_matches.html", q=q, matches=prop.find(q))


@bp.route("/pick")
@require(Perm.RECEPTION)
def pick():
    """Choose the contact's unit: the one clicked, or the first match when Enter is pressed.

    An unknown unit is said right under the finder (422) and nothing is chosen.
    """
    unit_id = parse_int(request.args.get("unit_id"))
    q = request.args.get("q", "")[:60].strip()
    residents = None
    if unit_id is not None:
        unit = _unit(unit_id)
    else:
        matches = prop.find(q) if q else []
        unit = matches[0].unit if matches else None
        # the resident whose name or phone was typed comes first, and is the one chosen
        residents = matches[0].residents if matches else None
    if not htmx:
        return redirect(url_for("desk.home", unit=unit.id if unit else None))
    if unit is None:
        error = _("No unit matches “%(q)s”. Try the unit number (3-2-1502), a name or a phone.",
                  q=q) if q else _("Type the unit number, a name or a phone.")
        return render_template("desk/_unit_matches.html", q=q, matches=[], error=error), 422
    form = ContactForm(formdata=None)
    form.unit_id.data = str(unit.id)
    return render_template("desk/_unit_picked.html", q="", matches=[], form=form, unit=unit,
                           residents=residents if residents is not None else _residents(unit))


@bp.route("/contacts", methods=["POST"])
@require(Perm.RECEPTION)
def contact_new():
    """Write one call or visit into the log; a job goes on to its slip, an enquiry is closed."""
    form = ContactForm()
    saved, entry = save_once(form, ReceptionEntry,
                             lambda: reception.log_contact(_contact(form), current_user))
    if saved:
        if entry.kind in reception.SLIP_KINDS:
            return redirect(url_for("desk.slip_new", entry_id=entry.id))
        flash(_("Logged: %(kind)s.", kind=KIND_LABELS[ContactKind(entry.kind)]),
              "success")
        return redirect(url_for("desk.home"))
    return _home(form, _unit(parse_int(form.unit_id.data)), form_status(form))


def _contact(form: ContactForm) -> reception.Contact:
    """The form as the log service takes it; a new resident is recorded first. Raises."""
    unit = None
    if form.unit_id.data:
        unit = _unit(parse_int(form.unit_id.data))
        if unit is None:
            raise DomainError(_l("No such unit. Find it again by its number, a name or a phone."),
                              "unit_id")
    resident = None
    choice = form.resident_id.data or ""
    if choice == NEW_RESIDENT:
        if unit is None:
            raise DomainError(_l("Choose the unit first."), "unit_id")
        resident = _add_resident(unit, form)
    elif choice:
        resident = db.session.get(Resident, int(choice))
        if resident is None or unit is None or resident.unit_id != unit.id or not resident.active:
            raise DomainError(_l("Choose a resident of this unit."), "resident_id")
    return reception.Contact(
        channel=form.channel.data, kind=form.kind.data, request=form.request.data or "",
        unit=unit, resident=resident, caller_name=form.caller_name.data or "",
        caller_phone=form.caller_phone.data or "", urgent=bool(form.urgent.data),
        answer=(form.answer.data or "") if form.kind.data == ContactKind.ENQUIRY else "")


def _add_resident(unit: Unit, form: ContactForm) -> Resident:
    """The caller is not on file yet: record them at the unit (the clerk may, for reception)."""
    try:
        return prop.add_resident(unit, form.new_name.data or "", form.new_kind.data or "owner",
                                 form.new_phone.data or "", "", form.new_notes.data or "")
    except DomainError as err:
        fields = {"name": "new_name", "kind": "new_kind", "phone": "new_phone"}
        raise DomainError(err.message, fields.get(err.field, "new_name")) from err


@bp.route("/log")
@require(Perm.RECEPTION_LOG)
def log():
    """The reception log, newest first: by day (today unless chosen), kind and clerk; paged."""
    stamp = live.current()
    return page_or_partial("desk/log.html", "desk/_log.html", stamp=stamp,
                           **_log_context(request.args))


def _log_context(args) -> dict:
    """The log's filter from the query string; anything malformed is simply not applied."""
    day = _day_arg(args)
    kind = args.get("kind") if args.get("kind") in {k.value for k in ContactKind} else None
    clerk_id = parse_int(args.get("clerk"))
    page = parse_int(args.get("page"), maximum=MAX_PAGE) or 1
    entries, has_more = reception.search(reception.LogFilter(day=day, kind=kind,
                                                             clerk_id=clerk_id),
                                         page, PER_PAGE)
    filter_args = {"day": day.isoformat() if day else "", "kind": kind or None,
                   "clerk": clerk_id}
    return {"entries": entries, "has_more": has_more, "page": page, "day": day,
            "kind": kind, "clerk_id": clerk_id, "today": clock.local_today(),
            "clerks": staff_with_role(Role.CLERK), "kinds": KIND_LABELS,
            "channels": CHANNEL_LABELS,
            "filter_args": {k: v for k, v in filter_args.items() if v is not None}}


def _day_arg(args) -> date | None:
    """No `day`: today. An empty one: every day. A malformed one: today."""
    if "day" not in args:
        return clock.local_today()
    raw = args.get("day", "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw) if raw.isascii() and len(raw) == 10 else None
    except ValueError:
        day = None
    # Days the office could have worked on; year 1 or 9999 cannot even be turned into UTC.
    return day if day is not None and EARLIEST_DAY <= day <= LATEST_DAY else clock.local_today()


@bp.route("/contacts/<int:entry_id>")
@require(Perm.RECEPTION_LOG)
def contact(entry_id: int):
    """One contact as logged, the slips it led to, and the answer box while it is open."""
    entry = _entry(entry_id)
    return render_template("desk/contact.html", entry=entry, form=AnswerForm())


@bp.route("/contacts/<int:entry_id>/answer", methods=["POST"])
@require(Perm.RECEPTION)
def contact_answer(entry_id: int):
    """Close an open contact with the answer given (an enquiry looked up and called back)."""
    entry = _entry(entry_id)
    form = AnswerForm()
    saved, _done = save_form(form, lambda: reception.close(entry, form.answer.data or ""))
    if saved:
        flash(_("Answered and closed."), "success")
        return redirect(url_for("desk.log"))
    return render_template("desk/contact.html", entry=entry, form=form), form_status(form)


# ---- opening a slip -----------------------------------------------------------------------

@dataclass
class QuotedLine:
    """One line of the slip form as the clerk sees it before saving."""

    index: int
    item: PriceItem | None
    quantity: int | None
    price_fen: int | None          # what will be charged per unit (None: not a price yet)
    amount_fen: int | None
    needs_approval: bool
    error: str | None
    priced_by_clerk: bool = False


@bp.route("/contacts/<int:entry_id>/slip", methods=["GET", "POST"])
@require(Perm.RECEPTION)
def slip_new(entry_id: int):
    """Open a numbered slip for a paid-service or free-repair contact, quoted from the list."""
    entry = _slip_entry(entry_id)
    price_list = catalogue.in_force()
    form = SlipForm()
    if request.method == "GET":
        _prefill(form, entry, _followed(request.args.get("follows"), entry))
    saved, slip = save_once(form, Slip, lambda: svc.open_slip(
        _slip_request(form, entry, price_list), current_user, price_list))
    if saved:
        flash(_("Slip %(number)s opened.", number=slip.number), "success")
        return redirect(_slip_url(slip.number))
    return _slip_page(form, entry, price_list, form_status(form))


def _slip_page(form: SlipForm, entry: ReceptionEntry, price_list: PriceList | None,
               status: int = 200):
    return make_response(render_template(
        "desk/slip_new.html", form=form, entry=entry, price_list=price_list,
        **_lines_context(form, price_list)), status)


@bp.route("/contacts/<int:entry_id>/slip/items")
@require(Perm.RECEPTION)
def slip_items(entry_id: int):
    """Price-list items matching what the clerk types (Chinese or English name, category)."""
    _slip_entry(entry_id)
    q = request.args.get("q", "")[:60].strip()
    price_list = catalogue.in_force()
    items = catalogue.search_items(price_list, q, ITEM_HITS) if price_list and q else []
    return render_template("desk/_item_hits.html", q=q, items=items, entry_id=entry_id)


@bp.route("/contacts/<int:entry_id>/slip/lines")
@require(Perm.RECEPTION)
def slip_lines(entry_id: int):
    """Add an item (the one chosen, or the first match on Enter) or remove a line.

    Answers with the cleared item matches and, out of band, the lines with their prices.
    """
    entry = _slip_entry(entry_id)
    price_list = catalogue.in_force()
    form = SlipForm(formdata=request.args)
    form.validate()  # the messages next to each line; nothing is saved here
    q = request.args.get("q", "")[:60].strip()
    add = parse_int(request.args.get("add"))
    remove = parse_int(request.args.get("remove"), maximum=10_000)
    if remove is not None:
        _remove_line(form, remove)
    elif add is None and q and price_list:
        hits = catalogue.search_items(price_list, q, 1)
        if not hits:
            return render_template("desk/_item_hits.html", q=q, items=[], entry_id=entry.id,
                                   error=_("Nothing on the price list matches “%(q)s”.", q=q)), 422
        add = hits[0].id
    elif add is None:
        return "", 204  # Enter in an empty search box: nothing to add
    if add is not None:
        item = _item(price_list, add)
        if item is None:
            return render_template("desk/_item_hits.html", q=q, items=[], entry_id=entry.id,
                                   error=_("That item is not on the price list in force.")), 422
        if len(form.lines.entries) >= svc.MAX_LINES:
            return render_template("desk/_item_hits.html", q=q, items=[], entry_id=entry.id,
                                   error=_("A slip holds at most %(n)s items.",
                                           n=svc.MAX_LINES)), 422
        form.lines.append_entry({"item_id": str(item.id), "quantity": 1,
                                 "price": _default_price(item)})
    context = _lines_context(form, price_list)
    return render_template("desk/_slip_lines_swap.html", form=form, entry=entry, **context,
                           focus_line=len(context["lines"]) - 1 if add is not None else None)


@bp.route("/contacts/<int:entry_id>/slip/quote")
@require(Perm.RECEPTION)
def slip_quote(entry_id: int):
    """The live quote while quantities and prices are typed: each line's amount and marker,
    and the total (out of band, so the inputs being typed in are never replaced)."""
    _slip_entry(entry_id)
    price_list = catalogue.in_force()
    form = SlipForm(formdata=request.args)
    form.validate()
    return render_template("desk/_slip_quote.html", form=form,
                           **_lines_context(form, price_list))


def _remove_line(form: SlipForm, index: int) -> None:
    """Drop one line; the rest are renumbered so the form's names stay consecutive."""
    if 0 <= index < len(form.lines.entries):
        del form.lines.entries[index]
        for i, entry in enumerate(form.lines.entries):
            entry.name = entry.id = f"lines-{i}"
            for sub in entry.form:
                sub.name = sub.id = f"lines-{i}-{sub.short_name}"
        form.lines.last_index = len(form.lines.entries) - 1


def _quote(form: SlipForm, price_list: PriceList | None) -> list[QuotedLine]:
    """Price each line as open_slip will: the same quote_line, the same approval rule."""
    out = []
    free = bool(form.free.data)
    for i, entry in enumerate(form.lines.entries):
        line = entry.form
        item = _item(price_list, parse_int(line.item_id.data))
        qty = line.quantity.data
        if item is None:
            out.append(QuotedLine(i, None, qty, None, None, False,
                                  str(_l("That item is not on the price list in force."))))
            continue
        by_clerk = _priced_by_clerk(item)
        if line.quantity.errors or line.price.errors or qty is None:
            out.append(QuotedLine(i, item, qty, None, None, False, None, by_clerk))
            continue
        try:
            quoted = svc.quote(item, qty, line.price.data if by_clerk else None, free=free)
        except DomainError as err:
            out.append(QuotedLine(i, item, qty, None, None, False, str(err.message), by_clerk))
            continue
        out.append(QuotedLine(i, item, qty, quoted.unit_price_fen, quoted.amount_fen,
                              quoted.needs_approval, None, by_clerk))
    return out


def _lines_context(form: SlipForm, price_list: PriceList | None) -> dict:
    """What the lines table shows: each quoted line, the total, the list-wide messages."""
    lines = _quote(form, price_list)
    total = _total(lines)
    errand = any(line.item is not None and svc.is_errand(line.item) for line in lines)
    purchase = form.purchase.data if not form.purchase.errors else None
    return {"lines": lines, "total_fen": total, "free": bool(form.free.data),
            "lines_errors": [str(e) for e in form.lines.errors
                             if not isinstance(e, (list, dict))],
            # an errand is prepaid before dispatch: the fee and the purchase money
            "errand": errand, "purchase_fen": purchase,
            "prepay_fen": settlement.prepayment_fen(total, purchase or 0)
            if errand and total is not None
            and not form.purchase.errors else None}


def _total(lines: list[QuotedLine]) -> int | None:
    """The quoted total, or None while a line has no price yet."""
    if any(line.amount_fen is None for line in lines):
        return None
    return sum(line.amount_fen for line in lines)


def _priced_by_clerk(item: PriceItem) -> bool:
    """A range or workload item takes the price typed; a fixed or free one, the list's."""
    spec = item.price
    return not spec.free and (spec.by_workload or spec.is_range)


def _default_price(item: PriceItem) -> int | None:
    """The low end of a range (or of a workload guide); nothing for a workload item without."""
    return item.price.min_fen if _priced_by_clerk(item) else None


def _item(price_list: PriceList | None, item_id: int | None) -> PriceItem | None:
    if price_list is None or item_id is None:
        return None
    return next((i for i in price_list.items if i.id == item_id), None)


def _slip_request(form: SlipForm, entry: ReceptionEntry,
                  price_list: PriceList | None) -> svc.SlipRequest:
    """The slip as open_slip takes it, from the contact and the form. Raises DomainError."""
    start, end = form.window(clock.zone())
    lines = []
    for entry_form in (e.form for e in form.lines.entries):
        item = _item(price_list, parse_int(entry_form.item_id.data))
        item_id = parse_int(entry_form.item_id.data) or 0
        price = entry_form.price.data if item is not None and _priced_by_clerk(item) else None
        lines.append(svc.LineRequest(item_id, entry_form.quantity.data, price))
    return svc.SlipRequest(
        unit=entry.unit, resident=entry.resident,
        contact_name=form.contact_name.data or "", contact_phone=form.contact_phone.data or "",
        request=form.request.data or "", notes=form.notes.data or "",
        urgent=bool(form.urgent.data), free=bool(form.free.data),
        window_start=start, window_end=end, lines=lines, reception=entry,
        purchase_fen=form.purchase.data or 0, follows=_followed(form.follows.data, entry))


def _followed(number: str | None, entry: ReceptionEntry) -> Slip | None:
    """The slip a follow-up goes on with (one of this contact's); unknown numbers: 404."""
    if not number:
        return None
    first = svc.by_number(number[:20])
    if first is None or first.reception_id != entry.id:
        abort(404)
    return first


def _prefill(form: SlipForm, entry: ReceptionEntry, follows: Slip | None = None) -> None:
    """What the desk already knows: the job, the urgency, the resident's notes and phone,
    and a time window (urgent: from now, day or night; else the next full hour for two hours,
    tomorrow morning after 17:00). A follow-up starts from the job it goes on with."""
    form.request.data = entry.request
    if follows is not None:
        form.follows.data = follows.number
        form.request.data = _("Follow-up of %(number)s: %(request)s", number=follows.number,
                              request=follows.request or entry.request)
    form.urgent.data = entry.urgent
    form.free.data = entry.kind == ContactKind.FREE_REPAIR
    form.notes.data = entry.resident.notes if entry.resident else ""
    form.contact_name.data = entry.caller_name or (entry.resident.name if entry.resident else "")
    form.contact_phone.data = entry.caller_phone or (entry.resident.phone if entry.resident
                                                     else "")
    start, end = default_window(clock.local(), urgent=entry.urgent)
    form.window_date.data = start.date()
    form.window_start.data = start.time()
    form.window_end.data = end.time()
    form.window_next_day.data = end.date() != start.date()


def _slip_url(number: str) -> str:
    """The new slip's page (built elsewhere); the desk's list until that page exists."""
    if "slips.page" in current_app.view_functions:
        return url_for("slips.page", number=number)
    return url_for("desk.slips", q=number)


# ---- the desk's slip list -----------------------------------------------------------------

@bp.route("/slips")
@require(Perm.RECEPTION_LOG)
def slips():
    """Slips opened on a day (today unless chosen), by state or number; newest first, live."""
    stamp = live.current()
    args = request.args
    q = args.get("q", "")[:20].strip()
    # A number is unique: looking one up searches every day.
    day = None if q else _day_arg(args)
    state = args.get("state") if args.get("state") in {s.value for s in State} else None
    page = parse_int(args.get("page"), maximum=MAX_PAGE) or 1
    found, has_more = svc.search(svc.SlipFilter(day=day, state=state, q=q), page, PER_PAGE)
    filter_args = {"day": day.isoformat() if day else "", "state": state, "q": q or None}
    return page_or_partial("desk/slips.html", "desk/_slips.html", stamp=stamp, slips=found,
                           has_more=has_more, page=page, day=day, state=state, q=q,
                           today=clock.local_today(), states=list(State),
                           filter_args={k: v for k, v in filter_args.items() if v is not None})


# ---- loading ------------------------------------------------------------------------------

def _unit(unit_id: int | None) -> Unit | None:
    return db.session.get(Unit, unit_id) if unit_id else None


def _residents(unit: Unit | None) -> list[Resident]:
    return unit.current_residents if unit is not None else []


def _entry(entry_id: int) -> ReceptionEntry:
    return db.session.get(ReceptionEntry, entry_id) or abort(404)


def _slip_entry(entry_id: int) -> ReceptionEntry:
    """A contact a slip may come from: a paid service or free repair at a known unit."""
    entry = _entry(entry_id)
    if entry.kind not in reception.SLIP_KINDS or entry.unit is None:
        abort(404)
    return entry

