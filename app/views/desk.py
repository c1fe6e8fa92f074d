"""The clerk's front desk."""
from __future__ import annotations

from flask import Blueprint, render_template

from app.domain.permissions import Perm
from app.services import catalogue
from app.web.guards import require

bp = Blueprint("desk", __name__, url_prefix="/desk")


@bp.route("/")
@require(Perm.DESK)
def home():
    """Find the caller's unit and quote from the price list in force."""
    return render_template("desk/home.html", price_list=catalogue.in_force())
