"""Idle cost of an open board (issue 3, item 7): the server's CPU with no screen open; then a
real Chromium (Playwright, /usr/bin/chromium) keeps the board open with nothing happening,
beside more open live waits: its requests and bytes a minute, and the server's CPU."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from scripts.bench.common import ROOT
from scripts.bench.databases import Workspace
from scripts.bench.scenarios.live import Waiter, current_stamp
from scripts.bench.served import history_server, sign_in

CHROMIUM = "/usr/bin/chromium"


def browser(url: str, cookies: dict[str, str], seconds: int, out: Path) -> None:
    """In a child process: the board open in Chromium, every finished request recorded."""
    from playwright.sync_api import sync_playwright
    records: list[dict[str, Any]] = []
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        ctx = chromium.new_context(viewport={"width": 1366, "height": 768})
        ctx.add_cookies([{"name": k, "value": v, "url": url} for k, v in cookies.items()])
        page = ctx.new_page()

        def finished(req: Any) -> None:
            s = req.sizes()
            records.append({"t": time.monotonic(), "url": req.url,
                            "up": s["requestHeadersSize"] + s["requestBodySize"],
                            "down": s["responseHeadersSize"] + s["responseBodySize"]})
        page.on("requestfinished", finished)
        page.goto(url, wait_until="load")
        page.wait_for_timeout(min(5, seconds) * 1000)
        start = time.monotonic()
        page.wait_for_timeout(seconds * 1000)
        end = time.monotonic()
        chromium.close()
    inside = [r for r in records if start <= r["t"] < end]
    out.write_text(json.dumps({"seconds": end - start, "records": inside}))


def run(ws: Workspace) -> dict[str, Any]:
    sizes = ws.sizes
    server = history_server(ws, "large")
    sup = sign_in(server.port, "supervisor")
    time.sleep(min(2, sizes.idle_baseline_s))
    c0 = server.cpu_seconds()
    time.sleep(sizes.idle_baseline_s)
    baseline = (server.cpu_seconds() - c0) * 60 / sizes.idle_baseline_s
    out = ws.dir / "browser.json"
    child = subprocess.Popen([sys.executable, "-m", "scripts.bench.scenarios.idle",
                              f"http://127.0.0.1:{server.port}/supervise/",
                              json.dumps(sup.cookies), str(sizes.idle_seconds), str(out)],
                             cwd=ROOT)
    waiters = [Waiter(server.port, sup.cookies, None, current_stamp(server.port,
                                                                    sup.cookies))
               for _ in range(sizes.idle_waits)]
    for w in waiters:
        w.start()
    time.sleep(min(8, sizes.idle_seconds))  # the browser has loaded the page by now
    r0, b0 = sum(w.requests for w in waiters), sum(w.bytes for w in waiters)
    c1, t1 = server.cpu_seconds(), time.monotonic()
    time.sleep(max(1, sizes.idle_seconds - 10))
    open_cpu, open_min = server.cpu_seconds() - c1, (time.monotonic() - t1) / 60
    r1, b1 = sum(w.requests for w in waiters), sum(w.bytes for w in waiters)
    if child.wait(timeout=sizes.idle_seconds + 120) != 0:
        raise RuntimeError("the browser's process failed")
    for w in waiters:
        w.stop = True
    data = json.loads(out.read_text())
    minutes, recs = data["seconds"] / 60, data["records"]
    paths: dict[str, int] = {}
    for r in recs:
        key = re.sub(r"\?.*", "", r["url"].split(str(server.port), 1)[-1])
        paths[key] = paths.get(key, 0) + 1
    return {"minutes": minutes, "live_wait_s": 25,
            "requests_per_min": len(recs) / minutes,
            "up_per_min": sum(r["up"] for r in recs) / minutes,
            "down_per_min": sum(r["down"] for r in recs) / minutes, "paths": paths,
            "baseline_cpu_per_min": baseline, "open_cpu_per_min": open_cpu / open_min,
            "waits": sizes.idle_waits,
            "wait_requests_per_min": (r1 - r0) / open_min / max(1, sizes.idle_waits),
            "wait_down_per_min": (b1 - b0) / open_min / max(1, sizes.idle_waits)}


if __name__ == "__main__":
    browser(sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
