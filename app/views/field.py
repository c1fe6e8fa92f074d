"""The worker's phone screens."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from app.domain.permissions import Perm
from app.services import catalogue
from app.web.guards import require
from app.web.render import page_or_partial

bp = Blueprint("field", __name__, url_prefix="/field")


@bp.route("/")
@require(Perm.FIELD)
def home():
    """Today's jobs, and the approved prices to quote at the door."""
    return render_template("field/home.html", price_list=catalogue.in_force())


@bp.route("/prices")
@require(Perm.FIELD)
def prices():
    """The price list, searchable with one thumb."""
    price_list = catalogue.in_force()
    q = request.args.get("q", "")
    items = catalogue.search_items(price_list, q, limit=200) if price_list else []
    return page_or_partial("field/prices.html", "field/_price_rows.html",
                           price_list=price_list, items=items, q=q)
