"""When a job is booked: the window the desk proposes when it opens a slip."""
from __future__ import annotations

from datetime import datetime, timedelta

WINDOW = timedelta(hours=2)       # a booked visit: two hours
FIRST_HOUR, LAST_START = 8, 18    # visits booked from 08:00; none starts at 18:00 or later
NEXT_MORNING = 9                  # too late today: tomorrow at 09:00


def default_window(now: datetime) -> tuple[datetime, datetime]:
    """The window proposed at `now` (the property's local time): from the start of the hour an
    hour from now, within the office's hours, else tomorrow morning; two hours long."""
    start = (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    if start.hour >= LAST_START or start.date() != now.date():
        start = (now + timedelta(days=1)).replace(hour=NEXT_MORNING, minute=0, second=0,
                                                  microsecond=0)
    elif start.hour < FIRST_HOUR:
        start = start.replace(hour=FIRST_HOUR)
    return start, start + WINDOW
