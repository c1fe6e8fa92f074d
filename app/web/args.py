"""Numbers from URLs, bounded: an id the database cannot even hold is simply not found."""
from __future__ import annotations

from datetime import date

from flask import request
from werkzeug.routing import IntegerConverter

from app.domain.numbers import MAX_ID, parse_int


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` in every route: larger numbers do not match the route (404), never a 500."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2999, 12, 31)


def parse_day(text: str | None) -> date | None:
    """'2026-11-23' -> that day, for a query string; malformed or absurd (outside 2000-2999,
    where day arithmetic would overflow) -> None."""
    try:
        day = date.fromisoformat(text) if text and len(text) <= 10 else None
    except ValueError:
        return None
    return day if day is not None and EARLIEST_DAY <= day <= LATEST_DAY else None


def int_arg(name: str, maximum: int = MAX_ID) -> int | None:
    """A whole number from the query string, or None when absent or malformed."""
    return parse_int(request.args.get(name), maximum)
