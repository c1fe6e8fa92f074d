"""The supervisor's workspace."""
from __future__ import annotations

from flask import Blueprint, render_template

from app.domain.permissions import Perm
from app.domain.roles import Role
from app.services.overview import price_list_status, staff_with_role
from app.web.guards import require

bp = Blueprint("supervise", __name__, url_prefix="/supervise")


@bp.route("/")
@require(Perm.SUPERVISE)
def home():
    """The team and the price list's state (the dispatch board joins here)."""
    return render_template("supervise/home.html", workers=staff_with_role(Role.WORKER),
                           **price_list_status())
