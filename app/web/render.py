"""One template, two uses: the full page for a normal request, the partial for htmx."""
from __future__ import annotations

from flask import make_response, render_template

from app.extensions import htmx


def wants_partial() -> bool:
    """An htmx request that swaps a part of the page (not a boosted link, not back/forward)."""
    # Back/forward after hx-push-url re-asks with HX-Request too: that needs the whole page.
    return bool(htmx and not htmx.boosted and not htmx.history_restore_request)


def page_or_partial(page_template: str, partial_template: str, status: int = 200, **context):
    """Render the partial for an htmx request, else the full page (which includes the partial)."""
    template = partial_template if wants_partial() else page_template
    resp = make_response(render_template(template, **context), status)
    resp.headers["Vary"] = "HX-Request"
    return resp
