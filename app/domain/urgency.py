"""An urgent call nobody has been sent to yet: when each board raises the alarm.

A worker must be at the door within the response time, so one must be sent well before it.
Once that dispatch time has passed, the supervisor on duty for the night sees the alarm at
once; everyone else watching a board (the other supervisors, the manager) a little later, if
it is still unanswered — or at once when nobody is on duty.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta


def alarm_at(opened_at: datetime, *, dispatch_within: timedelta, escalate_after: timedelta,
             on_duty_id: int | None, viewer_id: int) -> datetime:
    """When the viewer's board raises the alarm for an urgent slip opened at `opened_at`."""
    deadline = opened_at + dispatch_within
    if on_duty_id is None or on_duty_id == viewer_id:
        return deadline
    return deadline + escalate_after


def duty_ends(now: datetime, until: time) -> datetime:
    """The next moment after `now` (local time) at the clock time `until`: a duty set at
    20:00 "until 08:00" ends tomorrow morning; set at 02:00, this morning."""
    end = now.replace(hour=until.hour, minute=until.minute, second=0, microsecond=0)
    return end if end > now else end + timedelta(days=1)
