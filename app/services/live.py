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

from app.extensions import db
from app.models._types import utcnow
from app.models.counters import LiveStamp

STAMP_ID = 1


def changed() -> None:
    """Bump the counter in the caller's transaction: screens refresh once it commits."""
    result = db.session.execute(update(LiveStamp).where(LiveStamp.id == STAMP_ID)
                                .values(counter=LiveStamp.counter + 1, changed_at=utcnow()))
    if result.rowcount == 0:
        db.session.add(LiveStamp(id=STAMP_ID, counter=1))
        db.session.flush()


def current() -> int:
    return db.session.scalar(select(LiveStamp.counter).where(LiveStamp.id == STAMP_ID)) or 0


class Watcher:
    """One per process: polls the counter every `tick` seconds and wakes the waiting requests."""

    def __init__(self, app, tick: float):
        self.app = app
        self.tick = tick
        self.stamp = 0
        self.cond = threading.Condition()
        self.thread: threading.Thread | None = None
        self.started = threading.Lock()

    def _read(self) -> int:
        with self.app.app_context():
            try:
                with db.engine.connect() as conn:
                    return conn.scalar(select(LiveStamp.counter)
                                       .where(LiveStamp.id == STAMP_ID)) or 0
            finally:
                db.session.remove()

    def _run(self) -> None:
        while True:
            try:
                stamp = self._read()
            except Exception:  # the database restarting: keep the screens waiting, try again
                self.app.logger.exception("live watcher could not read the counter")
                time.sleep(1)
                continue
            if stamp != self.stamp:
                with self.cond:
                    self.stamp = stamp
                    self.cond.notify_all()
            time.sleep(self.tick)

    def ensure_running(self) -> None:
        with self.started:
            if self.thread is None or not self.thread.is_alive():
                self.stamp = self._read()
                self.thread = threading.Thread(target=self._run, name="live-watcher",
                                               daemon=True)
                self.thread.start()

    def wait(self, since: int, timeout: float) -> int:
        """The counter once it differs from `since`, or its value after `timeout` seconds."""
        self.ensure_running()
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.stamp == since:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            return self.stamp


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
