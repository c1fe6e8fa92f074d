"""The price list: reading it, drafting changes, approval, and the lobby notice."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.domain.errors import DomainError
from app.domain.permissions import Perm
from app.extensions import db, htmx
from app.forms.catalogue import ApproveForm, CategoryForm, ItemForm
from app.models import Category, PriceItem, PriceList
from app.services import catalogue as cat
from app.services.catalogue import ItemInput
from app.services.notice import notice_context
from app.services.pdf import render_document_html, render_pdf
from app.web.args import int_arg
from app.web.forms import form_status, refuse, save_form, save_once
from app.web.guards import require
from app.web.render import page_or_partial

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")


def _version_or_404(number: int) -> PriceList:
    return cat.version(number) or abort(404)


@bp.route("/")
@require(Perm.CATALOGUE_VIEW)
def index():
    """The price list in force, grouped by category, searchable."""
    price_list = cat.in_force()
    q = request.args.get("q", "")[:60]
    items = cat.search_items(price_list, q, limit=500) if price_list and q else None
    return page_or_partial("catalogue/index.html", "catalogue/_list.html", price_list=price_list,
                           groups=cat.grouped(price_list) if price_list else [], q=q, items=items,
                           draft=cat.current_draft(), upcoming=_upcoming(price_list))


def _upcoming(in_force: PriceList | None) -> PriceList | None:
    latest = cat.latest_approved()
    return latest if latest is not None and latest is not in_force else None


QUICK_LIMIT = 15


@bp.route("/quick")
@require(Perm.CATALOGUE_VIEW)
def quick():
    """The desk's "quote a price" box: at most QUICK_LIMIT matches, never the whole list."""
    q = request.args.get("q", "")[:60].strip()
    if not htmx or htmx.boosted:  # typed into the box only; a plain visit gets the whole list
        return redirect(url_for("catalogue.index", q=q or None))
    price_list = cat.in_force()
    found = cat.search_items(price_list, q, limit=len(price_list.items)) \
        if price_list and q else []
    return render_template("catalogue/_quick_results.html", price_list=price_list, q=q,
                           items=found[:QUICK_LIMIT], more=max(len(found) - QUICK_LIMIT, 0)), \
        {"Vary": "HX-Request"}


@bp.route("/versions")
@require(Perm.CATALOGUE_VIEW)
def versions():
    """Every approved version, newest first, with its approver and item count (two queries)."""
    found, counts = cat.approved_versions()
    return render_template("catalogue/versions.html", versions=found, item_counts=counts,
                           in_force=cat.in_force())


@bp.route("/versions/<int:number>")
@require(Perm.CATALOGUE_VIEW)
def version(number: int):
    """One approved version as it was frozen."""
    price_list = _version_or_404(number)
    return render_template("catalogue/version.html", price_list=price_list,
                           groups=cat.grouped(price_list))


def _notice_list() -> PriceList:
    number = int_arg("version")
    price_list = _version_or_404(number) if number else cat.in_force()
    if price_list is None:
        abort(404)
    return price_list


@bp.route("/notice.pdf")
@require(Perm.CATALOGUE_VIEW)
def notice_pdf():
    """The approved list as an A4 notice for the lobby board (公告), in the user's language."""
    price_list = _notice_list()
    pdf = render_pdf("pdf/notice.html", notice_context(price_list, str(get_locale())))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="price-list-v{price_list.number}.pdf"'})


@bp.route("/notice.html")
@require(Perm.CATALOGUE_VIEW)
def notice_preview():
    """The same notice as an HTML page, to check before printing."""
    price_list = _notice_list()
    return render_document_html("pdf/notice.html",
                                notice_context(price_list, str(get_locale())))


# ---- drafting -----------------------------------------------------------------------------

def _draft_or_redirect():
    draft = cat.current_draft()
    if draft is None:
        flash(_("There is no open draft. Start one first."), "info")
    return draft


def _draft_page(approve_form: ApproveForm, status: int = 200):
    draft = cat.current_draft()
    return render_template("catalogue/draft.html", draft=draft,
                           changes=cat.diff(draft, draft.based_on) if draft else [],
                           groups=cat.grouped(draft) if draft else [],
                           approve_form=approve_form, latest=cat.latest_approved()), status


@bp.route("/draft")
@require(Perm.CATALOGUE_DRAFT)
def draft():
    """The open draft with what it changes against the version it came from."""
    return _draft_page(ApproveForm())


@bp.route("/draft", methods=["POST"])
@require(Perm.CATALOGUE_DRAFT)
def draft_start():
    """Open a draft copied from the newest approved version."""
    try:
        cat.start_draft(current_user)
    except DomainError as err:
        refuse(err)
    else:
        flash(_("Draft opened. Changes take effect only after the manager approves them."),
              "success")
    return redirect(url_for("catalogue.draft"))


def _item_form(obj=None) -> ItemForm:
    form = ItemForm(obj=obj, categories=cat.categories())
    if obj is not None and request.method == "GET":
        form.price_min.data, form.price_max.data = obj.price_min_fen, obj.price_max_fen
    return form


def _item_input(form: ItemForm) -> ItemInput:
    return ItemInput(category_id=form.category_id.data, name_zh=form.name_zh.data or "",
                     name_en=form.name_en.data or "", unit=form.unit.data,
                     price_min_fen=form.price_min.data, price_max_fen=form.price_max.data,
                     by_workload=form.by_workload.data, free=form.free.data,
                     department=form.department.data, note=form.note.data or "")


@bp.route("/draft/items/new", methods=["GET", "POST"])
@require(Perm.CATALOGUE_DRAFT)
def item_new():
    """Add an item to the draft."""
    draft = _draft_or_redirect()
    if draft is None:
        return redirect(url_for("catalogue.draft"))
    form = _item_form()
    if request.method == "GET" and int_arg("category"):
        form.category_id.data = int_arg("category")
    saved, _item = save_once(form, PriceItem, lambda: cat.add_item(draft, _item_input(form)))
    if saved:
        flash(_("Item added to the draft."), "success")
        return redirect(url_for("catalogue.draft"))
    return render_template("catalogue/item_form.html", form=form, item=None), form_status(form)


def _draft_item_or_404(item_id: int) -> PriceItem:
    item = db.session.get(PriceItem, item_id)
    if item is None or not item.price_list.is_draft:
        abort(404)
    return item


@bp.route("/draft/items/<int:item_id>", methods=["GET", "POST"])
@require(Perm.CATALOGUE_DRAFT)
def item_edit(item_id: int):
    """Change an item in the draft."""
    item = _draft_item_or_404(item_id)
    form = _item_form(obj=item if request.method == "GET" else None)
    saved, _item = save_form(form, lambda: cat.update_item(item, _item_input(form)))
    if saved:
        flash(_("Item changed in the draft."), "success")
        return redirect(url_for("catalogue.draft"))
    return render_template("catalogue/item_form.html", form=form, item=item), form_status(form)


@bp.route("/draft/items/<int:item_id>/remove", methods=["POST"])
@require(Perm.CATALOGUE_DRAFT)
def item_remove(item_id: int):
    """Take an item out of the draft."""
    cat.remove_item(_draft_item_or_404(item_id))
    flash(_("Item removed from the draft."), "success")
    return redirect(url_for("catalogue.draft"))


@bp.route("/draft/discard", methods=["POST"])
@require(Perm.CATALOGUE_DRAFT)
def draft_discard():
    """Throw the open draft away."""
    draft = _draft_or_redirect()
    if draft is not None:
        cat.discard_draft(draft)
        flash(_("Draft discarded."), "success")
    return redirect(url_for("catalogue.index"))


@bp.route("/draft/approve", methods=["POST"])
@require(Perm.CATALOGUE_APPROVE)
def draft_approve():
    """The manager freezes the draft as the next numbered version."""
    draft = _draft_or_redirect()
    if draft is None:
        return redirect(url_for("catalogue.draft"))
    form = ApproveForm()
    saved, approved = save_form(form, lambda: cat.approve(
        draft, form.effective_date.data, current_user, form.note.data or ""))
    if saved:
        flash(_("Version %(num)d approved, in force from %(day)s.", num=approved.number,
                day=approved.effective_date.isoformat()), "success")
        return redirect(url_for("catalogue.version", number=approved.number))
    return _draft_page(form, 422)


@bp.route("/categories/new", methods=["GET", "POST"])
@require(Perm.CATALOGUE_DRAFT)
def category_new():
    """Add a category to the price list."""
    form = CategoryForm()
    saved, _category = save_once(form, Category, lambda: cat.add_category(
        form.code.data, form.name_zh.data, form.name_en.data or ""))
    if saved:
        flash(_("Category added."), "success")
        return redirect(url_for("catalogue.draft"))
    return render_template("catalogue/category_form.html", form=form), form_status(form)
