#!/usr/bin/env python3
"""The slip lifecycle under load (issue 3, item 13; idle cost of item 7). `make bench-slips`.

One run, end to end, on a throwaway SQLite file:

1. `flask db upgrade` + `flask seed-demo`; today's live slips from the demo (made here through
   the services when the demo has none yet); then 1,000 historic slips inserted in bulk.
2. gunicorn, 2 workers (scripts/gunicorn.conf.py when present, else gthread x 16 threads),
   serving the app plus a bare Flask app on one path (the ceiling, in the same server);
   `wrk -t2 -c16 -d10s` against the bare route, the board (page and htmx partial) as the demo
   supervisor and the worker's job list as the demo worker; one client at a time as well.
3. 99,000 more historic slips; the same again with 100,000 history.
4. Change to screen: N clients wait on /live/, an HTTP POST changes a slip, each client's
   answer is timed from the POST's response; then the slip PDF over HTTP.
5. Idle: a real Chromium keeps the board open for 2 minutes while 20 more waits stay open;
   requests and bytes per idle minute, and the gunicorn processes' CPU seconds.

Results (and a profile of the board if one of its targets is missed) are written into
docs/PERFORMANCE.md between the bench-slips markers; the rest of that file is left alone.
"""
from __future__ import annotations

import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
VENV_BIN = Path(sys.executable).parent
DOC = ROOT / "docs" / "PERFORMANCE.md"
BEGIN, END = "<!-- bench-slips:begin -->", "<!-- bench-slips:end -->"

WRK = ["-t2", "-c16", "-d10s"]
SECRET = "bench-slips-not-a-secret"
HISTORY_SMALL, HISTORY_LARGE = 1_000, 100_000
BARE_PATH = "/_bench/bare"           # a fresh Flask() app: the ceiling
APP_HELLO_PATH = "/_bench/app-hello"  # a route of the real app that does nothing
TOUCH_PATH = "/_bench/touch"          # fallback change when no real board action is found
FRESH = "fresh"  # a query argument the board ignores: a new value is a new screen-cache entry
PROPAGATION_CLIENTS = 16
PROPAGATION_CHANGES = 60
IDLE_SECONDS = 150
IDLE_WAITS = 20

QUICK = os.environ.get("BENCH_QUICK") == "1"  # a fast dry run of the harness; no doc written
if QUICK:
    WRK = ["-t2", "-c16", "-d2s"]
    HISTORY_LARGE, PROPAGATION_CHANGES, IDLE_SECONDS = 5_000, 8, 20

TARGETS = {"board_p95_ms": 25.0, "board_share": 0.30, "history_ratio": 1.2,
           "propagation_p95_s": 1.0, "pdf_ms": 250.0}


# ---- the app gunicorn serves: the real app plus the benchmark's own routes -----------------

def bench_wsgi():
    """gunicorn entry (`bench_slips:bench_wsgi()`): the app, a bare Flask app beside it."""
    from flask import Flask

    from app import create_app
    from app.extensions import csrf, db
    from app.services import live
    from app.web.guards import public

    app = create_app()
    @app.route(APP_HELLO_PATH)
    @public
    def bench_app_hello():
        return "hello"

    @app.route(TOUCH_PATH, methods=["POST"])
    @public
    @csrf.exempt
    def bench_touch():
        live.changed()
        db.session.commit()
        return "ok"

    bare = Flask("bare")

    @bare.route(BARE_PATH)
    def hello():
        return "hello"

    def dispatch(environ, start_response):
        if environ.get("PATH_INFO") == BARE_PATH:
            return bare(environ, start_response)
        return app(environ, start_response)

    return dispatch


# ---- small helpers ----------------------------------------------------------------------

def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Http:
    """A keep-alive HTTP client with a cookie jar: enough to sign in and act like a browser."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None, timeout: float = 60):
        self.port, self.timeout = port, timeout
        self.cookies = dict(cookies or {})
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def send(self, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> None:
        h = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.conn.request(method, path, body=body, headers=h)
        except (ConnectionError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self.conn.request(method, path, body=body, headers=h)

    def receive(self) -> tuple[int, http.client.HTTPMessage, bytes]:
        resp = self.conn.getresponse()
        data = resp.read()
        for raw in resp.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                if morsel.value and not raw.lower().count("expires=thu, 01 jan 1970"):
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        if resp.getheader("Connection", "").lower() == "close":
            self.conn.close()
        return resp.status, resp.headers, data

    def roundtrip(self, method: str, path: str, body: bytes | None = None,
                  headers: dict[str, str] | None = None):
        """One request; a keep-alive connection the server has closed meanwhile is reopened."""
        try:
            self.send(method, path, body, headers)
            return self.receive()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self.send(method, path, body, headers)
            return self.receive()

    def get(self, path: str, headers: dict[str, str] | None = None):
        return self.roundtrip("GET", path, None, headers)

    def post(self, path: str, form: dict[str, str], headers: dict[str, str] | None = None):
        return self.roundtrip("POST", path, urlencode(form).encode(),
                              {"Content-Type": "application/x-www-form-urlencoded",
                               **(headers or {})})

    def close(self) -> None:
        self.conn.close()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|"X-CSRFToken"\s*:\s*"([^"]+)"')


def csrf_of(html: str) -> str:
    m = CSRF_RE.search(html)
    if not m:
        raise RuntimeError("no CSRF token on the page")
    return m.group(1) or m.group(2)


def sign_in(port: int, username: str) -> Http:
    c = Http(port)
    status, _, body = c.get("/login")
    token = csrf_of(body.decode())
    status, headers, _ = c.post("/login", {"csrf_token": token, "username": username,
                                           "password": "demo"})
    if status != 302 or "session" not in c.cookies:
        raise RuntimeError(f"could not sign in as {username}: HTTP {status}")
    return c


# ---- the database: demo, today's live slips, history in bulk ------------------------------

DB_FILES = {HISTORY_SMALL: "small.sqlite3", HISTORY_LARGE: "large.sqlite3"}


def env_for(tmp: Path, db_file: str = DB_FILES[HISTORY_LARGE]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PSD_INSTANCE=str(tmp / "instance"),
               DATABASE_URL=f"sqlite:///{tmp / db_file}",
               SECRET_KEY=SECRET, FLASK_APP="wsgi.py", PYTHONUNBUFFERED="1")
    env.pop("PSD_LIVE_WAIT", None)  # the default wait (25 s): what a real board does
    env.pop("PSD_LIVE_TICK", None)
    return env


def flask_cli(tmp: Path, *args: str) -> None:
    subprocess.run([str(VENV_BIN / "flask"), *args], cwd=ROOT, env=env_for(tmp), check=True,
                   stdout=subprocess.DEVNULL)


def in_process_app(tmp: Path, db_file: str = DB_FILES[HISTORY_LARGE]):
    """The app on the benchmark's database, for bulk loading and the in-process profile."""
    from app import create_app
    from app.config import Config

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp / db_file}"
        INSTANCE_PATH = tmp / "instance"
        SECRET_KEY = SECRET
        WTF_CSRF_ENABLED = False  # the in-process profile posts the login form only

    return create_app(BenchConfig)


def board_lane_states() -> list[str]:
    from app.services.slips import BOARD_LANES
    return [s.value for s in BOARD_LANES]


def ensure_live_slips(app) -> dict:
    """Today's open slips: the demo's when it has them, else made here through the services."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Unit, User
    from app.models.slips import Slip
    from app.services import catalogue
    from app.services import slips as svc
    from app.services.audit import acting_as

    with app.app_context():
        open_now = db.session.scalar(select(func.count()).select_from(Slip)
                                     .where(Slip.state.in_(board_lane_states())))
        total = db.session.scalar(select(func.count()).select_from(Slip))
        if open_now >= 10:
            return {"source": "demo", "open": open_now, "demo_total": total}
        users = {u.username: u for u in db.session.scalars(select(User))}
        clerk, sup = users["clerk"], users["supervisor"]
        workers = [users[n] for n in ("worker", "worker2", "worker3", "worker4", "cleaner1")]
        price_list = catalogue.in_force()
        items = [i for i in price_list.items if not i.price.by_workload and not i.price.free]
        units = list(db.session.scalars(select(Unit).order_by(Unit.id)))
        rng = random.Random(3)
        now = datetime.now(timezone.utc)
        plan = (["registered"] * 8 + ["dispatched"] * 8 + ["accepted"] * 5 + ["on_site"] * 3
                + ["in_progress"] * 3 + ["completed"] * 3 + ["nobody_home"] * 2)
        made = 0
        for k, target in enumerate(plan):
            unit = rng.choice(units)
            resident = unit.current_residents[0] if unit.current_residents else None
            start = now + timedelta(hours=rng.randint(1, 8))
            req = svc.SlipRequest(unit=unit, resident=resident, request="bench: live slip",
                                  urgent=(k % 6 == 0), window_start=start,
                                  window_end=start + timedelta(hours=2),
                                  lines=[svc.LineRequest(rng.choice(items).id,
                                                         rng.randint(1, 2))])
            with acting_as(clerk):
                slip = svc.open_slip(req, clerk, price_list)
            if target == "registered":
                made += 1
                continue
            worker = workers[k % len(workers)]
            with acting_as(sup):
                svc.dispatch(slip, sup, worker.id)
            with acting_as(worker):
                if target == "nobody_home":
                    svc.nobody_home(slip, worker)
                elif target != "dispatched":
                    svc.accept(slip, worker)
                    if target in ("on_site", "in_progress", "completed"):
                        svc.check_in(slip, worker)
                    if target in ("in_progress", "completed"):
                        svc.confirm_fee(slip, worker, {})
                    if target == "completed":
                        svc.complete(slip, worker, svc.Acceptance(
                            name="业主", signature_file="signatures/bench.png", satisfied=True))
            made += 1
        db.session.commit()
        open_now = db.session.scalar(select(func.count()).select_from(Slip)
                                     .where(Slip.state.in_(board_lane_states())))
        return {"source": "made by the benchmark (the demo had none)", "open": open_now,
                "demo_total": total}


def insert_history(app, count: int, seed: int) -> float:
    """Closed slips of the last ~3 years in bulk (SQLAlchemy core), numbered per month."""
    from sqlalchemy import func, insert, select, update

    from app.extensions import db
    from app.models import Unit
    from app.models.catalogue import PriceItem, PriceList
    from app.models.counters import NumberSequence
    from app.models.property import Resident
    from app.models.slips import Slip, SlipEvent, SlipLine
    from app.models.users import UserRole
    from app.services.settings import property_settings

    t0 = time.perf_counter()
    rng = random.Random(seed)
    with app.app_context():
        from zoneinfo import ZoneInfo
        tz = ZoneInfo(property_settings().timezone)
        roles = db.session.execute(select(UserRole.user_id, UserRole.role)).all()
        workers = sorted({u for u, r in roles if r == "worker"})
        clerks = sorted({u for u, r in roles if r == "clerk"})
        sups = sorted({u for u, r in roles if r == "supervisor"})
        units = db.session.execute(select(Unit.id)).scalars().all()
        residents: dict[int, list[tuple]] = {}
        for rid, uid, name, phone in db.session.execute(
                select(Resident.id, Resident.unit_id, Resident.name, Resident.phone)):
            residents.setdefault(uid, []).append((rid, name, phone))
        pl_id = db.session.scalar(select(PriceList.id).where(PriceList.number == 1))
        items = db.session.execute(select(PriceItem).where(PriceItem.price_list_id == pl_id)
                                   ).scalars().all()
        items = [(i.id, i.code, i.name_zh, i.name_en, i.unit, i.price_min_fen, i.price_max_fen,
                  i.by_workload, i.free) for i in items]
        seqs = dict(db.session.execute(select(NumberSequence.series, NumberSequence.last)).all())
        known = set(seqs)
        next_slip = (db.session.scalar(select(func.max(Slip.id))) or 0) + 1
        next_line = (db.session.scalar(select(func.max(SlipLine.id))) or 0) + 1
        next_event = (db.session.scalar(select(func.max(SlipEvent.id))) or 0) + 1

        now = datetime.now(timezone.utc)
        end = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0)  # today 00:00
        span = timedelta(days=3 * 365).total_seconds()
        slips, lines, events = [], [], []

        def flush() -> None:
            if slips:
                db.session.execute(insert(Slip.__table__), slips)
                db.session.execute(insert(SlipLine.__table__), lines)
                db.session.execute(insert(SlipEvent.__table__), events)
            slips.clear()
            lines.clear()
            events.clear()

        for _ in range(count):
            local = end - timedelta(seconds=rng.uniform(3600, span))
            local = local.replace(hour=rng.randint(8, 19))
            created = local.astimezone(timezone.utc)
            series = "YC" + local.strftime("%Y%m")
            seqs[series] = seqs.get(series, 0) + 1
            number = f"{series}-{seqs[series]:04d}"
            unit = rng.choice(units)
            res = rng.choice(residents[unit]) if residents.get(unit) else (None, "", "")
            sid = next_slip
            next_slip += 1
            worker, clerk, sup = rng.choice(workers), rng.choice(clerks), rng.choice(sups)
            total = 0
            for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
                (iid, code, zh, en, unit_name, lo, hi, workload, free) = rng.choice(items)
                if free:
                    price = 0
                elif lo is None:
                    price = rng.randrange(50, 400) * 100
                elif hi is None or hi == lo:
                    price = lo
                else:
                    price = rng.randrange(lo, hi + 1, 100) if hi - lo >= 100 else lo
                qty = rng.choice((1, 1, 1, 2, 3))
                total += price * qty
                lines.append(dict(id=next_line, slip_id=sid, price_item_id=iid, code=code,
                                  name_zh=zh, name_en=en or "", unit=unit_name, quantity=qty,
                                  list_min_fen=lo, list_max_fen=hi, by_workload=workload,
                                  free=free, unit_price_fen=price, final_price_fen=price,
                                  needs_approval=False, approved_by_id=None, approved_at=None))
                next_line += 1
            urgent = rng.random() < 0.12
            w_start = created + timedelta(hours=rng.randint(1, 30))
            w_end = w_start + timedelta(hours=2)
            cancelled = rng.random() < 0.08
            steps = [("open", None, "registered", clerk, created)]
            t = created
            if cancelled:
                if rng.random() < 0.5:
                    t += timedelta(minutes=rng.randint(5, 90))
                    steps.append(("dispatch", "registered", "dispatched", sup, t))
                t += timedelta(hours=rng.randint(1, 20))
                steps.append(("cancel", steps[-1][2], "cancelled", clerk, t))
                state = "cancelled"
            else:
                t += timedelta(minutes=rng.randint(5, 90))
                steps.append(("dispatch", "registered", "dispatched", sup, t))
                t += timedelta(minutes=rng.randint(1, 30))
                steps.append(("accept", "dispatched", "accepted", worker, t))
                t = max(t, w_start) + timedelta(minutes=rng.randint(0, 60))
                checked_in = t
                steps.append(("check_in", "accepted", "on_site", worker, t))
                t += timedelta(minutes=rng.randint(2, 15))
                steps.append(("confirm_fee", "on_site", "in_progress", worker, t))
                t += timedelta(minutes=rng.randint(20, 180))
                completed = t
                steps.append(("complete", "in_progress", "completed", worker, t))
                t += timedelta(hours=rng.randint(1, 30))
                steps.append(("hand_back", "completed", "handed_back", clerk, t))
                state = "handed_back"
            if t >= now:  # keep all history in the past
                shift = t - now + timedelta(hours=1)
                steps = [(a, f, to, who, at - shift) for a, f, to, who, at in steps]
                created -= shift
                t -= shift
            for action, before, to, who, at in steps:
                events.append(dict(id=next_event, slip_id=sid, at=at, actor_id=who,
                                   action=action, from_state=before, to_state=to,
                                   note="no longer needed" if action == "cancel" else "",
                                   data=None, request_key=None))
                next_event += 1
            done = state == "handed_back"
            slips.append(dict(
                id=sid, number=number, state=state, version=len(steps), reception_id=None,
                unit_id=unit, resident_id=res[0], contact_name=res[1], contact_phone=res[2],
                request="", notes="", urgent=urgent, free=total == 0,
                window_start=w_start, window_end=w_end, price_list_id=pl_id,
                quoted_total_fen=total, agreed_total_fen=total if done else None,
                created_at=created, received_by_id=clerk,
                dispatched_by_id=sup if len(steps) > 2 or not cancelled else None,
                worker_id=worker if done or len(steps) > 2 else None,
                due_at=created + timedelta(minutes=30) if urgent else w_end,
                paused_since=None, checked_in_at=checked_in if done else None,
                nobody_home_count=0, damage_note="", materials="",
                acceptance_name=res[1] if done else "", signature_file="",
                satisfied=(rng.random() > 0.03) if done else None, acceptance_remarks="",
                completed_at=completed if done else None,
                handed_back_at=t if done else None,
                cancel_reason="no longer needed" if cancelled else "", updated_at=t))
            if len(slips) >= 5000:
                flush()
        flush()
        for series, last in seqs.items():
            if series in known:
                db.session.execute(update(NumberSequence).where(NumberSequence.series == series)
                                   .values(last=last))
            else:
                db.session.execute(insert(NumberSequence).values(series=series, last=last))
        db.session.commit()
        db.session.remove()
    return time.perf_counter() - t0


def copy_db(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite file (WAL included)."""
    import sqlite3
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def history_count(app) -> int:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models.slips import Slip
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(Slip)
                              .where(Slip.state.in_(("handed_back", "cancelled"))))
        db.session.remove()
    return n


# ---- gunicorn ---------------------------------------------------------------------------

class Server:
    def __init__(self, tmp: Path, port: int, db_file: str):
        self.tmp, self.port, self.db_file = tmp, port, db_file
        self.proc: subprocess.Popen | None = None
        conf = SCRIPTS / "gunicorn.conf.py"
        self.args = ["--bind", f"127.0.0.1:{port}", "--workers", "2"]
        if conf.exists():
            self.args = ["-c", str(conf)] + self.args
            self.settings = "scripts/gunicorn.conf.py, 2 workers"
        else:
            self.args += ["--worker-class", "gthread", "--threads", "16"]
            self.settings = "gthread, 2 workers x 16 threads"
        self.args += ["--pythonpath", f"{SCRIPTS},{ROOT}", "--chdir", str(ROOT)]

    def start(self) -> None:
        logf = open(self.tmp / f"gunicorn-{self.port}.log", "ab")
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), *self.args, "bench_slips:bench_wsgi()"],
            env=env_for(self.tmp, self.db_file), stdout=logf, stderr=logf, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.tmp}/gunicorn-{self.port}.log")
            try:
                c = Http(self.port, timeout=2)
                status, _, _ = c.get("/healthz")
                c.close()
                if status == 200 and len(self.worker_pids()) >= 2:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not come up")

    def worker_pids(self) -> list[int]:
        try:
            kids = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in kids.split()]

    def cpu_seconds(self) -> float:
        """User + system CPU of the master and its workers, in seconds."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in [self.proc.pid, *self.worker_pids()]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---- wrk --------------------------------------------------------------------------------

LUA = """
wrk.method = "GET"
{headers}
{fresh}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCHJSON {{\\"requests\\":%d,\\"duration_us\\":%d,\\"bytes\\":%d,\\"p50\\":%d,"
    .. "\\"p95\\":%d,\\"p99\\":%d,\\"max\\":%d,\\"mean\\":%.1f,\\"status\\":%d,"
    .. "\\"errors\\":%d}}\\n",
    summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(95), latency:percentile(99), latency.max, latency.mean,
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine have used so far (from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait


def own_seconds() -> float:
    """CPU seconds of this benchmark process and its finished children (wrk)."""
    import resource
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


FRESH_LUA = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, "{path}{sep}{fresh}=" .. "{run}-" .. tostring(tid) .. "-" .. n)
end
"""


def fresh_path(path: str, tag: str) -> str:
    """The same screen at a URL no one asked before: the screen cache has to draw it."""
    return f"{path}{'&' if '?' in path else '?'}{FRESH}={tag}"


def wrk(tmp: Path, port: int, path: str, headers: dict[str, str], server: Server,
        fresh: bool = False) -> dict:
    """wrk on one path; `fresh`: every request carries a new `fresh=` value."""
    lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
    script = tmp / f"wrk-{abs(hash((path, tuple(headers.items()), fresh)))}.lua"
    more = FRESH_LUA.format(path=path, sep="&" if "?" in path else "?", fresh=FRESH,
                            run=random.randrange(10**9)) if fresh else ""
    script.write_text(LUA.format(headers=lines, fresh=more))
    # Whatever else runs on the machine meanwhile shows as CPU used outside this benchmark,
    # its gunicorn and wrk.
    busy0, own0, srv0, t0 = machine_busy_seconds(), own_seconds(), server.cpu_seconds(), \
        time.monotonic()
    out = subprocess.run(["wrk", *WRK, "-s", str(script), f"http://127.0.0.1:{port}{path}"],
                         capture_output=True, text=True, check=True).stdout
    others = (machine_busy_seconds() - busy0) - (own_seconds() - own0) \
        - (server.cpu_seconds() - srv0)
    other_share = max(0.0, others) / ((time.monotonic() - t0) * (os.cpu_count() or 1))
    found = re.search(r"BENCHJSON (\{.*\})", out)
    if not found:
        raise RuntimeError("wrk gave no result:\n" + out)
    r = json.loads(found.group(1))
    secs = r["duration_us"] / 1e6
    return {"other": other_share, "rps": r["requests"] / secs, "p50": r["p50"] / 1000, "p95": r["p95"] / 1000,
            "p99": r["p99"] / 1000, "max": r["max"] / 1000, "requests": r["requests"],
            "bad": r["status"] + r["errors"], "kb": r["bytes"] / max(1, r["requests"]) / 1024}


def sequential(sides: list[tuple[int, dict[str, str]]], path: str, headers: dict[str, str],
               n: int = 200, fresh: bool = False) -> list[dict]:
    """One client at a time, alternating request by request between the servers given;
    `fresh`: each request at a URL not asked before (the screen cache has to draw it)."""
    clients = [Http(port, cookies) for port, cookies in sides]
    run = random.randrange(10**9)
    for i in range(20):
        for c in clients:
            c.get(fresh_path(path, f"{run}-w{i}") if fresh else path, headers)
    times: list[list[float]] = [[] for _ in clients]
    for i in range(n):
        for c, out in zip(clients, times):
            t = time.perf_counter()
            status, _, _ = c.get(fresh_path(path, f"{run}-{i}") if fresh else path, headers)
            out.append((time.perf_counter() - t) * 1000)
            if status != 200:
                raise RuntimeError(f"{path}: HTTP {status}")
    for c in clients:
        c.close()
    return [{"median": statistics.median(ts), "p95": pct(ts, 95)} for ts in times]


# ---- what to measure: found on the pages themselves --------------------------------------

def discover(port: int, sup: Http, worker: Http) -> dict:
    """The board's URL and the partial it refreshes with, as its own HTML names them."""
    found: dict = {"board": "/supervise/", "field": "/field/"}
    status, _, body = sup.get(found["board"])
    html = body.decode()
    if status != 200:
        raise RuntimeError(f"board: HTTP {status}")
    found["board_bytes"] = len(body)
    found["board_html"] = html
    partials = []
    for tag in re.finditer(r"<[^>]+hx-trigger=\"[^\"]*live-changed[^\"]*\"[^>]*>", html):
        m = re.search(r'hx-get="([^"]+)"', tag.group(0))
        if m:
            partials.append(m.group(1).replace("&amp;", "&"))
    found["partials"] = partials
    found["partial"] = max(partials, key=len) if partials else None
    found["live"] = "data-live=" in html
    status, _, body = worker.get(found["field"])
    if status != 200:
        raise RuntimeError(f"worker's list: HTTP {status}")
    found["field_bytes"] = len(body)
    return found


def board_partial_is_real(sup: Http, path: str | None) -> tuple[bool, int]:
    if not path:
        return False, 0
    status, headers, body = sup.get(path, {"HX-Request": "true"})
    return status == 200 and b"<html" not in body[:500].lower(), len(body)


# ---- rounds under load --------------------------------------------------------------------

def cookie_header(c: Http) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in c.cookies.items())}


def load_rounds(tmp: Path, sides: dict) -> dict:
    """Each line under wrk at 1k history, then at once at 100k, so drift hits both alike."""
    any_side = sides[HISTORY_LARGE]
    plan = [("bare Flask route (ceiling)", BARE_PATH, None, {}),
            ("the app's own hello route", APP_HELLO_PATH, None, {}),
            ("board, full page", any_side["found"]["board"], "sup", {})]
    if any_side["found"].get("partial_ok"):
        plan.append(("board, htmx partial", any_side["found"]["partial"], "sup",
                     {"HX-Request": "true"}))
    plan.append(("worker's job list", any_side["found"]["field"], "worker", {}))
    plan = [(name, path, who, extra, False) for name, path, who, extra in plan]
    board_fresh = [(f"{name}, drawn fresh", path, who, extra, True)
                   for name, path, who, extra, _ in plan if name.startswith("board")]
    at = next(i for i, step in enumerate(plan) if step[0] == "worker's job list")
    plan[at:at] = board_fresh
    out: dict = {size: {} for size in sides}
    for name, path, who, extra, fresh in plan:
        for size, side in sides.items():
            headers = {**(cookie_header(side[who]) if who else {}), **extra}
            log(f"wrk {size:,}: {name} {path}")
            shown = fresh_path(path, "N") if fresh else path
            out[size][name] = {"path": shown, **wrk(tmp, side["port"], path, headers,
                                                    side["server"], fresh)}
            log(f"   {out[size][name]['rps']:.0f} req/s, p95 {out[size][name]['p95']:.1f} ms")
    seq_plan = [(name, path, who, extra, fresh) for name, path, who, extra, fresh in plan
                if who]
    for size in sides:
        out[size]["_sequential"] = {}
    sizes = list(sides)
    for name, path, who, extra, fresh in seq_plan:
        log(f"one client at a time: {name}")
        got = sequential([(sides[k]["port"], sides[k][who].cookies) for k in sizes], path, extra,
                         fresh=fresh)
        for size, res in zip(sizes, got):
            out[size]["_sequential"][name] = res
    return out


# ---- change to screen ----------------------------------------------------------------------

class Waiter(threading.Thread):
    """One open screen: waits on /live/, and on a change fetches the partial like htmx does."""

    def __init__(self, port: int, cookies: dict, partial: str | None, since: int):
        super().__init__(daemon=True)
        self.c = Http(port, cookies)
        self.partial = partial
        self.since = since
        self.parked = threading.Event()
        self.answers: list[tuple[float, float | None, int]] = []
        self.requests = 0
        self.bytes = 0
        self.stop = False

    def run(self) -> None:
        while not self.stop:
            self.parked.set()
            status, headers, body = self.c.get(f"/live/?since={self.since}",
                                               {"Accept": "application/json"})
            t_answer = time.perf_counter()
            self.parked.clear()
            self.requests += 1
            self.bytes += len(body) + sum(len(k) + len(v) + 4 for k, v in headers.items())
            if status != 200:
                time.sleep(0.5)
                continue
            stamp = json.loads(body)["stamp"]
            if stamp != self.since:
                t_screen = None
                if self.partial:
                    st, _, _ = self.c.get(self.partial, {"HX-Request": "true"})
                    t_screen = time.perf_counter() if st == 200 else None
                self.answers.append((t_answer, t_screen, stamp))
                self.since = stamp


def current_stamp(port: int, cookies: dict) -> int:
    c = Http(port, cookies)
    _, _, body = c.get("/live/?since=-1")
    c.close()
    return json.loads(body)["stamp"]


class Changer:
    """The change each round makes through HTTP, as a supervisor would on the board: reassign
    a dispatched slip to another worker with the form on its card (repeatable for ever)."""

    def __init__(self, port: int, sup: Http):
        self.port, self.sup = port, sup
        self.form = find_reassign_form(sup.get("/supervise/")[2].decode())
        if self.form:
            self.kind = ("a supervisor reassigns a dispatched slip to another worker with the "
                         f"form on its board card (`POST {self.form[0]}`, htmx)")
        else:
            self.kind = (f"`POST {TOUCH_PATH}`, a benchmark-only route that bumps the live "
                         "stamp (no reassign form was found on the board)")
        self.failed = 0

    def prepare(self) -> None:
        """Read the board as the supervisor sees it now (the card's version moves each time)."""
        if self.form:
            self.form = find_reassign_form(self.sup.get("/supervise/")[2].decode()) or self.form

    def change(self) -> tuple[float, float, bool]:
        """Make one change: perf_counter() as it was sent and as its response arrived, and
        whether it was taken."""
        if self.form:
            action, fields, (name, ids) = self.form
            sent = time.perf_counter()
            status, _, _ = self.sup.post(action, {**fields, name: ids[0]}, {"HX-Request": "true"})
            t = time.perf_counter()
            if status >= 400:
                self.failed += 1
            return sent, t, status < 400
        c = Http(self.port)
        sent = time.perf_counter()
        status, _, _ = c.post(TOUCH_PATH, {})
        t = time.perf_counter()
        c.close()
        return sent, t, status < 400


def find_reassign_form(html: str):
    """The first reassign form on the board: (action, hidden fields, (select name, ids))."""
    for m in re.finditer(r'<details class="reassign"[^>]*>.*?(<form\b.*?</form>)', html, re.S):
        form = m.group(1)
        action = re.search(r'action="([^"]+)"', form)
        select_ = re.search(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S)
        if not action or not select_:
            continue
        fields = {}
        for tag in re.findall(r"<input[^>]*>", form):
            name = re.search(r'name="([^"]+)"', tag)
            if 'type="hidden"' in tag and name:
                value = re.search(r'value="([^"]*)"', tag)
                fields[name.group(1)] = value.group(1) if value else ""
        fields.setdefault("csrf_token", csrf_of(html))
        ids = re.findall(r'<option[^>]*value="(\d+)"', select_.group(2))
        if ids:
            return action.group(1).replace("&amp;", "&"), fields, (select_.group(1), ids)
    return None


def propagation(port: int, sup: Http, found: dict) -> dict:
    cookies = dict(sup.cookies)
    since = current_stamp(port, cookies)
    waiters = [Waiter(port, cookies, found["partial"] if found.get("partial_ok") else None,
                      since) for _ in range(PROPAGATION_CLIENTS)]
    for w in waiters:
        w.start()
    changer = Changer(port, sup)
    to_answer, to_screen, worst, missed, from_sent = [], [], [], 0, []
    for _ in range(PROPAGATION_CHANGES):
        changer.prepare()
        deadline = time.monotonic() + 10
        while not all(w.parked.is_set() for w in waiters) and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.3)  # let the server take each wait up
        before = [len(w.answers) for w in waiters]
        t_sent, t_post, taken = changer.change()
        if not taken:
            continue
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(
                len(w.answers) == n for w, n in zip(waiters, before)):
            time.sleep(0.002)
        round_delays = []
        for w, n in zip(waiters, before):
            if len(w.answers) == n:
                missed += 1
                continue
            t_answer, t_screen, _ = w.answers[n]
            round_delays.append(t_answer - t_post)
            from_sent.append(t_answer - t_sent)
            if t_screen is not None:
                to_screen.append(t_screen - t_sent)
        to_answer += round_delays
        if round_delays:
            worst.append(max(round_delays))
        time.sleep(0.05)
    for w in waiters:
        w.stop = True
    return {"clients": PROPAGATION_CLIENTS, "changes": PROPAGATION_CHANGES, "how": changer.kind,
            "answer": to_answer, "from_sent": from_sent, "screen": to_screen, "worst": worst, "missed": missed,
            "failed_posts": changer.failed}


# ---- the slip PDF ---------------------------------------------------------------------------

def pdf_timing(port: int, sup: Http) -> dict:
    from_board = re.findall(r"YC\d{6}-\d{4}", sup.get("/supervise/")[2].decode())
    if not from_board:
        return {"error": "no slip number on the board"}
    number = from_board[0]
    path = f"/slips/{number}/slip.pdf"
    c = Http(port, sup.cookies)
    t = time.perf_counter()
    status, headers, body = c.get(path)
    first = (time.perf_counter() - t) * 1000
    if status != 200 or not body.startswith(b"%PDF"):
        return {"error": f"{path}: HTTP {status}", "path": path}
    for _ in range(4):  # warm both workers
        c.get(path)
    times = []
    for _ in range(20):
        t = time.perf_counter()
        c.get(path)
        times.append((time.perf_counter() - t) * 1000)
    c.close()
    return {"path": path, "first": first, "median": statistics.median(times),
            "p95": pct(times, 95), "max": max(times), "kb": len(body) / 1024}


# ---- idle ---------------------------------------------------------------------------------

def browser_idle(url: str, cookies: dict, seconds: int, out: Path) -> None:
    """Run in a child process: a real Chromium with the board open, counting its traffic."""
    from playwright.sync_api import sync_playwright

    records = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        ctx = browser.new_context(viewport={"width": 1366, "height": 768})
        ctx.add_cookies([{"name": k, "value": v, "url": url} for k, v in cookies.items()])
        page = ctx.new_page()

        def finished(req):
            try:
                s = req.sizes()
            except Exception:
                s = {}
            records.append({"t": time.monotonic(), "url": req.url, "method": req.method,
                            "up": s.get("requestHeadersSize", 0) + s.get("requestBodySize", 0),
                            "down": s.get("responseHeadersSize", 0)
                            + s.get("responseBodySize", 0)})

        page.on("requestfinished", finished)
        page.goto(url, wait_until="load")
        page.wait_for_timeout(5000)
        start = time.monotonic()
        page.wait_for_timeout(seconds * 1000)
        end = time.monotonic()
        stamp = page.evaluate("document.body.getAttribute('data-live-stamp')")
        browser.close()
    inside = [r for r in records if start <= r["t"] < end]
    out.write_text(json.dumps({"seconds": end - start, "loaded": len(records) - len(inside),
                               "records": inside, "stamp": stamp}))


def idle(tmp: Path, server: Server, port: int, sup: Http, found: dict) -> dict:
    cookies = dict(sup.cookies)
    # Baseline: the server with no open screen (each worker's watcher still looks 4x a second).
    time.sleep(2)
    c0 = server.cpu_seconds()
    baseline_secs = 10 if QUICK else 60
    time.sleep(baseline_secs)
    baseline = (server.cpu_seconds() - c0) * 60 / baseline_secs
    # A real browser on the board, plus IDLE_WAITS more open waits, for IDLE_SECONDS.
    out = tmp / "browser.json"
    child = subprocess.Popen([sys.executable, __file__, "--browser-idle",
                              f"http://127.0.0.1:{port}{found['board']}",
                              json.dumps(cookies), str(IDLE_SECONDS), str(out)])
    since = current_stamp(port, cookies)
    waiters = [Waiter(port, cookies, None, since) for _ in range(IDLE_WAITS)]
    for w in waiters:
        w.start()
    time.sleep(8)  # the browser has loaded the page by now
    r0, b0 = sum(w.requests for w in waiters), sum(w.bytes for w in waiters)
    c1, t1 = server.cpu_seconds(), time.monotonic()
    time.sleep(IDLE_SECONDS - 10)
    open_cpu = server.cpu_seconds() - c1
    open_secs = time.monotonic() - t1
    r1, b1 = sum(w.requests for w in waiters), sum(w.bytes for w in waiters)
    child.wait(timeout=IDLE_SECONDS + 120)
    for w in waiters:
        w.stop = True
    data = json.loads(out.read_text())
    minutes = data["seconds"] / 60
    recs = data["records"]
    paths: dict[str, int] = {}
    for r in recs:
        key = re.sub(r"\?.*", "", r["url"].split(str(port), 1)[-1])
        paths[key] = paths.get(key, 0) + 1
    return {"browser_minutes": minutes, "browser_requests": len(recs),
            "browser_up": sum(r["up"] for r in recs), "browser_down": sum(r["down"] for r in recs),
            "browser_paths": paths, "baseline_cpu": baseline, "open_cpu": open_cpu,
            "open_secs": open_secs, "waits": IDLE_WAITS,
            "waits_requests_per_min": (r1 - r0) / (open_secs / 60) / IDLE_WAITS,
            "waits_down_per_min": (b1 - b0) / (open_secs / 60) / IDLE_WAITS}


# ---- in-process: where the board's time goes ----------------------------------------------

IN_PROCESS_PAGES = (("board", "supervisor", "/supervise/"), ("job list", "worker", "/field/"))


def in_process_board(tmp: Path) -> dict:
    """The board and the job list in-process on both files, alternating request by request
    (each at a new URL, so the board's screen cache draws it every time):
    statements, SQL time and total per request, the slowest statements with SQLite's plan;
    then a cProfile of the board at 100k history and where its time goes."""
    import cProfile
    import pstats
    import sqlite3

    from sqlalchemy import event

    from app.extensions import db

    n = 60
    result: dict = {}
    for page, user, path in IN_PROCESS_PAGES:
        sides = {}
        for size, db_file in DB_FILES.items():
            app = in_process_app(tmp, db_file)
            client = app.test_client()
            client.post("/login", data={"username": user, "password": "demo"})
            with app.app_context():
                engine = db.engine
            stats: dict = {"n": 0, "sql": 0.0, "t": [], "by": {}}

            def before(conn, cursor, statement, params, context, executemany):
                conn.info["t"] = time.perf_counter()

            def after(conn, cursor, statement, params, context, executemany, stats=stats):
                took = time.perf_counter() - conn.info.pop("t", time.perf_counter())
                stats["n"] += 1
                stats["sql"] += took
                entry = stats["by"].setdefault(statement, [0.0, params])
                entry[0] += took

            for i in range(10):
                client.get(fresh_path(path, f"{size}-w{i}"))
            event.listen(engine, "before_cursor_execute", before)
            event.listen(engine, "after_cursor_execute", after)
            sides[size] = (client, stats, (engine, before, after))
        for i in range(n):
            for size, (client, stats, _) in sides.items():
                t = time.perf_counter()
                client.get(fresh_path(path, f"{size}-{i}"))
                stats["t"].append((time.perf_counter() - t) * 1000)
        for _client, _stats, (engine, before, after) in sides.values():
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
        page_result = {size: {"total_ms": statistics.median(st["t"]), "queries": st["n"] / n,
                              "sql_ms": st["sql"] / n * 1000}
                       for size, (_, st, _e) in sides.items()}
        small_by, large_by = sides[HISTORY_SMALL][1]["by"], sides[HISTORY_LARGE][1]["by"]
        slowest = sorted(large_by.items(), key=lambda kv: -kv[1][0])[:2]
        page_result["slowest"] = []
        for statement, (took, params) in slowest:
            with sqlite3.connect(tmp / DB_FILES[HISTORY_LARGE]) as conn:
                plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + statement,
                                                       params or ())]
            page_result["slowest"].append({
                "sql": re.sub(r"\s+", " ", statement), "plan": plan,
                "ms_large": took / n * 1000,
                "ms_small": small_by.get(statement, [0.0])[0] / n * 1000})
        result[page] = page_result
        if page == "board":
            client = sides[HISTORY_LARGE][0]
            prof = cProfile.Profile()
            runs = 50
            prof.enable()
            for i in range(runs):
                client.get(fresh_path(path, f"p-{i}"))
            prof.disable()
            st = pstats.Stats(prof)
            result["profile_text"] = profile_text(st)
            result["breakdown"] = profile_breakdown(st, runs)
    return result


def in_process_pdf(tmp: Path, path: str) -> dict:
    """The same slip PDF through the test client (no server): 10 timed after 3 warm-ups, and
    a cProfile of 5 more."""
    import cProfile
    import pstats

    app = in_process_app(tmp)
    client = app.test_client()
    client.post("/login", data={"username": "supervisor", "password": "demo"})
    for _ in range(3):
        client.get(path)
    times = []
    for _ in range(10):
        t = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - t) * 1000)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(5):
        client.get(path)
    prof.disable()
    st = pstats.Stats(prof)
    parts = {"the view (slips.slip_pdf)": ("views/slips.py", "slip_pdf"),
             "WeasyPrint: parse, style and lay out (HTML.render)": ("weasyprint/__init__.py",
                                                                     "render"),
             "WeasyPrint: write the PDF (Document.write_pdf)": ("weasyprint/document.py",
                                                               "write_pdf"),
             "of which font subsetting (harfbuzz)": ("pdf/fonts.py", "_harfbuzz_subset")}
    breakdown = {label: max((ct for (f, _l, name), (_c, _n, _t, ct, _cl) in st.stats.items()
                             if name == func and part in f), default=0.0) / 5 * 1000
                 for label, (part, func) in parts.items()}
    return {"median": statistics.median(times), "p95": pct(times, 95), "breakdown": breakdown,
            "profile_text": profile_text(st, cumulative=22, own=12)}


def profile_breakdown(st, runs: int) -> dict[str, float]:
    """Cumulative ms per request (under the profiler, so inflated) of the parts that matter."""
    want = {"the view (supervise._board)": ("views/supervise.py", "_board"),
            "reading the board (slips.board)": ("services/slips.py", "board"),
            "SQLite executing statements": ("~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
            "rendering the templates (page_or_partial)": ("web/render.py", "page_or_partial"),
            "the card macro, all cards": ("supervise/_card.html", "macro"),
            "gettext calls from templates": ("jinja2/ext.py", "gettext")}
    out = {}
    for label, (file_part, func) in want.items():
        out[label] = max((ct for (filename, _line, name), (_cc, _nc, _tt, ct, _callers)
                          in st.stats.items() if name == func and file_part in filename),
                         default=0.0) / runs * 1000
    return out


def profile_text(st, cumulative: int = 28, own: int = 15) -> str:
    import io
    parts = []
    for key, count, title in (("cumulative", cumulative, "by cumulative time"),
                              ("tottime", own, "by own time")):
        buf = io.StringIO()
        st.stream = buf
        st.sort_stats(key).print_stats(count)
        parts.append(f"-- {title} --\n" + trim_profile(buf.getvalue()))
    return "\n\n".join(parts)


def trim_profile(text: str) -> str:
    keep = []
    for line in text.splitlines():
        if not line.strip():
            continue
        line = line.replace(str(ROOT) + "/", "").replace(str(VENV_BIN.parent) + "/", "")
        line = re.sub(r"/usr/local/lib/python3\.\d+/", "", line)
        line = re.sub(r"lib/python3\.\d+/site-packages/", "", line)
        keep.append(line)
    start = next((i for i, ln in enumerate(keep) if "ncalls" in ln), 0)
    return "\n".join(keep[start:])


# ---- the doc --------------------------------------------------------------------------------

def machine() -> str:
    import sqlite3
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.release()}")


def kind_of(name: str) -> str:
    """"board, htmx partial, drawn fresh" -> "htmx partial"."""
    return name.split(", ")[1]


def ok(flag: bool) -> str:
    return "met" if flag else "**missed**"


def write_doc(r: dict) -> str:
    small, large = r["rounds"][HISTORY_SMALL], r["rounds"][HISTORY_LARGE]
    bare = large["bare Flask route (ceiling)"]["rps"]
    cached = [n for n in ("board, full page", "board, htmx partial") if n in large]
    fresh = [f"{n}, drawn fresh" for n in cached if f"{n}, drawn fresh" in large]
    # Targets are judged on the board as drawn fresh: a live board asks again only after a
    # change, when its screen-cache entry is new anyway (and each person and session has
    # their own). Repeat asks in one session (wrk) are answered from the cache: shown too.
    judged = fresh or cached
    worst_p95 = max(large[n]["p95"] for n in judged)
    worst_share = min(large[n]["rps"] for n in judged) / bare
    ratios = {}
    for n in judged:
        seq = large["_sequential"][n]["median"] / small["_sequential"][n]["median"]
        load = large[n]["p50"] / small[n]["p50"]
        ratios[n] = (seq, load)
    # Judged on the board's own time (one client at a time, alternating between the files);
    # p50 under load is shown too but mostly measures queueing behind the other 15 clients.
    worst_ratio = max(v[0] for v in ratios.values())
    cached_p95 = max(large[n]["p95"] for n in cached)
    cached_share = min(large[n]["rps"] for n in cached) / bare
    prop = r["propagation"]
    prop_p95 = pct(prop["answer"], 95) if prop["answer"] else float("nan")
    pdf = r["pdf"]
    idle_r = r["idle"]
    met = {
        "board_p95": worst_p95 <= TARGETS["board_p95_ms"],
        "share": worst_share >= TARGETS["board_share"],
        "ratio": worst_ratio <= TARGETS["history_ratio"],
        "prop": prop_p95 <= TARGETS["propagation_p95_s"] and not prop["missed"],
        "pdf": "median" in pdf and pdf["median"] <= TARGETS["pdf_ms"]
               and pdf["p95"] <= TARGETS["pdf_ms"],
    }
    r["met"] = met
    L = [BEGIN, "", "## The slip lifecycle under load (issue 3): board, job list, live, slip PDF",
         "",
         f"Measured {r['when']} by `scripts/bench_slips.py` (`make bench-slips`, also run by "
         f"`make bench`) in {r['took'] / 60:.1f} minutes, on {r['machine']}.",
         "",
         f"- Server: gunicorn {r['gunicorn']} ({r['settings']}), bound to 127.0.0.1; the same "
         "server also serves a bare `Flask()` app on one path (the ceiling) and a do-nothing "
         "route of the real app. Load: `wrk " + " ".join(WRK) + "` (16 connections) on the "
         f"same machine, {WRK[2][2:]} per line; a Lua script sends the session cookie. The "
         "`other CPU` column is the share of the machine's CPU that processes other than "
         "this benchmark, its gunicorn and wrk used during that line (from `/proc/stat`): "
         "near 0% means the line had the machine to itself.",
         f"- Data: SQLite files (WAL) from `flask db upgrade` + `flask seed-demo`; today's open "
         f"slips: {r['live']['open']} ({r['live']['source']}); then historic slips inserted in "
         f"bulk — handed back (92%) or cancelled (8%), spread over 3 years, 1–3 lines and "
         f"2–7 history events each, numbered `YC{{YYYYMM}}-{{NNNN}}` per month with "
         f"`number_sequences` advanced to match. {r['history_small']:,} historic slips "
         f"({r['load_small']:.1f} s), copied to a second file; then "
         f"{r['history_large'] - r['history_small']:,} more ({r['load_large']:.1f} s) in the "
         f"first, for {r['history_large']:,} historic slips, {r['rows']['lines']:,} lines and "
         f"{r['rows']['events']:,} events. No `ANALYZE`. Two servers with the same settings, "
         "one on each file: every line below runs at 1k history and straight after at 100k, "
         "so drift on the machine hits both alike.",
         f"- Signed in as the demo supervisor (board) and the demo worker `worker` (job list). "
         f"The board page is {r['found']['board_bytes'] / 1024:.0f} KB, its partial "
         f"`{r['found'].get('partial') or '—'}` {r['found'].get('partial_bytes', 0) / 1024:.0f} KB, "
         f"the job list {r['found']['field_bytes'] / 1024:.0f} KB.",
         "",
         "### Targets",
         "",
         "| target | measured | |",
         "|---|---|---|",
         f"| board p95 ≤ 25 ms (16 clients, {HISTORY_LARGE:,} history) | drawn fresh: "
         + ", ".join(f"{kind_of(n)} {large[n]['p95']:.1f} ms" for n in judged)
         + "; repeat asks from the screen cache: "
         + ", ".join(f"{kind_of(n)} {large[n]['p95']:.1f} ms" for n in cached)
         + f" ({ok(cached_p95 <= TARGETS['board_p95_ms'])} that way)"
         + f" | {ok(met['board_p95'])} |",
         "| board throughput ≥ 30% of the bare route's | drawn fresh: "
         + ", ".join(f"{kind_of(n)} {large[n]['rps'] / bare:.0%}" for n in judged)
         + "; repeat asks from the screen cache: "
         + ", ".join(f"{kind_of(n)} {large[n]['rps'] / bare:.0%}" for n in cached)
         + f" ({ok(cached_share >= TARGETS['board_share'])} that way; bare {bare:,.0f} req/s)"
         + f" | {ok(met['share'])} |",
         "| board time at 100k history ≤ 1.2× at 1k (drawn fresh, median, one client at a "
         "time) | "
         + ", ".join(f"{kind_of(n)} {v[0]:.2f}× (p50 under load: {v[1]:.2f}×)"
                     for n, v in ratios.items())
         + f" | {ok(met['ratio'])} |",
         f"| change to screen p95 ≤ 1 s | {prop_p95 * 1000:.0f} ms p95, "
         f"{max(prop['answer'] or [float('nan')]) * 1000:.0f} ms max "
         f"({len(prop['answer'])} answers, {prop['missed']} missed) | {ok(met['prop'])} |",
         "| slip PDF ≤ 250 ms warm | "
         + (f"{pdf['median']:.0f} ms median, {pdf['p95']:.0f} ms p95 (HTTP, 20 renders)"
            if "median" in pdf else pdf.get("error", "not measured"))
         + f" | {ok(met['pdf'])} |"]
    hello = large["the app's own hello route"]
    L += ["", f"For scale: under the same 16 connections the app's do-nothing route answers at "
          f"p95 {hello['p95']:.1f} ms and the bare Flask route at p95 "
          f"{large['bare Flask route (ceiling)']['p95']:.1f} ms; 2 processes on 2 cores, with "
          "wrk on the same cores."]
    job_small = small["_sequential"].get("worker's job list")
    job_large = large["_sequential"].get("worker's job list")
    if job_small and job_large:
        job_ratio = job_large["median"] / job_small["median"]
        L += ["", f"Not a target, but measured alike: the worker's job list takes "
              f"{job_large['median']:.1f} ms at {HISTORY_LARGE:,} history against "
              f"{job_small['median']:.1f} ms at {HISTORY_SMALL:,} ({job_ratio:.2f}×, one client "
              "at a time)" + ("; its slowest statement and SQLite's plan for it are below."
                              if job_ratio > TARGETS["history_ratio"] else ".")]
    L += ["",
         "### 16 clients, 2 workers",
         "",
         "| route | history | req/s | % of bare | p50 ms | p95 ms | p99 ms | KB/response | "
         "non-2xx/errors | other CPU |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name in [n for n in large if not n.startswith("_")]:
        for size, rnd in ((HISTORY_SMALL, small), (HISTORY_LARGE, large)):
            base, v = rnd["bare Flask route (ceiling)"]["rps"], rnd[name]
            L.append(f"| {name} `{v['path']}` | {size:,} | {v['rps']:,.0f} | "
                     f"{v['rps'] / base:.0%} | {v['p50']:.1f} | {v['p95']:.1f} | "
                     f"{v['p99']:.1f} | {v['kb']:.1f} | {v['bad']} | {v['other']:.0%} |")
    L += ["", f"`drawn fresh`: every request carries a new `?{FRESH}=…` value, which the "
          "board ignores but its screen cache (app/web/screen_cache.py, keyed by the live "
          "stamp, person, session, language, minute and URL) does not: each request draws "
          "the board as the first ask after a change does. The lines without it repeat one "
          "URL in one session, so nearly every answer comes from the cache."]
    L += ["", "### One client at a time (keep-alive; 200 requests to each server after 20 "
          "warm-ups, alternating request by request between the 1k and the 100k server)", "",
          "| page | median ms at 1k | median ms at 100k | ratio | p95 ms at 1k | p95 ms at 100k |",
          "|---|---:|---:|---:|---:|---:|"]
    for name in large["_sequential"]:
        a, b = small["_sequential"][name], large["_sequential"][name]
        L.append(f"| {name} | {a['median']:.1f} | {b['median']:.1f} | "
                 f"{b['median'] / a['median']:.2f}× | {a['p95']:.1f} | {b['p95']:.1f} |")
    ip = r["in_process"]
    L += ["", "In-process (Flask test client, no server; 60 requests alternating between the "
          "two files, the board drawn fresh each time), per request:", "",
          "| page | history | median ms | SQL statements | time in SQL ms |",
          "|---|---:|---:|---:|---:|"]
    for page, _user, path in IN_PROCESS_PAGES:
        for size in (HISTORY_SMALL, HISTORY_LARGE):
            v = ip[page][size]
            L.append(f"| {page} `{path}` | {size:,} | {v['total_ms']:.1f} | {v['queries']:.0f} | "
                     f"{v['sql_ms']:.1f} |")
    L += ["", f"The slowest statements at {HISTORY_LARGE:,} history, with SQLite's plan for "
          "them (`EXPLAIN QUERY PLAN`; a `SCAN slips` walks the whole history):", ""]
    for page, _user, path in IN_PROCESS_PAGES:
        for q in ip[page]["slowest"]:
            sql = q["sql"] if len(q["sql"]) < 700 else q["sql"][:700] + " …"
            sql = re.sub(r"^SELECT .*? FROM ", "SELECT … FROM ", sql) \
                if sql.count(" FROM ") == 1 else sql
            L += [f"- {page}: {q['ms_small']:.2f} ms at {HISTORY_SMALL:,} → "
                  f"{q['ms_large']:.2f} ms at {HISTORY_LARGE:,} per request; plan: "
                  + "; ".join(f"`{p}`" for p in q["plan"]), "",
                  "  ```sql", f"  {sql}", "  ```"]
    L += ["", f"Where a board request's time goes at {HISTORY_LARGE:,} history (cProfile, "
          "cumulative ms per request; the profiler inflates every figure about alike):", "",
          "| part | ms | share of the view |", "|---|---:|---:|"]
    view_ms = ip["breakdown"]["the view (supervise._board)"] or 1
    for label, ms in ip["breakdown"].items():
        L.append(f"| {label} | {ms:.1f} | {ms / view_ms:.0%} |")
    screen = prop["screen"]
    L += ["", "### Change to screen", "",
          f"{prop['clients']} clients hold `/live/?since=N` open against the 2 workers (so both "
          f"processes' watchers are involved); {prop['changes']} times: {prop['how']}. Each "
          "client's answer is timed from the moment the POST's response arrived (negative: "
          "the screens heard of the change before the supervisor's own response, which carries "
          "the whole board, was back); then the client fetches the board partial as htmx "
          "would (\"on screen\", timed from the POST being sent: all clients refresh at once). "
          "The watcher looks at the change counter every 0.25 s.", "",
          "| | p50 | p95 | max | samples |", "|---|---:|---:|---:|---:|",
          f"| wait answered | {pct(prop['answer'], 50) * 1000:.0f} ms | "
          f"{prop_p95 * 1000:.0f} ms | {max(prop['answer'] or [0]) * 1000:.0f} ms | "
          f"{len(prop['answer'])} |",
          f"| wait answered, from the POST being sent | "
          f"{pct(prop['from_sent'], 50) * 1000:.0f} ms | {pct(prop['from_sent'], 95) * 1000:.0f} ms "
          f"| {max(prop['from_sent'] or [0]) * 1000:.0f} ms | {len(prop['from_sent'])} |",
          f"| slowest client of each change | {pct(prop['worst'], 50) * 1000:.0f} ms | "
          f"{pct(prop['worst'], 95) * 1000:.0f} ms | {max(prop['worst'] or [0]) * 1000:.0f} ms | "
          f"{len(prop['worst'])} |"]
    if screen:
        L.append(f"| partial refreshed (on screen), from the POST being sent | "
                 f"{pct(screen, 50) * 1000:.0f} ms | {pct(screen, 95) * 1000:.0f} ms | {max(screen) * 1000:.0f} ms | "
                 f"{len(screen)} |")
    L.append(f"\nAnswers that never came within 5 s: {prop['missed']}.")
    L += ["", "### The printed slip (PDF)", ""]
    if "median" in pdf:
        L += [f"`GET {pdf['path']}` over HTTP as the supervisor, one client: first request "
              f"{pdf['first']:.0f} ms (a fresh worker), then 4 warm-ups and 20 timed renders: "
              f"median {pdf['median']:.0f} ms, p95 {pdf['p95']:.0f} ms, max "
              f"{pdf['max']:.0f} ms; {pdf['kb']:.0f} KB."]
        if "in_process" in pdf:
            L += ["", f"The same PDF in-process (Flask test client, no server): median "
                  f"{pdf['in_process']['median']:.0f} ms, p95 {pdf['in_process']['p95']:.0f} ms "
                  "over 10 renders after 3 warm-ups."]
            if not met["pdf"]:
                L += ["", "Target missed. Where a render's time goes (cProfile of 5 renders "
                      "in-process, cumulative ms per render, inflated by the profiler):", "",
                      "| part | ms |", "|---|---:|"]
                L += [f"| {label} | {ms:.0f} |"
                      for label, ms in pdf["in_process"]["breakdown"].items()]
                L += ["", "```", pdf["in_process"]["profile_text"], "```"]
    else:
        L += [f"Not measured: {pdf.get('error')}."]
    minutes = idle_r["browser_minutes"]
    per_min_req = idle_r["browser_requests"] / minutes
    per_min_up = idle_r["browser_up"] / minutes
    per_min_down = idle_r["browser_down"] / minutes
    base_cpu = idle_r["baseline_cpu"]
    open_cpu_min = idle_r["open_cpu"] / (idle_r["open_secs"] / 60)
    L += ["", "### Idle cost of an open board (issue 3, item 7)", "",
          f"A real Chromium (`/usr/bin/chromium` through Playwright) opened the board and "
          f"left it for {minutes * 60:.0f} s with nothing happening; every request it finished "
          "in that window was counted with its header and body sizes as Chromium reports "
          f"them (`request.sizes()`). The live wait is held {r['live_wait']:.0f} s "
          "(`LIVE_WAIT_SECONDS`, the default).", "",
          "| one idle board | per minute |", "|---|---:|",
          f"| requests | {per_min_req:.1f} |",
          f"| bytes sent (headers + body) | {per_min_up:,.0f} |",
          f"| bytes received (headers + body) | {per_min_down:,.0f} |",
          f"| total bytes | {per_min_up + per_min_down:,.0f} |", "",
          f"Expected from the wait alone: 60 s / {r['live_wait']:.0f} s = "
          f"{60 / r['live_wait']:.1f} requests a minute (whole requests finished inside a "
          "window of a few waits, so the count above is within one of that).", "",
          "Requests seen in the window, by path: "
          + (", ".join(f"`{p}` × {n}" for p, n in sorted(idle_r["browser_paths"].items()))
             or "none") + ".", "",
          f"Server CPU (user + system of the gunicorn master and both workers, from "
          f"`/proc/<pid>/stat`): {base_cpu:.2f} CPU-seconds over 60 s with no screen open "
          f"(each worker's live watcher reads the counter 4 times a second), and "
          f"{open_cpu_min:.2f} CPU-seconds per minute with {idle_r['waits'] + 1} idle boards open "
          f"(the browser's plus {idle_r['waits']} more waits on `/live/`, each making "
          f"{idle_r['waits_requests_per_min']:.1f} requests and "
          f"{idle_r['waits_down_per_min']:,.0f} response bytes a minute) — "
          f"{open_cpu_min / 60:.1%} of one core, {max(0.0, open_cpu_min - base_cpu):.2f} "
          "CPU-seconds a minute more than with none."]
    if any(not v for k, v in met.items() if k in ("board_p95", "share", "ratio")):
        L += ["", "### Where the board's time goes (target missed)", "",
              f"cProfile of 50 board page requests in-process on the {HISTORY_LARGE:,} "
              "database (py-spy is not available here):", "", "```",
              ip["profile_text"], "```"]
    L += suggestions(r, met)
    L += ["", END, ""]
    return "\n".join(L)


HELLO = "the app's own hello route"
CACHED = ("board, full page", "board, htmx partial")


def suggestions(r: dict, met: dict) -> list[str]:
    """What would meet the missed targets, from this run's own figures."""
    small, large = r["rounds"][HISTORY_SMALL], r["rounds"][HISTORY_LARGE]
    seq, ip = large["_sequential"], r["in_process"]
    out = []
    if not (met["board_p95"] and met["share"]):
        fresh = (seq.get("board, htmx partial, drawn fresh")
                 or seq.get("board, full page, drawn fresh"))
        hit = seq.get("board, htmx partial") or seq.get("board, full page")
        share = {k: v / (ip["breakdown"]["the view (supervise._board)"] or 1)
                 for k, v in ip["breakdown"].items()}
        out += [f"- **Board under 16 clients.** A fresh draw takes {fresh['median']:.1f} ms of "
                f"one core ({share['rendering the templates (page_or_partial)']:.0%} of it the "
                f"templates, {share['the card macro, all cards']:.0%} the card macro, "
                f"{share['gettext calls from templates']:.0%} gettext calls; SQL "
                f"{share['SQLite executing statements']:.0%}), so 16 at once queue behind 2 "
                "processes. A live board asks only after a change, when its per-person, "
                "per-session cache entry is new: share the drawn board between everyone who "
                "sees the same one — key it by stamp, roles and active role, language and "
                "minute (not person and session) and put the session's CSRF token in at serve "
                "time, as `data-now` already is (or leave the token out of the partial: the "
                "body's `hx-headers` carries it) — so each change costs one draw per process "
                "however many boards are open. Then make the card cheaper: one worker list "
                "for the whole board instead of a `<select>` of every worker on every card, "
                "and the card's fixed labels translated once per draw, not once per card.",
                "- **Even from the cache** the board answers 16 clients at p95 "
                f"{max(large[n]['p95'] for n in CACHED if n in large):.1f} ms where the app's "
                f"do-nothing route manages {large[HELLO]['p95']:.1f} ms: a hit still costs "
                f"{hit['median']:.1f} ms one at a time (sign-in check, stamp read, the ~30 KB "
                "body). An `ETag` from the cache key and `304 Not Modified` for a repeat ask "
                "would leave little more than the stamp read."]
    job_small = small["_sequential"].get("worker's job list")
    job_large = seq.get("worker's job list")
    if job_small and job_large and job_large["median"] > TARGETS["history_ratio"] * \
            job_small["median"]:
        out += ["- **Worker's job list.** Its finished-jobs query still reads this worker's "
                "slips through `ix_slips_worker_state (worker_id=?)` — all of them, however "
                "old — to keep the few of today (plan above): SQLite has no statistics here "
                "(no `ANALYZE`), so it prefers the equality on `worker_id` to the short list "
                "of ids. Either write that worker test so no index serves it "
                "(`Slip.worker_id + 0 == worker.id`) and SQLite looks the few ids up instead, "
                "or let SQLite keep statistics (`PRAGMA optimize` when a connection closes, or "
                "after `flask db upgrade`)."]
    if not met["pdf"] and "in_process" in r["pdf"]:
        out += ["- **Slip PDF.** The time is WeasyPrint's own (layout, then writing and font "
                "subsetting; the split is above). A slip's paper changes only when the slip "
                "does: keep the PDF bytes per slip number, version and language, so a reprint "
                "or a second copy is served without rendering."]
    return ["", "### What would meet the missed targets", ""] + out if out else []


def save_doc(section: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Performance\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        text = head + section.rstrip("\n") + "\n" + (("\n" + tail) if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text, encoding="utf-8")


# ---- the run --------------------------------------------------------------------------------

def main() -> int:
    started = time.monotonic()
    if not shutil.which("wrk"):
        print("wrk is missing: sudo apt-get install -y wrk", file=sys.stderr)
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="psd-bench-slips-"))
    log(f"working in {tmp}")
    r: dict = {"when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "machine": machine(), "rounds": {}}
    import gunicorn
    r["gunicorn"] = gunicorn.__version__
    flask_cli(tmp, "db", "upgrade")
    flask_cli(tmp, "seed-demo")
    os.environ.update(env_for(tmp))  # the in-process app reads the same settings
    sys.path.insert(0, str(ROOT))
    app = in_process_app(tmp)
    import logging
    logging.getLogger("weasyprint").setLevel(logging.WARNING)  # a line per render step
    r["live_wait"] = app.config["LIVE_WAIT_SECONDS"]
    r["live"] = ensure_live_slips(app)
    log(f"today's open slips: {r['live']}")
    r["load_small"] = insert_history(app, HISTORY_SMALL - history_count(app), seed=1)
    r["history_small"] = history_count(app)
    copy_db(tmp / DB_FILES[HISTORY_LARGE], tmp / DB_FILES[HISTORY_SMALL])
    log("inserting history ...")
    r["load_large"] = insert_history(app, HISTORY_LARGE - history_count(app), seed=2)
    r["history_large"] = history_count(app)
    servers = {size: Server(tmp, free_port(), DB_FILES[size]) for size in DB_FILES}
    r["settings"] = servers[HISTORY_LARGE].settings
    sides: dict = {}
    try:
        for size, server in servers.items():
            server.start()
            side = sides[size] = {"port": server.port, "server": server,
                                  "sup": sign_in(server.port, "supervisor"),
                                  "worker": sign_in(server.port, "worker")}
            found = side["found"] = discover(server.port, side["sup"], side["worker"])
            found["partial_ok"], found["partial_bytes"] = board_partial_is_real(
                side["sup"], found["partial"])
            log(f"{size:,}: board partial {found['partial']} ok={found['partial_ok']}")
        r["found"] = {k: v for k, v in sides[HISTORY_LARGE]["found"].items()
                      if k != "board_html"}
        r["rounds"] = load_rounds(tmp, sides)
        servers[HISTORY_SMALL].stop()
        big, port = sides[HISTORY_LARGE], servers[HISTORY_LARGE].port
        log("change to screen ...")
        r["propagation"] = propagation(port, big["sup"], big["found"])
        log(f"   p95 {pct(r['propagation']['answer'], 95) * 1000:.0f} ms")
        log("slip PDF ...")
        r["pdf"] = pdf_timing(port, big["sup"])
        log(f"   {r['pdf']}")
        log(f"idle: a 60 s baseline, then a browser for {IDLE_SECONDS} s ...")
        r["idle"] = idle(tmp, servers[HISTORY_LARGE], port, big["sup"], big["found"])
    finally:
        for server in servers.values():
            server.stop()
    log("in-process board and job list, both files ...")
    r["in_process"] = in_process_board(tmp)
    if "path" in r["pdf"] and "median" in r["pdf"]:
        log("in-process slip PDF ...")
        r["pdf"]["in_process"] = in_process_pdf(tmp, r["pdf"]["path"])
    with app.app_context():
        from sqlalchemy import func, select

        from app.extensions import db
        from app.models.slips import SlipEvent, SlipLine
        r["rows"] = {"lines": db.session.scalar(select(func.count()).select_from(SlipLine)),
                     "events": db.session.scalar(select(func.count()).select_from(SlipEvent))}
    r["took"] = time.monotonic() - started
    import pickle
    saved = tmp.parent / "bench-slips-results.pickle"
    saved.write_bytes(pickle.dumps(r))  # `--doc-from` writes the doc again from these figures
    section = write_doc(r)
    if QUICK:
        (tmp.parent / "bench-slips-quick.md").write_text(section)
    else:
        save_doc(section)
    print(section)
    (tmp / "results.json").write_text(json.dumps(
        {k: v for k, v in r.items() if k != "in_process"}, default=str, indent=1))
    missed = [k for k, v in r["met"].items() if not v]
    log("targets missed: " + (", ".join(missed) if missed else "none"))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--doc-from":  # the doc again, same figures
        import pickle
        save_doc(write_doc(pickle.loads(Path(sys.argv[2]).read_bytes())))
        sys.exit(0)
    if len(sys.argv) == 6 and sys.argv[1] == "--browser-idle":  # the child process of idle()
        _, _, url, cookies, seconds, out = sys.argv
        browser_idle(url, json.loads(cookies), int(seconds), Path(out))
        sys.exit(0)
    sys.exit(main())
