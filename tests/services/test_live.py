"""The live change counter and the per-process watcher that wakes waiting screens."""
from __future__ import annotations

import threading
import time

import pytest

from app.extensions import db as _db
from app.services import live

# The watcher reads the counter from its own thread and connection: every test here commits.
pytestmark = pytest.mark.usefixtures("real_db")

@pytest.fixture
def watchers(app, db):
    """watchers(tick): a fresh Watcher on the test database; its thread ends with the test."""
    made: list[live.Watcher] = []

    def make(tick: float = 0.05) -> live.Watcher:
        watcher = live.Watcher(app, tick)
        made.append(watcher)
        return watcher

    yield make
    for watcher in made:
        park(watcher)


_PARKED = threading.Event()  # never set


def park(watcher: live.Watcher) -> None:
    """The watcher has no off switch (it lives as long as its process): after a test its
    thread stops touching the database and sleeps until the test run ends."""
    watcher._read = lambda: _PARKED.wait() or 0


def bump() -> int:
    """A change, committed in a request of its own (as another screen's action would be)."""
    live.changed()
    _db.session.commit()
    return live.current()


def test_the_counter_grows_with_each_committed_change(db):
    start = live.current()
    assert bump() == start + 1
    assert bump() == start + 2


def test_a_rolled_back_change_does_not_count(db):
    start = live.current()
    live.changed()
    db.session.rollback()
    assert live.current() == start


def test_a_wait_returns_as_soon_as_something_changes(app, db, watchers):
    watcher = watchers(0.05)
    since = bump()
    changer = threading.Thread(target=lambda: (time.sleep(0.3), _changed_in(app)))
    changer.start()
    started = time.monotonic()
    stamp = watcher.wait(since, timeout=5)
    took = time.monotonic() - started
    changer.join()
    assert stamp == since + 1
    assert 0.25 <= took < 1.0, took


def _changed_in(app) -> None:
    with app.app_context():
        live.changed()
        _db.session.commit()
        _db.session.remove()


def test_a_wait_with_nothing_happening_times_out_with_the_same_stamp(db, watchers):
    watcher = watchers(0.05)
    since = bump()
    started = time.monotonic()
    assert watcher.wait(since, timeout=0.4) == since
    assert 0.35 <= time.monotonic() - started < 1.0


def test_a_screen_behind_the_counter_gets_its_answer_at_once(db, watchers):
    watcher = watchers(0.05)
    now = bump()
    started = time.monotonic()
    assert watcher.wait(-1, timeout=5) == now       # a page's first wait
    assert watcher.wait(now - 1, timeout=5) == now  # a change it has not seen yet
    assert time.monotonic() - started < 0.5


def test_many_waiting_screens_wake_together_on_one_change(app, db, watchers):
    watcher = watchers(0.05)
    since = bump()
    answers: list[tuple[int, float]] = []
    lock = threading.Lock()

    def screen():
        stamp = watcher.wait(since, timeout=5)
        with lock:
            answers.append((stamp, time.monotonic()))
    screens = [threading.Thread(target=screen) for _ in range(20)]
    for t in screens:
        t.start()
    time.sleep(0.2)
    _changed_in(app)
    changed_at = time.monotonic()
    for t in screens:
        t.join(timeout=5)
    assert len(answers) == 20 and {stamp for stamp, _ in answers} == {since + 1}
    assert max(at for _, at in answers) - changed_at < 0.5


def test_the_watcher_thread_starts_once_however_many_wait_at_once(db, watchers):
    watcher = watchers(0.05)
    bump()
    before = {t.ident for t in threading.enumerate() if t.name == "live-watcher"}
    start = threading.Barrier(10)

    def first_wait():
        start.wait()
        watcher.ensure_running()
        watcher.wait(-1, timeout=1)
    callers = [threading.Thread(target=first_wait) for _ in range(10)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    started = {t.ident for t in threading.enumerate() if t.name == "live-watcher"} - before
    assert started == {watcher.thread.ident}
    same = watcher.thread
    watcher.ensure_running()
    assert watcher.thread is same


def test_one_watcher_per_app(app, db, monkeypatch):
    """wait_for_change makes the process's watcher once and keeps it."""
    monkeypatch.setitem(app.config, "LIVE_WAIT_SECONDS", 0.1)
    monkeypatch.setitem(app.config, "LIVE_TICK_SECONDS", 0.05)
    monkeypatch.delitem(app.extensions, "live_watcher", raising=False)
    try:
        stamp = bump()
        assert live.wait_for_change(app, stamp) == stamp
        first = app.extensions["live_watcher"]
        assert live.wait_for_change(app, -1) == stamp
        assert app.extensions["live_watcher"] is first
    finally:
        watcher = app.extensions.pop("live_watcher", None)
        if watcher is not None:
            park(watcher)


def test_with_no_wait_configured_the_answer_is_immediate(app, db):
    assert app.config["LIVE_WAIT_SECONDS"] == 0  # the test configuration
    stamp = bump()
    started = time.monotonic()
    assert live.wait_for_change(app, stamp) == stamp
    assert time.monotonic() - started < 0.2


def test_the_watcher_keeps_going_when_the_database_hiccups(app, db, watchers):
    watcher = watchers(0.05)
    since = bump()
    watcher.ensure_running()
    real = live.Watcher._read
    failures = {"left": 1}

    def flaky(self=watcher):
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("database restarting")
        return real(self)
    watcher._read = flaky
    _changed_in(app)
    # The first read fails; the watcher waits a second, reads again, and the change arrives.
    assert watcher.wait(since, timeout=4) == since + 1
    assert failures["left"] == 0


def test_with_no_screen_waiting_the_watcher_reads_nothing(app, db, watchers):
    watcher = watchers(0.02)
    since = bump()
    assert watcher.wait(since, timeout=0.1) == since  # starts the thread
    time.sleep(0.1)  # let a tick that began while we waited finish
    reads = {"n": 0}
    real = live.Watcher._read

    def counting(self=watcher):
        reads["n"] += 1
        return real(self)
    watcher._read = counting
    time.sleep(0.3)  # 15 ticks' worth of time with nobody waiting
    assert reads["n"] == 0
    _changed_in(app)
    assert watcher.wait(since, timeout=2) == since + 1  # a new waiter wakes it up
    assert reads["n"] >= 1
