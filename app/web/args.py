"""Numbers from URLs, bounded: an id the database cannot even hold is simply not found."""
from __future__ import annotations

from flask import request
from werkzeug.routing import IntegerConverter

MAX_ID = 2**63 - 1  # the largest BIGINT; SQLite and PostgreSQL refuse anything above


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` in every route: larger numbers do not match the route (404), never a 500."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def parse_int(text: str | None, maximum: int = MAX_ID) -> int | None:
    """'42' -> 42; anything but plain ASCII digits up to `maximum` -> None."""
    if not text or not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if value <= maximum else None


def int_arg(name: str, maximum: int = MAX_ID) -> int | None:
    """A whole number from the query string, or None when absent or malformed."""
    return parse_int(request.args.get(name), maximum)
