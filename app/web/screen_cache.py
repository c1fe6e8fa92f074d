"""Live screens drawn once per change: a per-process cache keyed by the live stamp.

A board left open by several supervisors, or reloaded, is drawn again only when something
changed (the stamp moved), the minute turned (its clocks), or the person or language differ.
Entries are never stale: any change to what a screen shows bumps the stamp first.

Nothing of one session is kept: the CSRF token a screen was drawn with is cut out of the
kept copy and the asking session's own token is put in when it is served, so one person
signed in on two browsers gets a board whose forms work in each.
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict

from flask import Response, g, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from app.extensions import htmx
from app.services import clock
from app.web.guards import active_role

MAX_ENTRIES = 128
# A screen's clocks count from the server time it carries (data-now): a kept screen is served
# with the time of serving, so its clocks stay exact.
_NOW = re.compile(rb'data-now="[^"]*"')
_TOKEN = b"\x00csrf\x00"  # where the serving session's token goes (never in a real page)
_entries: OrderedDict[tuple, tuple[bytes, dict]] = OrderedDict()
_lock = threading.Lock()


def cacheable() -> bool:
    """Only a plain GET with no message waiting to be shown once (a flash) may be reused."""
    return request.method == "GET" and "_flashes" not in session


def key_for(screen: str, stamp: tuple) -> tuple:
    """What the drawn screen depends on besides the data behind the stamp."""
    partial = bool(htmx) and not htmx.boosted and not htmx.history_restore_request
    minute = clock.now().replace(second=0, microsecond=0)
    return (screen, stamp, minute, partial, request.full_path, current_user.id,
            current_user.session_version, tuple(current_user.roles), active_role(),
            str(get_locale()))


def get(key: tuple) -> Response | None:
    with _lock:
        hit = _entries.get(key)
        if hit is None:
            return None
        _entries.move_to_end(key)
    body, headers = hit
    now = clock.now().isoformat().encode()
    body = _NOW.sub(lambda _m: b'data-now="' + now + b'"', body, count=1)
    body = body.replace(_TOKEN, generate_csrf().encode())
    return Response(body, status=200, headers=headers)


def put(key: tuple, response: Response) -> Response:
    """Keep a 200 answer for the next identical request; other answers pass through."""
    if response.status_code == 200 and not response.direct_passthrough:
        headers = {k: v for k, v in response.headers.items()
                   if k.lower() not in ("set-cookie", "content-length")}
        body = response.get_data()
        token = g.get("csrf_token")  # Flask-WTF's token of this request, if the page has one
        if token:
            body = body.replace(token.encode(), _TOKEN)
        with _lock:
            _entries[key] = (body, headers)
            while len(_entries) > MAX_ENTRIES:
                _entries.popitem(last=False)
    return response


def clear() -> None:
    with _lock:
        _entries.clear()
