"""One template, two uses: the full page for a normal request, the partial for htmx."""
from __future__ import annotations

from flask import make_response, render_template

from app.extensions import htmx


def page_or_partial(page_template: str, partial_template: str, status: int = 200, **context):
    """Render the partial for an htmx request, else the full page (which includes the partial)."""
    # Back/forward after hx-push-url re-asks with HX-Request too: that needs the whole page.
    partial = htmx and not htmx.boosted and not htmx.history_restore_request
    template = partial_template if partial else page_template
    resp = make_response(render_template(template, **context), status)
    resp.headers["Vary"] = "HX-Request"
    return resp
