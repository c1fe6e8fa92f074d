"""The one clock: what time it is for the app, and calendar arithmetic in a given zone.

Everything that stamps a record or asks "what day is it" reads `now()`. Normally that is the
system clock; inside `with at(t):` it is t (the demo writing history, a test fixing "now").
The property's own zone is applied by app.services.clock, which is what callers use.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta, tzinfo

_fixed: ContextVar[datetime | None] = ContextVar("clock_fixed", default=None)


def now() -> datetime:
    """The current moment as aware UTC: the fixed one inside `at()`, else the system clock."""
    return _fixed.get() or datetime.now(UTC)


@contextmanager
def at(moment: datetime) -> Iterator[datetime]:
    """Make `now()` answer `moment` in this context (and the contexts copied from it)."""
    if moment.tzinfo is None:
        raise ValueError("the clock takes aware datetimes only")
    token = _fixed.set(moment.astimezone(UTC))
    try:
        yield moment
    finally:
        _fixed.reset(token)


def local_date(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The first moment of a local day and the first moment of the next (a DST day is 23 or
    25 h)."""
    return datetime.combine(day, time(), tz), datetime.combine(day + timedelta(days=1), time(), tz)


def month_of(moment: datetime, tz: tzinfo) -> str:
    """'2026-11': the local month a moment falls in."""
    return moment.astimezone(tz).strftime("%Y-%m")


def add_months(day: date, n: int) -> date:
    """The first day of the month n months after day's month (n may be negative)."""
    m = day.year * 12 + day.month - 1 + n
    return date(m // 12, m % 12 + 1, 1)


def month_bounds(month_first: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The first moment of a local month and of the month after it."""
    return (datetime.combine(month_first.replace(day=1), time(), tz),
            datetime.combine(add_months(month_first, 1), time(), tz))
