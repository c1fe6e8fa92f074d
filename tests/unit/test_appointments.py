"""The window the desk proposes for a new slip (app.domain.appointments)."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from app.domain.appointments import WINDOW, default_window, window_of
from app.domain.clock import now
from app.domain.errors import DomainError


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


@pytest.mark.parametrize(("hour", "minute"), [(23, 47), (2, 5), (14, 30)])
def test_an_urgent_call_is_booked_from_now_at_any_hour(hour, minute):
    today = now().date()
    start, end = default_window(_on(today, hour, minute).replace(second=31), urgent=True)
    assert (start.date(), start.hour, start.minute, start.second) == (today, hour, minute, 0)
    assert end - start == WINDOW  # 23:47 runs to 01:47 the next day


def test_a_window_may_end_the_next_day_when_that_is_said():
    day = now().date()
    start, end = window_of(day, time(22, 0), time(2, 0), UTC, next_day=True)
    assert start == datetime.combine(day, time(22), UTC)
    assert end == datetime.combine(day + timedelta(days=1), time(2), UTC)
    same = window_of(day, time(9, 0), time(11, 0), UTC)
    assert same[1] - same[0] == timedelta(hours=2) and same[1].date() == day


@pytest.mark.parametrize(("start", "end", "next_day"), [
    (time(22), time(2), False),    # ends before it starts, the next day not said
    (time(10), time(10), False),   # no length at all
    (time(10), time(12), True),    # "the next day" would make it 26 hours long
])
def test_a_window_that_ends_before_it_starts_is_refused_on_its_end(start, end, next_day):
    with pytest.raises(DomainError) as err:
        window_of(now().date(), start, end, UTC, next_day=next_day)
    assert err.value.field == "window_end"
