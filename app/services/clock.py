"""The property's clock: now, today and month boundaries in the property's own time zone.

Every service, screen, PDF, the demo and the tests ask this module (never datetime.now or
ZoneInfo themselves), so one `with clock.at(t):` moves the whole app to t.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.domain import clock as _core
from app.domain.clock import add_months, at, now

__all__ = [
    "add_months",
    "at",
    "day_bounds",
    "days_ago",
    "local",
    "local_today",
    "moment",
    "month_bounds",
    "month_of",
    "month_start",
    "now",
    "zone",
]


def zone() -> ZoneInfo:
    """The property's time zone (its settings; Asia/Shanghai before any are saved)."""
    from app.services.settings import property_settings  # settings write audit rows
    return ZoneInfo(property_settings().timezone)


def local(value: datetime | None = None) -> datetime:
    """A moment (default: now) in the property's zone."""
    return (value or now()).astimezone(zone())


def local_today() -> date:
    """The property's date now."""
    return _core.local_date(now(), zone())


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A local day's first moment and the next day's, as aware datetimes."""
    return _core.day_bounds(day, zone())


def month_of(value: datetime | None = None) -> str:
    """'2026-11': the property's month of a moment (default: now)."""
    return _core.month_of(value or now(), zone())


def month_start(value: date | None = None) -> date:
    """The first day of the property's month (of a day; default: today)."""
    return (value or local_today()).replace(day=1)


def month_bounds(month_first: date) -> tuple[datetime, datetime]:
    """The first moment of a local month and of the month after it."""
    return _core.month_bounds(month_first, zone())


def moment(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """A local wall-clock time on a day, as an aware datetime in the property's zone."""
    return datetime.combine(day, time(hour, minute), zone())


def days_ago(n: int) -> date:
    return local_today() - timedelta(days=n)
