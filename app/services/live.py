"""Live screens: a change counter every process can see, and a cheap way to wait on it.

A change that open screens must show calls `changed()` inside its own transaction. A screen
asks `/live?since=N`; the request waits (up to LIVE_WAIT_SECONDS) until the counter passes N.
Each process runs one watcher thread that reads the counter a few times a second and wakes
every waiting request at once, so a hundred idle screens cost one tiny query per tick, and
each idle screen one request per wait period.
"""
from __future__ import annotations

import threading
import time

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models._types import utcnow
from app.models.counters import LiveStamp

STAMP_ID = 1


def changed() -> None:
    """Bump the counter in the caller's transaction: screens refresh once it commits."""
    bump = (update(LiveStamp).where(LiveStamp.id == STAMP_ID)
            .values(counter=LiveStamp.counter + 1, changed_at=utcnow())
            .execution_options(synchronize_session=False))
    if db.session.execute(bump).rowcount:
        return
    try:
        with db.session.begin_nested():  # the very first change: create the row
            db.session.add(LiveStamp(id=STAMP_ID, counter=1))
    except IntegrityError:  # another request created it at the same moment
        db.session.execute(bump)


def current() -> int:
    return db.session.scalar(select(LiveStamp.counter).where(LiveStamp.id == STAMP_ID)) or 0


def current_with_epoch() -> tuple[int, object]:
    """The counter and when the row was last bumped: together unique even across a wiped and
    reseeded database, where the counter alone starts again from 1."""
    row = db.session.execute(select(LiveStamp.counter, LiveStamp.changed_at)
                             .where(LiveStamp.id == STAMP_ID)).first()
    return (row[0], row[1]) if row else (0, None)


class Watcher:
    """One per process: while screens wait, reads the counter every `tick` seconds and wakes
    them all at once; with no screen waiting it reads nothing."""

    def __init__(self, app, tick: float):
        self.app = app
        self.tick = tick
        self.stamp = 0
        self.waiting = 0
        self.cond = threading.Condition()
        self.thread: threading.Thread | None = None
        self.started = threading.Lock()
        self.stopped = threading.Event()

    def _read(self) -> int:
        with self.app.app_context():
            try:
                with db.engine.connect() as conn:
                    return conn.scalar(select(LiveStamp.counter)
                                       .where(LiveStamp.id == STAMP_ID)) or 0
            finally:
                db.session.remove()

    def _run(self) -> None:
        while not self.stopped.is_set():
            with self.cond:
                while self.waiting == 0 and not self.stopped.is_set():
                    self.cond.wait(5)
            if self.stopped.is_set():
                return
            try:
                stamp = self._read()
            except Exception:  # the database restarting: keep the screens waiting, try again
                if self.stopped.is_set():
                    return
                self.app.logger.exception("live watcher could not read the counter")
                self.stopped.wait(1)
                continue
            if stamp != self.stamp:
                with self.cond:
                    self.stamp = stamp
                    self.cond.notify_all()
            self.stopped.wait(self.tick)

    def ensure_running(self) -> None:
        with self.started:
            if self.thread is None or not self.thread.is_alive():
                self.stopped.clear()
                self.stamp = self._read()
                self.thread = threading.Thread(target=self._run, name="live-watcher",
                                               daemon=True)
                self.thread.start()

    def stop(self) -> None:
        """End the thread (tests, before their database goes away); waiting screens answer."""
        self.stopped.set()
        with self.cond:
            self.cond.notify_all()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def wait(self, since: int, timeout: float) -> int:
        """The counter once it differs from `since`, or its value after `timeout` seconds."""
        self.ensure_running()
        deadline = time.monotonic() + timeout
        with self.cond:
            if self.waiting == 0:
                # The thread slept while no screen waited: what it knows may be old.
                try:
                    self.stamp = self._read()
                except Exception:  # the thread reads again on its next tick
                    self.app.logger.exception("live watcher could not read the counter")
            self.waiting += 1
            self.cond.notify_all()
            try:
                while self.stamp == since and not self.stopped.is_set():
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self.cond.wait(left)
                return self.stamp
            finally:
                self.waiting -= 1


def stop_watcher(app) -> None:
    watcher = app.extensions.get("live_watcher")
    if watcher is not None:
        watcher.stop()


def wait_for_change(app, since: int) -> int:
    """Block up to LIVE_WAIT_SECONDS for a change past `since`; 0 seconds answers at once."""
    timeout = app.config["LIVE_WAIT_SECONDS"]
    if timeout <= 0:
        return current()
    watcher = app.extensions.get("live_watcher")
    if watcher is None:
        watcher = app.extensions.setdefault(
            "live_watcher", Watcher(app, app.config["LIVE_TICK_SECONDS"]))
    return watcher.wait(since, timeout)
