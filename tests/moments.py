"""Moments for tests, always relative to the property's today (never a calendar literal).

The suite must pass on any date (`make test-clock` moves the system clock to month ends, new
year's eve, 29 February and two years ahead), so a test that needs a month boundary or a day
in the past takes one from here, counted from the app's clock.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from app.services import clock


def yyyymm(day: date | datetime) -> str:
    """'202611' for a day (or for an aware moment, in the property's zone)."""
    if isinstance(day, datetime):
        return clock.month_of(day).replace("-", "")
    return f"{day.year:04d}{day.month:02d}"


def month_ahead(n: int = 1) -> date:
    """The first day of the month n months after this one (negative: before)."""
    return clock.add_months(clock.local_today(), n)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A wall-clock time of the property on a day, as an aware datetime."""
    return clock.moment(day, hour, minute)


def last_minute_of_month(first: date) -> datetime:
    """23:59 property time on the last day of the month that starts on `first`."""
    return clock.month_bounds(first)[1] - timedelta(minutes=1)


def next_month_starts(first: date) -> datetime:
    """00:00 property time on the first day of the month after `first`'s."""
    return clock.month_bounds(first)[1]


def window(day: date, start_hour: int = 10, hours: int = 2) -> tuple[datetime, datetime]:
    """A booked window inside one local day."""
    begin = at(day, start_hour)
    return begin, begin + timedelta(hours=hours)


def tomorrow() -> date:
    return clock.local_today() + timedelta(days=1)


def past_list_date() -> date:
    """A price list's effective date that lies well before anything a test records."""
    return clock.add_months(clock.local_today(), -24)
