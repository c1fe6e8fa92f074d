"""make bench-screens: open screens against the board, on gunicorn as `make run` serves it.

A throwaway SQLite database with the demo property; gunicorn with scripts/gunicorn.conf.py (2
processes); then, for each worker class (gevent, the default, and gthread, the one before it):

1. the board under `wrk -t2 -c16 -d8s` with no screen open: p50/p95/p99;
2. the same with N screens holding a live wait all the time (half signed in as a worker's
   phone, half as office pages): board latency, errors, and the ratio of its p95 to step 1's;
3. one dispatch: how long each of the N screens took to hear of it (p50/p95/max).

Results go to docs/PERFORMANCE.md between the "open screens" markers. Loopback only, bounded.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DOC = ROOT / "docs" / "PERFORMANCE.md"
BEGIN, END = "<!-- open screens: begin -->", "<!-- open screens: end -->"
LIVE_WAIT = 25
WRK_LUA = """
done = function(summary, latency, requests)
  io.write(string.format("JSON {\\"p50\\": %d, \\"p95\\": %d, \\"p99\\": %d, \\"requests\\": %d, "
    .. "\\"errors\\": %d, \\"non2xx\\": %d}\\n", latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.requests, summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Session:
    def __init__(self, base: str, username: str):
        self.base, self.jar = base, CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        body = self.opener.open(base + "/login", timeout=30).read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body).group(1)
        self.opener.open(urllib.request.Request(base + "/login", data=urlencode(
            {"username": username, "password": "demo", "csrf_token": token}).encode()),
            timeout=30).read()
        self.cookie = "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def get(self, path: str, timeout: float = 60) -> str:
        return self.opener.open(self.base + path, timeout=timeout).read().decode()


def wrk(base: str, cookie: str, seconds: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_LUA)
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{seconds}s", "-s", f.name, "--timeout", "30s",
                          "-H", f"Cookie: {cookie}", base + "/supervise/"],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    data = json.loads(out.split("JSON ", 1)[1].splitlines()[0])
    return {k: (v / 1000 if k.startswith("p") else v) for k, v in data.items()}  # ms


def serve(env: dict, folder: Path, worker_class: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**env, "PORT": f"127.0.0.1:{port}", "PSD_WORKER_CLASS": worker_class,
           "PSD_ACCESS_LOG": "/dev/null"}
    log = (folder / f"gunicorn-{worker_class}.log").open("w")
    server = subprocess.Popen([str(VENV_BIN / "gunicorn"), "-c", "scripts/gunicorn.conf.py"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/login", timeout=2).read()
            return server, base
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((folder / f"gunicorn-{worker_class}.log").read_text())
            time.sleep(0.3)


def measure(env: dict, folder: Path, worker_class: str, screens: int, seconds: int) -> dict:
    server, base = serve(env, folder, worker_class)
    try:
        office = Session(base, "supervisor")
        phone = Session(base, "worker")
        quiet = wrk(base, office.cookie, seconds)
        stop = threading.Event()
        seen = [-1] * screens
        heard = [0.0] * screens
        errors: list[str] = []

        def screen(i: int) -> None:
            who = phone if i % 2 else office
            since = -1
            while since < 0 and not stop.is_set():  # a starved server may time out at first
                try:
                    since = json.loads(who.get("/live/?since=-1"))["stamp"]
                except Exception as exc:  # noqa: BLE001 — counted
                    errors.append(type(exc).__name__)
            seen[i] = since
            while not stop.is_set():
                try:
                    stamp = json.loads(who.get(f"/live/?since={since}"))["stamp"]
                except Exception as exc:  # noqa: BLE001 — counted
                    errors.append(type(exc).__name__)
                    time.sleep(1)
                    continue
                if stamp != since:
                    heard[i] = time.monotonic()
                since = seen[i] = stamp

        threads = [threading.Thread(target=screen, args=(i,), daemon=True)
                   for i in range(screens)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while min(seen) < 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        opened = sum(s >= 0 for s in seen)  # screens that got their first answer
        time.sleep(2)
        busy = wrk(base, office.cookie, seconds)
        # one change: a slip on the board dispatched (the first card whose form takes it)
        before = max(seen)
        board = office.get("/supervise/")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', board)
        sent = None
        for action, form in re.findall(
                r'action="(/supervise/slips/[^"]+/dispatch)"(.*?)</form>', board, re.S):
            version = re.search(r'name="version"[^>]*value="(\d+)"', form)
            for worker in re.findall(r'<option value="(\d+)"', form):
                sent = time.monotonic()
                try:
                    office.opener.open(urllib.request.Request(base + action, data=urlencode({
                        "csrf_token": token.group(1) if token else "",
                        "version": version.group(1), "worker_id": worker}).encode(),
                        headers={"HX-Request": "true"}), timeout=30).read()
                    break
                except urllib.error.HTTPError:
                    sent = None
            if sent is not None:
                break
        if sent is None:
            raise RuntimeError("no slip on the board could be dispatched")
        deadline = time.monotonic() + LIVE_WAIT + 5
        while min(seen) <= before and time.monotonic() < deadline:
            time.sleep(0.05)
        delays = sorted(heard[i] - sent for i in range(screens) if seen[i] > before)
        stop.set()
        return {"worker_class": worker_class, "screens": screens, "opened": opened,
                "quiet": quiet, "busy": busy,
                "ratio_p95": busy["p95"] / quiet["p95"] if quiet["p95"] else None,
                "reached": len(delays), "screen_errors": len(errors),
                "delay_p50": statistics.median(delays) if delays else None,
                "delay_p95": delays[int(0.95 * (len(delays) - 1))] if delays else None,
                "delay_max": delays[-1] if delays else None}
    finally:
        server.terminate()
        try:
            server.wait(timeout=LIVE_WAIT + 15)
        except subprocess.TimeoutExpired:
            server.kill()


def report(results: list[dict]) -> str:
    lines = [BEGIN, "## Open screens against the board (`make bench-screens`)", "",
             f"`scripts/bench_screens.py`, {time.strftime('%Y-%m-%d')}: gunicorn with "
             "`scripts/gunicorn.conf.py` (2 processes) on SQLite with the demo; the board under "
             "`wrk -t2 -c16` first with no screen open, then with N screens each holding a live "
             "wait all the time (half a worker's phone, half office pages); then one dispatch "
             "and how long each screen took to hear of it. Client and server share the same 2 "
             "cores.", "",
             "| worker class | screens open | board p50 / p95 / p99, none open (ms) | with the screens "
             "(ms) | p95 ratio | board errors | change reached | change p50 / p95 / max (s) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        q, b = r["quiet"], r["busy"]

        def s(v):
            return "–" if v is None else f"{v:.2f}"
        lines.append(
            f"| {r['worker_class']} | {r['opened']} of {r['screens']} | {q['p50']:.0f} / {q['p95']:.0f} / "
            f"{q['p99']:.0f} | {b['p50']:.0f} / {b['p95']:.0f} / {b['p99']:.0f} | "
            f"{s(r['ratio_p95'])} | {b['errors'] + b['non2xx']} | {r['reached']} of "
            f"{r['screens']} | {s(r['delay_p50'])} / {s(r['delay_p95'])} / {s(r['delay_max'])} |")
    lines += ["", END]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screens", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--classes", default="gevent,gthread")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="psd-screens-"))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
           "PSD_INSTANCE": str(folder / "instance"), "SECRET_KEY": "bench-screens",
           "FLASK_APP": "wsgi.py", "PSD_LIVE_WAIT": str(LIVE_WAIT)}
    subprocess.run([str(VENV_BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    subprocess.run([str(VENV_BIN / "flask"), "seed-demo"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    results = []
    for worker_class in args.classes.split(","):
        print(f"{worker_class}: {args.screens} screens ...", flush=True)
        results.append(measure(env, folder, worker_class, args.screens, args.seconds))
        print(json.dumps(results[-1]), flush=True)
    text = report(results)
    doc = DOC.read_text()
    if BEGIN in doc:
        doc = doc[:doc.index(BEGIN)] + text + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip() + "\n\n" + text + "\n"
    DOC.write_text(doc)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
