"""When a job is booked: the window the desk proposes when it opens a slip, and a window
typed as a day and two clock times (which may run past midnight, for a call in the night)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

from flask_babel import lazy_gettext as _l

from app.domain.errors import DomainError

WINDOW = timedelta(hours=2)       # a booked visit: two hours
FIRST_HOUR, LAST_START = 8, 18    # visits booked from 08:00; none starts at 18:00 or later
NEXT_MORNING = 9                  # too late today: tomorrow at 09:00


def default_window(now: datetime, *, urgent: bool = False) -> tuple[datetime, datetime]:
    """The window proposed at `now` (the property's local time). Urgent: from now (to the
    minute), two hours, at any hour of the night. Otherwise from the start of the hour an hour
    from now, within the office's hours, else tomorrow morning; two hours long."""
    if urgent:
        start = now.replace(second=0, microsecond=0)
        return start, start + WINDOW
    start = (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    if start.hour >= LAST_START or start.date() != now.date():
        start = (now + timedelta(days=1)).replace(hour=NEXT_MORNING, minute=0, second=0,
                                                  microsecond=0)
    elif start.hour < FIRST_HOUR:
        start = start.replace(hour=FIRST_HOUR)
    return start, start + WINDOW


def window_of(day: date, start: time, end: time, zone: tzinfo, *,
              next_day: bool = False) -> tuple[datetime, datetime]:
    """The window `day start` to `end` as aware datetimes in the property's zone; with
    `next_day` the end is on the following day (22:00 to 02:00). Raises DomainError on the
    end: before the start without `next_day`, or after it with `next_day` (over a day)."""
    if not next_day and end <= start:
        raise DomainError(_l("The time window must end after it starts (past midnight: tick "
                             "“ends the next day”)."), "window_end")
    if next_day and end > start:
        raise DomainError(_l("A window that ends the next day ends earlier on the clock than "
                             "it starts (22:00 to 02:00)."), "window_end")
    return (datetime.combine(day, start, zone),
            datetime.combine(day + timedelta(days=1) if next_day else day, end, zone))
