"""Live screens: an open page waits here for the next change, then refreshes its parts."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from app.domain.permissions import Perm
from app.services import live
from app.web.args import int_arg
from app.web.guards import require

bp = Blueprint("live", __name__, url_prefix="/live")


@bp.route("/")
@require(Perm.LIVE)
def wait():
    """Answer once the change counter differs from `since`, or after LIVE_WAIT_SECONDS."""
    since = int_arg("since")
    since = -1 if since is None else since
    app = current_app._get_current_object()
    # Nothing of the session is needed while waiting: give the connection back first.
    from app.extensions import db
    db.session.remove()
    stamp = live.wait_for_change(app, since)
    resp = jsonify(stamp=stamp)
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
