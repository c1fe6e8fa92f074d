"""Open screens against the board (issue 9): for each worker class (gevent, the default, and
gthread, the one before it), gunicorn on the demo; the board under wrk with no screen open,
then with N screens each holding a live wait all the time (half a worker's phone, half
office pages); then one change on the board and how long each screen took to hear of it."""
from __future__ import annotations

import json
import statistics
import threading
import time
from typing import Any

from scripts.bench.common import log, pct
from scripts.bench.databases import Workspace
from scripts.bench.scenarios.live import change
from scripts.bench.served import Http, Server, sign_in, wrk

LIVE_WAIT = 25


class Screen(threading.Thread):
    """One open screen: a live wait held all the time; when it first heard of each stamp."""

    def __init__(self, port: int, cookies: dict[str, str], stop: threading.Event):
        super().__init__(daemon=True)
        self.c, self.stop = Http(port, cookies, timeout=LIVE_WAIT + 35), stop
        self.stamp, self.heard, self.errors = -1, 0.0, 0

    def ask(self, since: int) -> int | None:
        try:
            status, _, body = self.c.get(f"/live/?since={since}")
            if status == 200:
                return json.loads(body)["stamp"]
        except (OSError, ValueError):
            pass
        self.errors += 1
        return None

    def run(self) -> None:
        while self.stamp < 0 and not self.stop.is_set():  # a starved server may time out
            self.stamp = self.ask(-1) or -1
        while not self.stop.is_set():
            stamp = self.ask(self.stamp)
            if stamp is None:
                time.sleep(1)
            elif stamp != self.stamp:
                self.heard, self.stamp = time.monotonic(), stamp


def measure(ws: Workspace, worker_class: str) -> dict[str, Any]:
    sizes = ws.sizes
    file = ws.sqlite(f"screens-{worker_class}")
    with Server(file, ws.instance(f"screens-{worker_class}"), worker_class=worker_class,
                live_wait=LIVE_WAIT) as server:
        office, phone = sign_in(server.port, "supervisor"), sign_in(server.port, "worker")
        board = {"Cookie": office.cookie()}
        quiet = wrk(server, "/supervise/", sizes.wrk_seconds, board)
        stop = threading.Event()
        screens = [Screen(server.port, (phone if i % 2 else office).cookies, stop)
                   for i in range(sizes.screens)]
        for s in screens:
            s.start()
        deadline = time.monotonic() + 60
        while min(s.stamp for s in screens) < 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        opened = sum(s.stamp >= 0 for s in screens)
        time.sleep(min(2, sizes.wrk_seconds))
        busy = wrk(server, "/supervise/", sizes.wrk_seconds, board)
        before = max(s.stamp for s in screens)
        sent = time.monotonic()
        change(office)
        deadline = sent + LIVE_WAIT + 5
        while min(s.stamp for s in screens) <= before and time.monotonic() < deadline:
            time.sleep(0.05)
        delays = sorted(max(0.0, s.heard - sent) for s in screens if s.stamp > before)
        stop.set()
    return {"worker_class": worker_class, "screens": sizes.screens, "opened": opened,
            "quiet": quiet, "busy": busy,
            "ratio_p95": busy["p95"] / quiet["p95"] if quiet["p95"] else None,
            "reached": len(delays), "screen_errors": sum(s.errors for s in screens),
            "delay": {"p50": statistics.median(delays) if delays else None,
                      "p95": pct(delays, 95) if delays else None,
                      "max": delays[-1] if delays else None}}


def run(ws: Workspace) -> dict[str, Any]:
    out = []
    for worker_class in ws.sizes.screen_classes:
        log(f"screens: {worker_class}, {ws.sizes.screens} screens ...")
        out.append(measure(ws, worker_class))
    return {"wrk": f"wrk -t2 -c16 -d{ws.sizes.wrk_seconds}s", "classes": out}
