"""The cashier's workspace."""
from __future__ import annotations

from flask import Blueprint, render_template

from app.domain.permissions import Perm
from app.services import catalogue
from app.web.guards import require

bp = Blueprint("cashier", __name__, url_prefix="/cashier")


@bp.route("/")
@require(Perm.CASHIER)
def home():
    """Find a unit's account; the payment queue joins here."""
    return render_template("cashier/home.html", price_list=catalogue.in_force())
