"""How the demo writes history: real service calls, each by its person at its own time.

`Replay.step(t, who, fn, ...)` runs one service call as staff member `who` with the app's one
clock fixed at t (app.services.clock.at), so every stamp the call writes (slip events, audit
rows, receipts and their numbers, account months) reads t. Steps planned for later (the money
after a job, month ends, evening counts) wait on an `Agenda` and are taken in time order with
the rest, so numbers follow times.
"""
from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Generator
from datetime import date, datetime, time, timedelta

from app.extensions import db
from app.models import User
from app.services import clock
from app.services.audit import acting_as

# A story: a generator that yields the time of its next step and is resumed at that time.
Story = Generator[datetime, datetime, None]


class Agenda:
    """Later steps, taken in time order however the jobs that planned them were replayed."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, Story]] = []
        self._seq = 0
        self.running = False

    def start(self, story: Story) -> None:
        try:
            self._push(next(story), story)
        except StopIteration:
            pass

    def _push(self, when: datetime, story: Story) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, story))

    def until(self, t: datetime | None) -> None:
        """Take every step due by t (all of them when t is None)."""
        if self.running:
            return  # a step of a story is itself asking: it is already in time order
        self.running = True
        try:
            while self._heap and (t is None or self._heap[0][0] <= t):
                when, _, story = heapq.heappop(self._heap)
                try:
                    self._push(story.send(when), story)
                except StopIteration:
                    pass
        finally:
            self.running = False


class Replay:
    """The demo's people, its random source, the moment it is seeded, and the way a step runs."""

    def __init__(self, rng: random.Random, staff: dict[str, User], now: datetime):
        self.rng, self.staff, self.now = rng, staff, now
        self.tz = clock.zone()
        self.agenda = Agenda()

    def local(self, day: date, minutes: int) -> datetime:
        """A moment of a local day, `minutes` after midnight, as an aware datetime."""
        return datetime.combine(day, time(), self.tz) + timedelta(minutes=minutes)

    def later(self, t: datetime, lo: int, hi: int) -> datetime:
        """Some minutes after t, never in the future."""
        return min(t + timedelta(minutes=self.rng.randint(lo, hi)),
                   self.now - timedelta(seconds=30))

    def step(self, t: datetime, who: str, fn: Callable, *args, **kw):
        """Take one real service step at time t as staff member `who`."""
        with acting_as(self.staff[who]), clock.at(t):
            result = fn(*args, **kw)
            db.session.flush()
        return result


def month_starts(first: date, today: date) -> list[date]:
    """The first days of the months that began after `first`, up to today."""
    out, d = [], first.replace(day=1)
    while True:
        d = clock.add_months(d, 1)
        if d > today:
            return out
        out.append(d)


def months_between(a: date, b: date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def first_of_month_back(today: date, n: int) -> date:
    """The first day of the month n months before today's."""
    return clock.add_months(today, -n)
