"""The window the desk proposes for a new slip (app.domain.appointments)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.domain.appointments import WINDOW, default_window
from app.domain.clock import now


def _on(day, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute)


@pytest.mark.parametrize(("hour", "minute", "starts", "next_day"), [
    (6, 30, 8, False),    # early morning: the office's first hour
    (9, 10, 10, False),   # the hour an hour from now, from its start
    (16, 59, 17, False),  # the last start of the day
    (17, 0, 9, True),     # 18:00 would be too late: tomorrow at nine
    (23, 30, 9, True),    # past midnight: tomorrow at nine
])
def test_the_proposed_window(hour, minute, starts, next_day):
    today = now().date()  # the suite's fixed "now": the rule is the same on any day
    start, end = default_window(_on(today, hour, minute))
    assert start.date() == today + timedelta(days=1 if next_day else 0)
    assert (start.hour, start.minute) == (starts, 0)
    assert end - start == WINDOW == timedelta(hours=2)
