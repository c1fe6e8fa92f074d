#!/usr/bin/env python3
"""Money under load (issue 4). `make bench-money` (also run by `make bench`).

In-process (the app's own time: services, SQL, templates, WeasyPrint; Flask's test client
where the HTTP layer is included), on a throwaway SQLite file and, when the PostgreSQL server
binaries are installed, on a throwaway PostgreSQL (tests/pg.py) as well. Each database runs in
its own child process. The database: `flask db upgrade` + the demo (`seed-demo`), then what
each measurement needs, written in bulk with SQLAlchemy core (slips, lines, account entries,
statements, payments with RC numbers taken from the same counters the app uses) or through
the billing services where the service itself is what is measured or what makes the data.

1. Taking a payment: `billing.take_payment` + commit per finished slip, one after another;
   the same through HTTP (the cashier's POST); 20 threads paying 20 slips at the same moment
   (receipt numbers asserted distinct and consecutive) against 20 paid one after another.
2. Month end: N units with three reviewed account entries each (bulk), then
   `start_month_end` + `run_step(batch=25)` + commit until finished; a second run (0 new
   statements, asserted); the finished run's page.
3. PDFs, warm: a receipt (A5), a 100-entry statement (A4), the day's cash report with 200
   payments (taken through `take_payment` under `clock.at`), over HTTP.
4. The cashier's queue `/cashier/` with about 30 rows waiting, with 1,000 and with 100,000
   historic payments (bulk, each with its closed slip).
5. The unit account page `/cashier/units/<key>` for a unit with three years of history,
   against a unit with one month.

Results go into docs/PERFORMANCE.md between the bench-money markers (appended at the end when
the markers are absent); the rest of the file is left alone. BENCH_QUICK=1: a fast dry run of
the harness with small sizes; the doc is not written.
"""
from __future__ import annotations

import json
import os
import platform
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DOC = ROOT / "docs" / "PERFORMANCE.md"
BEGIN, END = "<!-- bench-money:begin -->", "<!-- bench-money:end -->"

QUICK = os.environ.get("BENCH_QUICK") == "1"
PAYMENTS = 300            # one after another, services
HTTP_PAYMENTS = 60        # one after another, the cashier's POST
PARALLEL = 20
MONTH_END_SIZES = (500, 2_000)
ENTRIES_PER_UNIT = 3
STATEMENT_ENTRIES = 100
DAY_PAYMENTS = 200
QUEUE_WAITING = 30        # rows wanted in the queue (the demo's own count towards it)
HISTORY_SMALL, HISTORY_LARGE = 1_000, 100_000
PDF_RENDERS = 5
PAGE_REQUESTS = 40
if QUICK:
    PAYMENTS, HTTP_PAYMENTS, MONTH_END_SIZES = 40, 10, (60, 150)
    DAY_PAYMENTS, HISTORY_LARGE, PDF_RENDERS, PAGE_REQUESTS = 40, 5_000, 2, 8

SECRET = "bench-money-not-a-secret"
METHODS = ("cash", "wechat", "alipay", "card", "bank_transfer")


# ---- small helpers --------------------------------------------------------------------------

def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def stats(samples: list[float]) -> dict:
    """Median, p95, max and count of timings in ms."""
    return {"median": statistics.median(samples), "p95": pct(samples, 95),
            "max": max(samples), "n": len(samples)}


def ms_since(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


class SqlCount:
    """Counts the SQL statements the engine sends (a before_cursor_execute listener)."""

    def __init__(self, engine):
        from sqlalchemy import event
        self.n = 0
        self.on = False
        self.seen: list[str] = []
        self.keep = False

        def count(conn, cursor, statement, params, context, executemany):
            if self.on:
                self.n += 1
                if self.keep:
                    self.seen.append(statement)
        event.listen(engine, "before_cursor_execute", count)

    @contextmanager
    def __call__(self, keep: bool = False):
        self.n, self.on, self.keep, self.seen = 0, True, keep, []
        try:
            yield self
        finally:
            self.on = False


def month_back(today: date, k: int) -> str:
    """'YYYY-MM' of the month k months before today's."""
    y, m = today.year, today.month - k
    while m <= 0:
        y, m = y - 1, m + 12
    return f"{y:04d}-{m:02d}"


def machine() -> dict:
    import sqlite3
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "os": f"{platform.system()} {platform.release()}"}


# ---- the app on a throwaway database --------------------------------------------------------

def make_app(url: str, tmp: Path):
    from app import create_app
    from app.config import Config

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        # 20 tills at once each need a connection of their own.
        SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = {
            "pool_pre_ping": True, "pool_size": PARALLEL + 4, "max_overflow": 0,
            "pool_timeout": 60}
        INSTANCE_PATH = tmp / "instance"
        SECRET_KEY = SECRET
        WTF_CSRF_ENABLED = False  # the test client posts forms without reading their tokens
        LIVE_WAIT_SECONDS = 0

    (tmp / "instance").mkdir(parents=True, exist_ok=True)
    return create_app(BenchConfig)


def signed_in(app, username: str):
    client = app.test_client()
    resp = client.post("/login", data={"username": username, "password": "demo"})
    if resp.status_code != 302:
        raise RuntimeError(f"could not sign in as {username}: HTTP {resp.status_code}")
    return client


class Store:
    """Bulk writing with SQLAlchemy core: slips with lines and two events, payments numbered
    from the app's own counters, account entries, statements. Call inside an app context."""

    def __init__(self, rng: random.Random):
        from zoneinfo import ZoneInfo

        from sqlalchemy import select

        from app.extensions import db
        from app.models import Unit, User
        from app.models.counters import NumberSequence
        from app.models.property import Resident
        from app.services import catalogue
        from app.services.settings import property_settings

        self.rng = rng
        self.tz = ZoneInfo(property_settings().timezone)
        self.users = {u.username: u.id for u in db.session.scalars(select(User))}
        self.cashiers = [i for n, i in self.users.items() if n.startswith("cashier")]
        pl = catalogue.in_force()
        self.price_list_id = pl.id
        self.items = [(i.id, i.code, i.name_zh, i.name_en, i.unit, i.price_min_fen)
                      for i in pl.items if not i.free and not i.by_workload
                      and i.price_min_fen and i.price_min_fen == i.price_max_fen]
        self.units = list(db.session.scalars(select(Unit.id).order_by(Unit.id)))
        self.residents: dict[int, list[tuple]] = {}
        for rid, uid, name, phone, kind in db.session.execute(
                select(Resident.id, Resident.unit_id, Resident.name, Resident.phone,
                       Resident.kind).where(Resident.active.is_(True))):
            self.residents.setdefault(uid, []).append((rid, name, phone, kind))
        self.seqs = dict(db.session.execute(select(NumberSequence.series,
                                                   NumberSequence.last)).all())
        self.known = set(self.seqs)

    # numbers, in the property's month, from the same counters the app uses
    def number(self, prefix: str, at: datetime) -> str:
        series = prefix + at.astimezone(self.tz).strftime("%Y%m")
        self.seqs[series] = self.seqs.get(series, 0) + 1
        return f"{series}-{self.seqs[series]:04d}"

    def save_numbers(self) -> None:
        from sqlalchemy import insert, update

        from app.extensions import db
        from app.models.counters import NumberSequence
        for series, last in self.seqs.items():
            if series in self.known:
                db.session.execute(update(NumberSequence)
                                   .where(NumberSequence.series == series).values(last=last))
            else:
                db.session.execute(insert(NumberSequence).values(series=series, last=last))
                self.known.add(series)

    def resident(self, unit_id: int, kind: str | None = None) -> tuple:
        rows = [r for r in self.residents.get(unit_id, []) if kind is None or r[3] == kind]
        return rows[0] if rows else (None, "", "", None)

    def slips(self, specs: list[dict]) -> list[tuple[int, str, int]]:
        """Insert slips; each spec: unit_id, state, route, at (completed, UTC), and optionally
        errand, purchase_fen, purchase_spent_fen, lines, kind (resident kind). Returns (id,
        number, total_fen) in order."""
        from sqlalchemy import insert

        from app.extensions import db
        from app.models.slips import Slip, SlipEvent, SlipLine

        clerk, sup = self.users["clerk"], self.users["supervisor"]
        worker = self.users.get("worker") or clerk
        rows, lines_of = [], []
        for s in specs:
            at: datetime = s["at"]
            created = at - timedelta(hours=3)
            res = self.resident(s["unit_id"], s.get("kind"))
            lines, total = [], 0
            for _ in range(s.get("lines") or self.rng.choice((1, 1, 2, 3))):
                iid, code, zh, en, unit_name, price = self.rng.choice(self.items)
                qty = self.rng.choice((1, 1, 1, 2))
                total += price * qty
                lines.append({"price_item_id": iid, "code": code, "name_zh": zh,
                              "name_en": en or "", "unit": unit_name, "quantity": qty,
                              "list_min_fen": price, "list_max_fen": price,
                              "by_workload": False, "free": False, "unit_price_fen": price,
                              "final_price_fen": price, "needs_approval": False,
                              "approved_by_id": None, "approved_at": None})
            done = s["state"] not in ("registered",)
            rows.append({
                "number": self.number("YC", created), "state": s["state"], "version": 7,
                "reception_id": None, "unit_id": s["unit_id"], "resident_id": res[0],
                "contact_name": res[1], "contact_phone": res[2], "request": "", "notes": "",
                "urgent": False, "free": False, "window_start": created + timedelta(hours=1),
                "window_end": created + timedelta(hours=3), "price_list_id": self.price_list_id,
                "quoted_total_fen": total, "agreed_total_fen": total if done else None,
                "created_at": created, "received_by_id": clerk,
                "dispatched_by_id": sup if done else None, "worker_id": worker if done else None,
                "due_at": created + timedelta(hours=3), "paused_since": None,
                "checked_in_at": at - timedelta(hours=1) if done else None,
                "nobody_home_count": 0, "damage_note": "", "materials": "",
                "acceptance_name": res[1] if done else "", "signature_file": "",
                "satisfied": True if done else None, "acceptance_remarks": "",
                "completed_at": at if done else None,
                "handed_back_at": at + timedelta(hours=2) if s["state"] in (
                    "handed_back", "closed") else None,
                "cancel_reason": "", "pay_route": s["route"], "errand": s.get("errand", False),
                "purchase_fen": s.get("purchase_fen", 0),
                "purchase_spent_fen": s.get("purchase_spent_fen"), "updated_at": at})
            lines_of.append((lines, total))
        out = []
        for start in range(0, len(rows), 5000):
            chunk = rows[start:start + 5000]
            ids = db.session.execute(insert(Slip.__table__).returning(
                Slip.__table__.c.id, sort_by_parameter_order=True), chunk).scalars().all()
            line_rows, events = [], []
            for sid, row, (lines, total) in zip(ids, chunk, lines_of[start:start + 5000]):
                line_rows += [dict(line, slip_id=sid) for line in lines]
                events.append({"slip_id": sid, "at": row["created_at"], "actor_id": clerk,
                               "action": "open", "from_state": None, "to_state": "registered",
                               "note": "", "data": None, "request_key": None})
                if row["completed_at"] is not None:
                    events.append({"slip_id": sid, "at": row["completed_at"], "actor_id": worker,
                                   "action": "complete", "from_state": "in_progress",
                                   "to_state": "completed", "note": "", "data": None,
                                   "request_key": None})
                out.append((sid, row["number"], total))
            db.session.execute(insert(SlipLine.__table__), line_rows)
            db.session.execute(insert(SlipEvent.__table__), events)
        self.save_numbers()
        return out

    def payments(self, rows: list[dict]) -> list[int]:
        """Insert payments; each row: kind, method, amount_fen, unit_id, at, and optionally
        slip_id, statement_id, deposit_fen, numbered (default yes), reverses_id, note."""
        from sqlalchemy import insert

        from app.extensions import db
        from app.models.billing import Payment
        full = [{"number": self.number("RC", r["at"]) if r.get("numbered", True) else None,
                 "kind": r["kind"], "method": r["method"], "amount_fen": r["amount_fen"],
                 "deposit_fen": r.get("deposit_fen", 0), "unit_id": r["unit_id"],
                 "slip_id": r.get("slip_id"), "statement_id": r.get("statement_id"),
                 "refund_id": None, "payer_name": r.get("payer_name", ""),
                 "cashier_id": r.get("cashier_id") or self.rng.choice(self.cashiers),
                 "at": r["at"], "note": r.get("note", ""), "reverses_id": r.get("reverses_id"),
                 "request_key": None} for r in rows]
        ids: list[int] = []
        for start in range(0, len(full), 5000):
            ids += db.session.execute(insert(Payment.__table__).returning(
                Payment.__table__.c.id, sort_by_parameter_order=True),
                full[start:start + 5000]).scalars().all()
        self.save_numbers()
        return ids

    def entries(self, rows: list[dict]) -> None:
        from sqlalchemy import insert

        from app.extensions import db
        from app.models.billing import AccountEntry
        sup = self.users["supervisor"]
        full = [{"unit_id": r["unit_id"], "slip_id": r["slip_id"], "month": r["month"],
                 "amount_fen": r["amount_fen"],
                 "description": r.get("description", "疏通下水×1"),
                 "signed_name": r.get("signed_name", "业主"),
                 "created_by_id": self.users.get("worker") or sup, "created_at": r["at"],
                 "reviewed_by_id": sup, "reviewed_at": r["at"] + timedelta(days=1),
                 "statement_id": r.get("statement_id"), "reverses_id": None, "reason": ""}
                for r in rows]
        for start in range(0, len(full), 5000):
            db.session.execute(insert(AccountEntry.__table__), full[start:start + 5000])

    def statement(self, unit_id: int, month: str, total: int, at: datetime) -> int:
        from sqlalchemy import insert

        from app.extensions import db
        from app.models.billing import Statement
        return db.session.execute(insert(Statement.__table__).returning(
            Statement.__table__.c.id), [{"unit_id": unit_id, "month": month, "total_fen": total,
                                         "created_at": at, "created_by_id": self.cashiers[0],
                                         "run_id": None}]).scalar_one()

    def local(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime(day.year, day.month, day.day, hour, minute,
                        tzinfo=self.tz).astimezone(UTC)

    def in_month(self, month: str) -> datetime:
        """A working moment inside a month, property time (days 1-27, 08:00-18:59)."""
        y, m = int(month[:4]), int(month[5:7])
        return self.local(date(y, m, self.rng.randint(1, 27)), self.rng.randint(8, 18),
                          self.rng.randint(0, 59))


def add_units(count: int) -> None:
    """More units (each with an owner), for month end over more units than the demo's 420."""
    from sqlalchemy import insert, select

    from app.domain.addresses import unit_key, unit_label
    from app.extensions import db
    from app.models import Building, Unit
    from app.models.property import Resident
    from app.services import property as prop
    have = set(db.session.scalars(select(Unit.search_key)))
    codes = set(db.session.scalars(select(Building.code)))
    units, n, code = [], 0, 100
    while n < count:
        code += 1
        if f"B{code}" in codes:
            continue
        building = prop.create_building(f"B{code}")
        for entrance in range(1, 5):
            for floor in range(1, 33):
                for door in range(1, 5):
                    number = f"{floor:02d}{door:02d}"
                    key = unit_key(building.code, entrance, number)
                    if n >= count or key in have:
                        continue
                    units.append({"building_id": building.id, "entrance": entrance,
                                  "number": number, "search_key": key, "area_m2": 90, "note": "",
                                  "label": unit_label(building.code, entrance, number)})
                    n += 1
    ids = db.session.execute(insert(Unit.__table__).returning(
        Unit.__table__.c.id, sort_by_parameter_order=True), units).scalars().all()
    now = datetime.now(UTC)
    db.session.execute(insert(Resident.__table__), [
        {"unit_id": uid, "name": f"业主{uid}", "kind": "owner", "phone": f"139{uid:08d}",
         "phone2": "", "notes": "", "active": True, "created_at": now} for uid in ids])


# ---- 1. taking a payment --------------------------------------------------------------------

def finished_specs(store: Store, n: int, *, route: str = "pay_now",
                   at: datetime | None = None) -> list[dict]:
    at = at or datetime.now(UTC) - timedelta(hours=2)
    owners = [u for u in store.units if store.residents.get(u)]
    return [{"unit_id": store.rng.choice(owners), "route": route, "at": at,
             "state": store.rng.choice(("completed", "handed_back"))} for _ in range(n)]


def consecutive(numbers: list[str]) -> tuple[bool, str]:
    """Distinct, one series, no gap."""
    series = {n.rsplit("-", 1)[0] for n in numbers}
    seq = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    ok = (len(series) == 1 and len(set(seq)) == len(seq)
          and seq == list(range(seq[0], seq[0] + len(seq))))
    return ok, f"{min(numbers)} … {max(numbers)}"


def pay_one_after_another(app, sql: SqlCount, slips: list[tuple]) -> dict:
    from app.extensions import db
    from app.models import User
    from app.models.slips import Slip
    from app.services import billing

    lat, counts, numbers = [], [], []
    with app.app_context():
        cashier = db.session.get(User, user_ids(app)["cashier"])
        for k, (sid, _number, total) in enumerate(slips):
            slip = db.session.get(Slip, sid)
            with sql():
                t0 = time.perf_counter()
                p = billing.take_payment(slip, cashier, METHODS[k % 5], total,
                                         request_key=secrets.token_urlsafe(16))
                db.session.commit()
                lat.append(ms_since(t0))
                counts.append(sql.n)
            numbers.append(p.number)
        db.session.remove()
    ok, span = consecutive(numbers)
    assert ok, f"receipt numbers not consecutive: {span}"
    return {**stats(lat), "sql": statistics.median(counts), "numbers": span,
            "total_s": sum(lat) / 1000}


_USERS: dict = {}


def user_ids(app) -> dict:
    """Every username's id, read once per app."""
    if id(app) not in _USERS:
        from sqlalchemy import select

        from app.extensions import db
        from app.models import User
        with app.app_context():
            _USERS[id(app)] = {u.username: u.id for u in db.session.scalars(select(User))}
    return _USERS[id(app)]


def pay_over_http(app, sql: SqlCount, slips: list[tuple]) -> dict:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models.billing import Payment
    from app.models.slips import Slip

    client = signed_in(app, "cashier")
    lat, counts = [], []
    with app.app_context():
        versions = dict(db.session.execute(select(Slip.id, Slip.version).where(
            Slip.id.in_([s[0] for s in slips]))).all())
        before = db.session.scalar(select(func.count()).select_from(Payment))
        db.session.remove()
    for k, (sid, number, total) in enumerate(slips):
        form = {"amount": f"{total / 100:.2f}", "method": METHODS[k % 5], "payer_name": "",
                "note": "", "version": str(versions[sid]),
                "request_key": secrets.token_urlsafe(16)}
        with sql():
            t0 = time.perf_counter()
            resp = client.post(f"/cashier/slips/{number}/pay", data=form,
                               headers={"HX-Request": "true"})
            lat.append(ms_since(t0))
            counts.append(sql.n)
        if resp.status_code != 200:
            raise RuntimeError(f"HTTP pay {number}: {resp.status_code} "
                               f"{resp.get_data(as_text=True)[:400]}")
    with app.app_context():
        made = db.session.scalar(select(func.count()).select_from(Payment)) - before
        db.session.remove()
    assert made == len(slips), f"{made} receipts for {len(slips)} HTTP payments"
    return {**stats(lat), "sql": statistics.median(counts)}


def pay_in_parallel(app, slips: list[tuple]) -> dict:
    """Each slip by its own thread (own app context, session and connection), all released
    by one barrier; the wall time from the release until the last commit."""
    from app.extensions import db
    from app.models import User
    from app.models.slips import Slip
    from app.services import billing

    users = user_ids(app)
    cashier_ids = [i for n, i in users.items() if n.startswith("cashier")]
    barrier = threading.Barrier(len(slips) + 1)
    out: list = [None] * len(slips)

    def run(i: int, sid: int, total: int) -> None:
        with app.app_context():
            try:
                slip = db.session.get(Slip, sid)
                cashier = db.session.get(User, cashier_ids[i % len(cashier_ids)])
                billing.owed_fen(slip)
                barrier.wait(timeout=60)
                t0 = time.perf_counter()
                p = billing.take_payment(slip, cashier, METHODS[i % 5], total,
                                         request_key=secrets.token_urlsafe(16))
                db.session.commit()
                out[i] = (p.number, ms_since(t0))
            except Exception as err:  # noqa: BLE001 - reported below
                db.session.rollback()
                out[i] = ("error", repr(err))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, sid, total))
               for i, (sid, _n, total) in enumerate(slips)]
    for t in threads:
        t.start()
    barrier.wait(timeout=60)
    t0 = time.perf_counter()
    for t in threads:
        t.join(timeout=120)
    wall = ms_since(t0)
    errors = [o for o in out if o is None or o[0] == "error"]
    assert not errors, f"parallel payments failed: {errors[:3]}"
    numbers = [o[0] for o in out]
    ok, span = consecutive(numbers)
    assert ok, f"20 parallel receipts not distinct and consecutive: {sorted(numbers)}"
    return {"wall_ms": wall, "each": stats([o[1] for o in out]), "numbers": span,
            "consecutive": ok, "threads": len(slips)}


def section_payments(app, sql: SqlCount, rng: random.Random) -> dict:
    from app.extensions import db
    with app.app_context():
        store = Store(rng)
        seq = store.slips(finished_specs(store, PAYMENTS))
        http = store.slips(finished_specs(store, HTTP_PAYMENTS))
        serial = store.slips(finished_specs(store, PARALLEL))
        parallel = store.slips(finished_specs(store, PARALLEL))
        db.session.commit()
        db.session.remove()
    log(f"  {PAYMENTS} payments one after another ...")
    r = {"services": pay_one_after_another(app, sql, seq)}
    log(f"    median {r['services']['median']:.1f} ms, p95 {r['services']['p95']:.1f} ms")
    log(f"  {HTTP_PAYMENTS} payments over HTTP ...")
    r["http"] = pay_over_http(app, sql, http)
    log(f"    median {r['http']['median']:.1f} ms")
    t0 = time.perf_counter()
    pay_one_after_another(app, sql, serial)
    r["serial_wall_ms"] = ms_since(t0)
    log(f"  {PARALLEL} at once ...")
    r["parallel"] = pay_in_parallel(app, parallel)
    log(f"    {r['parallel']['wall_ms']:.0f} ms (one after another: "
        f"{r['serial_wall_ms']:.0f} ms), {r['parallel']['numbers']}")
    return r


# ---- 2. month end ---------------------------------------------------------------------------

def entries_for(store: Store, unit_ids: list[int], month: str, per_unit: int) -> dict:
    """per_unit reviewed account entries for each unit in `month` (their slips on account)."""
    specs = [{"unit_id": u, "route": "on_account", "state": "on_account", "kind": "owner",
              "at": store.in_month(month)} for u in unit_ids for _ in range(per_unit)]
    slips = store.slips(specs)
    store.entries([{"unit_id": s["unit_id"], "slip_id": sid, "month": month, "amount_fen": total,
                    "at": s["at"]} for s, (sid, _n, total) in zip(specs, slips)])
    return {"entries": len(slips), "total_fen": sum(t for _s, _n, t in slips)}


def run_month_end(app, month: str) -> dict:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import User
    from app.services import billing

    with app.app_context():
        cashier = db.session.get(User, user_ids(app)["cashier"])
        steps = []
        t0 = time.perf_counter()
        run = billing.start_month_end(month, cashier)
        db.session.commit()
        while run.finished_at is None:
            ts = time.perf_counter()
            billing.run_step(run, cashier, batch=25)
            db.session.commit()
            steps.append(ms_since(ts))
        wall = ms_since(t0)
        out = {"run_id": run.id, "wall_ms": wall, "steps": stats(steps) if steps else None,
               "made": run.statements_made, "units_done": run.units_done,
               "total_fen": run.total_fen}
        from app.models.billing import Statement
        out["statements_for_month"] = db.session.scalar(
            select(func.count()).select_from(Statement).where(Statement.month == month))
        db.session.remove()
    return out


def section_month_end(app, sql: SqlCount, rng: random.Random, today: date,
                      sizes: tuple[int, ...], with_page: bool) -> dict:
    from app.extensions import db
    out: dict = {"sizes": {}}
    with app.app_context():
        store = Store(rng)
        need = max(sizes) + 1 - len(store.units)
        t0 = time.perf_counter()
        if need > 0:
            add_units(need)
            db.session.commit()
        out["units_added_s"] = time.perf_counter() - t0
        db.session.remove()
    for k, n in enumerate(sizes):
        month = month_back(today, 28 - k)
        with app.app_context():
            store = Store(rng)
            t0 = time.perf_counter()
            made = entries_for(store, store.units[:n], month, ENTRIES_PER_UNIT)
            db.session.commit()
            db.session.remove()
        load_s = time.perf_counter() - t0
        log(f"  month end {month}: {n:,} units, {made['entries']:,} entries "
            f"(inserted in {load_s:.1f} s) ...")
        first = run_month_end(app, month)
        assert first["made"] == n == first["statements_for_month"], first
        assert first["total_fen"] == made["total_fen"], (first, made)
        again = run_month_end(app, month)
        assert again["made"] == 0 and again["statements_for_month"] == n, again
        row = {"month": month, "entries": made["entries"], "load_s": load_s, "first": first,
               "again": again, "units_per_s": n / (first["wall_ms"] / 1000)}
        log(f"    {first['wall_ms'] / 1000:.1f} s ({row['units_per_s']:.0f} units/s); "
            f"again: {again['wall_ms']:.0f} ms, {again['made']} made")
        if with_page:
            client = signed_in(app, "cashier")
            path = f"/cashier/month-end/runs/{first['run_id']}"
            client.get(path)
            lat, counts = [], []
            for _ in range(3):
                with sql():
                    t0 = time.perf_counter()
                    resp = client.get(path)
                    lat.append(ms_since(t0))
                    counts.append(sql.n)
                assert resp.status_code == 200
            row["page"] = {**stats(lat), "sql": counts[-1], "kb": len(resp.data) / 1024}
            log(f"    finished run's page: {row['page']['median']:.0f} ms, "
                f"{row['page']['sql']} SQL statements")
        out["sizes"][n] = row
    return out


# ---- 3. PDFs ---------------------------------------------------------------------------------

def pdf_info(data: bytes) -> tuple[int | str, str]:
    """Pages and paper (A4, A5, else millimetres) from poppler's pdfinfo."""
    try:
        info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, timeout=30,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "?", "?"
    pages = re.search(rb"Pages:\s+(\d+)", info.stdout)
    size = re.search(rb"Page size:\s+([\d.]+) x ([\d.]+) pts(?: \((\w+)\))?", info.stdout)
    paper = "?"
    if size:
        w, h = (float(size.group(i)) * 25.4 / 72 for i in (1, 2))
        named = {(148, 210): "A5", (210, 297): "A4"}.get((round(w), round(h)))
        paper = (size.group(3).decode() if size.group(3) else named) or f"{w:.0f}×{h:.0f} mm"
    return (int(pages.group(1)) if pages else "?"), paper


def pdf_split(template: str, context: dict) -> dict | None:
    """render_pdf's three parts, timed apart: the HTML (Jinja), WeasyPrint's layout, and the
    writing of the PDF (fonts subset and embedded). Mirrors app.services.pdf.render_pdf."""
    try:
        from flask import current_app
        from weasyprint import HTML

        from app.services import pdf
        t0 = time.perf_counter()
        html = pdf.render_document_html(template, {**context, "for_print": True})
        t1 = time.perf_counter()
        static = Path(current_app.static_folder)
        sheets = [pdf._stylesheet(static, href) for href in pdf._STYLESHEET_LINK.findall(html)]
        html = pdf._STYLESHEET_LINK.sub("", html)
        doc = HTML(string=html, base_url=static.as_uri() + "/",
                   url_fetcher=pdf._fetcher_class()(static)).render(
            stylesheets=sheets, font_config=pdf._font_config())
        t2 = time.perf_counter()
        doc.write_pdf()
        t3 = time.perf_counter()
    except (AttributeError, ImportError, TypeError):  # render_pdf changed shape: skip
        return None
    return {"html_ms": (t1 - t0) * 1000, "layout_ms": (t2 - t1) * 1000,
            "write_ms": (t3 - t2) * 1000, "html_kb": len(html.encode()) / 1024}


def time_pdf(app, sql: SqlCount, client, path: str, context_fn, template: str) -> dict:
    """First render, then warm renders over HTTP; the context alone (SQL and Python) apart."""
    t0 = time.perf_counter()
    first = client.get(path)
    first_ms = ms_since(t0)
    if first.status_code != 200 or first.mimetype != "application/pdf":
        raise RuntimeError(f"{path}: HTTP {first.status_code}")
    lat, counts = [], []
    for _ in range(PDF_RENDERS):
        with sql():
            t0 = time.perf_counter()
            resp = client.get(path)
            lat.append(ms_since(t0))
            counts.append(sql.n)
    ctx = []
    with app.test_request_context():
        from flask_login import login_user

        from app.extensions import db
        from app.models import User
        login_user(db.session.get(User, user_ids(app)["cashier"]))
        for _ in range(3):
            db.session.expire_all()
            with sql() as c:
                t0 = time.perf_counter()
                context = context_fn()
                ctx.append(ms_since(t0))
        ctx_sql = c.n
        split = pdf_split(template, context)
        db.session.remove()
    pages, paper = pdf_info(resp.data)
    return {"first_ms": first_ms, **stats(lat), "sql": statistics.median(counts),
            "kb": len(resp.data) / 1024, "pages": pages, "paper": paper,
            "context_ms": statistics.median(ctx), "context_sql": ctx_sql, "split": split}


def day_with_payments(app, rng: random.Random, today: date, count: int) -> tuple[date, dict]:
    """A past day with no money yet; `count` payments on it through `take_payment` under
    `clock.at`, three cashiers, five methods; two receipts voided; cash counted."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import User
    from app.models.billing import Payment
    from app.models.slips import Slip
    from app.services import billing, clock

    with app.app_context():
        day = today - timedelta(days=400)
        while True:
            start, end = clock.day_bounds(day)
            if not db.session.scalar(select(func.count()).select_from(Payment).where(
                    Payment.at >= start, Payment.at < end)):
                break
            day -= timedelta(days=1)
        store = Store(rng)
        made = store.slips(finished_specs(store, count, at=store.local(day, 8)))
        db.session.commit()
        users = user_ids(app)
        cashiers = [db.session.get(User, users[n]) for n in sorted(users)
                    if n.startswith("cashier")] or [db.session.get(User, users["cashier"])]
        t0 = time.perf_counter()
        payments = []
        for k, (sid, _n, total) in enumerate(made):
            at = store.local(day, 9) + timedelta(seconds=k * 30000 // count)
            with clock.at(at):
                slip = db.session.get(Slip, sid)
                p = billing.take_payment(slip, cashiers[k % len(cashiers)],
                                         rng.choice(METHODS + ("cash", "cash", "wechat")),
                                         total, request_key=secrets.token_urlsafe(16))
                db.session.commit()
                payments.append(p.number)
        for number in payments[5:7]:
            with clock.at(store.local(day, 18)):
                billing.void(billing.receipt(number), cashiers[0], "bench: keyed twice")
                db.session.commit()
        with clock.at(store.local(day, 19)):
            for c in cashiers:
                billing.count_cash(day, c, 100_000)
        db.session.commit()
        took = time.perf_counter() - t0
        n = db.session.scalar(select(func.count()).select_from(Payment).where(
            Payment.at >= start, Payment.at < end))
        db.session.remove()
    return day, {"payments": n, "cashiers": len(cashiers), "made_s": took}


def section_pdfs(app, sql: SqlCount, rng: random.Random, today: date, receipt_number: str,
                 statement: tuple[str, str]) -> dict:
    import logging
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    from app.extensions import db
    from app.services import billing
    from app.services.money_documents import (
        cash_report_context,
        receipt_context,
        statement_context,
    )

    log(f"  {DAY_PAYMENTS} payments on a past day through take_payment ...")
    day, made = day_with_payments(app, rng, today, DAY_PAYMENTS)
    client = signed_in(app, "cashier")
    key, month = statement
    out = {"day": day.isoformat(), "day_made": made}
    log("  receipt PDF ...")
    out["receipt"] = time_pdf(app, sql, client, f"/receipts/{receipt_number}.pdf",
                              lambda: receipt_context(billing.receipt(receipt_number), "zh_CN"),
                              "pdf/receipt.html")
    log("  statement PDF ...")
    out["statement"] = time_pdf(
        app, sql, client, f"/statements/{key}/{month}.pdf",
        lambda: statement_context(billing.statement_of(billing.unit_by_key(key), month),
                                  "zh_CN"), "pdf/statement.html")
    log("  cash report PDF ...")
    out["cash_report"] = time_pdf(
        app, sql, client, f"/reports/cashier/{day.isoformat()}.pdf",
        lambda: cash_report_context(billing.day_report(day), "zh_CN"), "pdf/cash_report.html")
    with app.app_context():
        from sqlalchemy import func, select

        from app.models.billing import AccountEntry, Statement
        st = billing.statement_of(billing.unit_by_key(key), month)
        out["statement_entries"] = db.session.scalar(
            select(func.count()).select_from(AccountEntry).where(
                AccountEntry.statement_id == st.id))
        out["statement"]["n_entries"] = out["statement_entries"]
        _ = Statement
        db.session.remove()
    for name in ("receipt", "statement", "cash_report"):
        r = out[name]
        log(f"    {name}: warm median {r['median']:.0f} ms, p95 {r['p95']:.0f} ms, "
            f"{r['kb']:.0f} KB, {r['pages']} pages")
    return out


def statement_unit(app, rng: random.Random, today: date) -> tuple[str, str]:
    """One unit with STATEMENT_ENTRIES reviewed entries in an old month, billed by month end."""
    from app.extensions import db
    from app.models import Unit
    month = month_back(today, 30)
    with app.app_context():
        store = Store(rng)
        owner_units = [u for u in store.units
                       if any(r[3] == "owner" for r in store.residents.get(u, []))]
        uid = owner_units[7]
        entries_for(store, [uid], month, STATEMENT_ENTRIES)
        db.session.commit()
        key = db.session.get(Unit, uid).search_key
        db.session.remove()
    r = run_month_end(app, month)
    assert r["made"] == 1, r
    return key, month


# ---- 4 and 5. the queue and a unit's account, small and large history ------------------------

def add_waiting(app, rng: random.Random, want: int) -> dict:
    """Enough slips waiting at the till for about `want` queue rows: pay-now slips, tenants'
    slips drawn from the deposit (their units topped up), errands to prepay and errands back."""
    from app.extensions import db
    from app.services import billing
    with app.app_context():
        have = len(billing.queue())
        store = Store(rng)
        now = datetime.now(UTC)
        tenants = [u for u in store.units
                   if any(r[3] == "tenant" for r in store.residents.get(u, []))]
        owners = [u for u in store.units if store.residents.get(u)]
        room = max(0, want - have)
        n_deposit, n_prepay, n_back = room // 5, room // 10, room // 10
        n_pay = room - n_deposit - n_prepay - n_back
        specs = [{"unit_id": rng.choice(owners), "route": "pay_now",
                  "state": rng.choice(("completed", "handed_back")),
                  "at": now - timedelta(minutes=rng.randint(5, 600))} for _ in range(n_pay)]
        specs += [{"unit_id": rng.choice(tenants), "route": "deposit", "kind": "tenant",
                   "state": "completed", "at": now - timedelta(minutes=rng.randint(5, 600))}
                  for _ in range(n_deposit)]
        specs += [{"unit_id": rng.choice(owners), "route": "pay_now", "state": "registered",
                   "errand": True, "purchase_fen": 20_000, "lines": 1,
                   "at": now - timedelta(minutes=30)} for _ in range(n_prepay)]
        back = [{"unit_id": rng.choice(owners), "route": "pay_now", "state": "completed",
                 "errand": True, "purchase_fen": 20_000,
                 "purchase_spent_fen": rng.choice((17_450, 20_000, 23_800)), "lines": 1,
                 "at": now - timedelta(minutes=rng.randint(5, 600))} for _ in range(n_back)]
        made = store.slips(specs + back)
        back_made = made[len(specs):]
        store.payments([{"kind": "errand_prepay", "method": "cash", "amount_fen": total + 20_000,
                         "unit_id": s["unit_id"], "slip_id": sid,
                         "at": s["at"] - timedelta(hours=4)}
                        for s, (sid, _n, total) in zip(back, back_made)])
        dep_units = {s["unit_id"] for s in specs if s["route"] == "deposit"}
        store.payments([{"kind": "deposit_topup", "method": "wechat", "amount_fen": 50_000,
                         "deposit_fen": 50_000, "unit_id": u,
                         "at": now - timedelta(days=20)} for u in dep_units])
        db.session.commit()
        rows = billing.queue()
        why: dict[str, int] = {}
        for r in rows:
            why[r.why] = why.get(r.why, 0) + 1
        db.session.remove()
    return {"rows": len(rows), "by_why": why}


def add_history(app, rng: random.Random, count: int, today: date,
                exclude: set[int] = frozenset()) -> float:
    """`count` historic payments over the last three years, each with its closed slip (90 %
    paid at the till, 10 % deposit top-ups); units across the whole property."""
    from app.extensions import db
    t0 = time.perf_counter()
    with app.app_context():
        store = Store(rng)
        end = store.local(today.replace(day=1), 0)
        span = timedelta(days=3 * 365).total_seconds()
        owners = [u for u in store.units if store.residents.get(u) and u not in exclude]
        left = count
        while left:
            n = min(left, 20_000)
            left -= n
            moments = sorted(end - timedelta(seconds=rng.uniform(3600, span)) for _ in range(n))
            moments = [m.replace(hour=rng.randint(1, 10)) for m in moments]  # 09-18 local
            topup = [rng.random() < 0.10 for _ in range(n)]
            specs = [{"unit_id": rng.choice(owners), "route": "pay_now", "state": "closed",
                      "at": at - timedelta(hours=2)}
                     for at, t in zip(moments, topup) if not t]
            made = iter(store.slips(specs))
            spec_of = iter(specs)
            rows = []
            for at, t in zip(moments, topup):
                if t:
                    amount = rng.choice((20_000, 50_000, 100_000))
                    rows.append({"kind": "deposit_topup", "method": rng.choice(METHODS),
                                 "amount_fen": amount, "deposit_fen": amount,
                                 "unit_id": rng.choice(owners), "at": at})
                else:
                    sid, _number, total = next(made)
                    rows.append({"kind": "slip", "method": rng.choice(METHODS), "amount_fen": total,
                                 "unit_id": next(spec_of)["unit_id"], "slip_id": sid, "at": at})
            store.payments(rows)
            db.session.commit()
        db.session.remove()
    return time.perf_counter() - t0


def unit_with_history(app, rng: random.Random, today: date, months: int) -> str:
    """A new owner's unit with `months` months of history: three reviewed entries a month on
    that month's statement (paid early the next month, the last two months still due), one
    slip paid at the till a month, a deposit top-up a quarter, a voided receipt a year."""
    from app.extensions import db
    from app.models import Unit
    with app.app_context():
        add_units(1)
        db.session.commit()
        store = Store(rng)
        uid = store.units[-1]
        for k in range(months, 0, -1):
            month = month_back(today, k)
            specs = [{"unit_id": uid, "route": "on_account", "state": "closed", "kind": "owner",
                      "at": store.in_month(month)} for _ in range(ENTRIES_PER_UNIT)]
            specs.append({"unit_id": uid, "route": "pay_now", "state": "closed",
                          "at": store.in_month(month)})
            made = store.slips(specs)
            total = sum(t for _s, _n, t in made[:ENTRIES_PER_UNIT])
            issued = min(store.in_month(month_back(today, k - 1)),
                         datetime.now(UTC) - timedelta(hours=1))
            st = store.statement(uid, month, total, issued)
            store.entries([{"unit_id": uid, "slip_id": sid, "month": month, "amount_fen": t,
                            "at": s["at"], "statement_id": st}
                           for s, (sid, _n, t) in zip(specs, made[:ENTRIES_PER_UNIT])])
            rows = [{"kind": "slip", "method": "wechat", "amount_fen": made[-1][2], "unit_id": uid,
                     "slip_id": made[-1][0], "at": specs[-1]["at"] + timedelta(hours=1)}]
            if k > 2:
                rows.append({"kind": "statement", "method": "bank_transfer", "amount_fen": total,
                             "unit_id": uid, "statement_id": st,
                             "at": issued + timedelta(days=3)})
            if k % 3 == 0:
                rows.append({"kind": "deposit_topup", "method": "cash", "amount_fen": 50_000,
                             "deposit_fen": 50_000, "unit_id": uid, "at": store.in_month(month)})
            ids = store.payments(rows)
            if k % 12 == 0:
                store.payments([{"kind": "reversal", "method": "wechat",
                                 "amount_fen": -made[-1][2], "unit_id": uid,
                                 "slip_id": made[-1][0], "numbered": False, "reverses_id": ids[0],
                                 "note": "bench: wrong unit",
                                 "at": specs[-1]["at"] + timedelta(hours=2)}])
        db.session.commit()
        key = db.session.get(Unit, uid).search_key
        db.session.remove()
    return key


def shapes(statements: list[str]) -> list[tuple[int, str]]:
    """The statements grouped by shape (whitespace squeezed), most repeated first."""
    counts: dict[str, int] = {}
    for s in statements:
        key = " ".join(s.split())
        counts[key] = counts.get(key, 0) + 1
    return sorted(((n, s) for s, n in counts.items()), reverse=True)


def copy_db(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite file (WAL included)."""
    import sqlite3
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()


def measure_pages(sides: dict[int, tuple], keys: dict[str, str]) -> dict[int, dict]:
    """The queue (page, htmx partial, the service alone) and the unit pages on each database,
    their requests interleaved (one here, one there), so both see the same machine."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models.billing import Payment
    from app.services import billing

    clients = {size: signed_in(app, "cashier") for size, (app, _sql) in sides.items()}
    pages = {"queue_page": ("/cashier/", None),
             "queue_partial": ("/cashier/", {"HX-Request": "true"})}
    pages.update({f"unit_{name}": (f"/cashier/units/{key}", None) for name, key in keys.items()})
    out: dict[int, dict] = {size: {} for size in sides}
    for name, (path, headers) in pages.items():
        keep = name in ("queue_page", "unit_3y")
        lat: dict[int, list] = {size: [] for size in sides}
        last: dict[int, tuple] = {}
        for size in sides:
            clients[size].get(path, headers=headers)
        for _ in range(PAGE_REQUESTS):
            for size, (_app, sql) in sides.items():
                with sql(keep=keep) as c:
                    t0 = time.perf_counter()
                    resp = clients[size].get(path, headers=headers)
                    lat[size].append(ms_since(t0))
                assert resp.status_code == 200, (path, resp.status_code)
                last[size] = (c.n, len(resp.data), list(c.seen))
        for size in sides:
            n, size_b, seen = last[size]
            out[size][name] = {**stats(lat[size]), "sql": n, "kb": size_b / 1024,
                               **({"statements": seen} if keep else {})}
    lat = {size: [] for size in sides}
    counts, rows = {}, {}
    for _ in range(PAGE_REQUESTS):
        for size, (app, sql) in sides.items():
            with app.app_context():
                with sql() as c:
                    t0 = time.perf_counter()
                    rows[size] = len(billing.queue())
                    lat[size].append(ms_since(t0))
                counts[size] = c.n
                db.session.remove()
    for size, (app, _sql) in sides.items():
        out[size]["queue_service"] = {**stats(lat[size]), "sql": counts[size],
                                      "rows": rows[size]}
        with app.app_context():
            out[size]["payments_rows"] = db.session.scalar(
                select(func.count()).select_from(Payment))
            db.session.remove()
    return out


def pay_on_both(sides: dict[int, tuple], rng: random.Random, n: int) -> dict[int, dict]:
    """n payments on each database, one here, one there: take_payment + commit."""
    from app.extensions import db
    from app.models import User
    from app.models.slips import Slip
    from app.services import billing

    made = {}
    for size, (app, _sql) in sides.items():
        with app.app_context():
            store = Store(rng)
            made[size] = store.slips(finished_specs(store, n))
            db.session.commit()
            db.session.remove()
    lat: dict[int, list] = {size: [] for size in sides}
    numbers: dict[int, list] = {size: [] for size in sides}
    for k in range(n):
        for size, (app, _sql) in sides.items():
            sid, _number, total = made[size][k]
            with app.app_context():
                cashier = db.session.get(User, user_ids(app)["cashier"])
                slip = db.session.get(Slip, sid)
                t0 = time.perf_counter()
                p = billing.take_payment(slip, cashier, METHODS[k % 5], total,
                                         request_key=secrets.token_urlsafe(16))
                db.session.commit()
                lat[size].append(ms_since(t0))
                numbers[size].append(p.number)
                db.session.remove()
    for size in sides:
        assert consecutive(numbers[size])[0], numbers[size]
    return {size: stats(v) for size, v in lat.items()}


PROFILE_PARTS = {
    "`billing.unit_account` (its queries and objects)": ("billing/unit_account.py", "unit_account"),
    "rendering templates/cashier/unit.html": ("templating.py", "render_template"),
    "of which the `local_time` filter": ("filters.py", "local_time"),
    "of which gettext calls": ("flask_babel/__init__.py", "gettext"),
    "of which the forms (WTForms)": ("wtforms/fields/core.py", "__call__"),
    "SQLite executing statements": ("~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
}


def profile_page(app, path: str, n: int = 10) -> dict:
    """cProfile of n requests: the share of a few named parts (cumulative time)."""
    import cProfile
    import pstats
    client = signed_in(app, "cashier")
    client.get(path)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for _ in range(n):
        client.get(path)
    prof.disable()
    wall = ms_since(t0) / n
    st = pstats.Stats(prof)
    parts = {}
    for label, (file_end, func) in PROFILE_PARTS.items():
        cum = max((v[3] for (file, _line, name), v in st.stats.items()  # nested: the outer
                   if name == func and (file == file_end or file.endswith(file_end))),
                  default=0)
        if cum:
            parts[label] = cum * 1000 / n
    return {"request_ms": wall, "requests": n, "parts": parts}


def unit_figures(app, key: str) -> dict:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models.billing import AccountEntry, Payment, Statement
    from app.services import billing
    with app.app_context():
        unit = billing.unit_by_key(key)
        out = {m.__name__: db.session.scalar(select(func.count()).select_from(m).where(
            m.unit_id == unit.id)) for m in (AccountEntry, Statement, Payment)}
        db.session.remove()
    return out


# ---- one database, start to end --------------------------------------------------------------

def run_backend(backend: str) -> dict:
    from app.extensions import db
    r: dict = {"backend": backend, "machine": machine(), "load_start": os.getloadavg()[0]}
    tmp = Path(tempfile.mkdtemp(prefix=f"psd-bench-money-{backend}-"))
    pg = None
    started = time.monotonic()
    try:
        if backend == "sqlite":
            url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        else:
            from tests.pg import ThrowawayPostgres
            pg = ThrowawayPostgres()
            pg.start()
            url = pg.create_database("bench_money")
            import psycopg
            with psycopg.connect(f"host=127.0.0.1 port={pg.port} user=postgres "
                                 "dbname=postgres") as conn:
                r["server"] = conn.execute("SHOW server_version").fetchone()[0]
        app = make_app(url, tmp)
        sql_count = SqlCount
        rng = random.Random(4)
        from flask_migrate import upgrade

        from app import demo
        from app.services.clock import local_today
        log(f"{backend}: migrate and seed the demo ...")
        t0 = time.perf_counter()
        with app.app_context():
            upgrade()
            demo.seed()
            from app.services import staff
            for k, name in ((2, "钱芳"), (3, "周敏")):  # three tills, not the demo's one
                staff.create_user(f"cashier{k}", name, "bench-money-pw", ("cashier",))
            db.session.commit()
            sql = sql_count(db.engine)
            today = local_today()
            db.session.remove()
        r["seed_s"] = time.perf_counter() - t0
        log(f"  {r['seed_s']:.0f} s")

        log("1. taking a payment")
        r["payments"] = section_payments(app, sql, rng)
        with app.app_context():
            from sqlalchemy import select

            from app.models.billing import Payment
            receipt_number = db.session.scalar(
                select(Payment.number).where(Payment.kind == "slip", Payment.number.is_not(None))
                .order_by(Payment.id.desc()).limit(1))
            db.session.remove()

        full = backend == "sqlite"
        log("2. month end")
        statement = statement_unit(app, rng, today) if full else None
        r["month_end"] = section_month_end(app, sql, rng, today, MONTH_END_SIZES,
                                           with_page=full)
        if not full:
            return r
        log("3. PDFs")
        r["pdfs"] = section_pdfs(app, sql, rng, today, receipt_number, statement)

        log("4/5. queue and unit account: building the units' history and the queue ...")
        keys = {"3y": unit_with_history(app, rng, today, 36),
                "1m": unit_with_history(app, rng, today, 1)}
        r["units"] = {name: {"key": k, **unit_figures(app, k)} for name, k in keys.items()}
        r["waiting"] = add_waiting(app, rng, QUEUE_WAITING)
        log(f"  queue rows: {r['waiting']}")
        with app.app_context():
            from app.services import billing
            mine = {billing.unit_by_key(k).id for k in keys.values()}
            db.session.remove()
        load_small = add_history(app, rng, HISTORY_SMALL, today, mine)
        copy_db(tmp / "bench.sqlite3", tmp / "small.sqlite3")  # the same, before more history
        log(f"  inserting {HISTORY_LARGE - HISTORY_SMALL:,} more historic payments ...")
        load = add_history(app, rng, HISTORY_LARGE - HISTORY_SMALL, today, mine)
        log(f"    {load:.0f} s")
        small = make_app(f"sqlite:///{tmp / 'small.sqlite3'}", tmp / "small")
        with small.app_context():
            sql_small = SqlCount(db.engine)
        sides = {HISTORY_SMALL: (small, sql_small), HISTORY_LARGE: (app, sql)}
        log(f"  queue and unit pages, {HISTORY_SMALL:,} and {HISTORY_LARGE:,} history, "
            "interleaved ...")
        r["history"] = measure_pages(sides, keys)
        r["history"][HISTORY_SMALL]["load_s"] = load_small
        r["history"][HISTORY_LARGE]["load_s"] = load
        for size, h in r["history"].items():
            log(f"    {size:,}: queue page {h['queue_page']['median']:.1f} ms, unit 3y "
                f"{h['unit_3y']['median']:.1f} ms")
        r["unit_profile"] = profile_page(app, f"/cashier/units/{keys['3y']}")
        log(f"  {PAYMENTS // 3} payments on each, interleaved ...")
        r["payments_history"] = pay_on_both(sides, rng, PAYMENTS // 3)
        r["db_mb"] = (tmp / "bench.sqlite3").stat().st_size / 1e6
    finally:
        r["took_s"] = time.monotonic() - started
        r["load_end"] = os.getloadavg()[0]
        if pg is not None:
            from contextlib import suppress
            with suppress(Exception):  # the app may not exist if the server failed to start
                from app.extensions import db as _db
                with app.app_context():
                    _db.engine.dispose()
            pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return r


# ---- the doc ----------------------------------------------------------------------------------

def f1(x: float) -> str:
    return f"{x:.1f}"


def f0(x: float) -> str:
    return f"{x:,.0f}"


def write_doc(res: dict) -> str:
    s = res["sqlite"]
    pg = res.get("pg")
    m = s["machine"]
    L = [BEGIN, "", ("## Money (issue 4): payments, month end, money PDFs, the till's queue, "
         "unit accounts"), "",
         f"Measured {res['when']} by `scripts/bench_money.py` (`make bench-money`, also run by "
         f"`make bench`) in {res['took_s'] / 60:.1f} minutes, on {m['cpus']} cores "
         f"({m['cpu']}), Python {m['python']}, SQLite {m['sqlite']}"
         + (f", PostgreSQL {pg['server']}" if pg and "server" in pg else "")
         + f", {m['os']}; the machine's 1-minute load average was "
         f"{s['load_start']:.1f} at the start and {s['load_end']:.1f} at the end of the SQLite "
         "run (other work shared the cores, so single figures are noisy; ratios are taken "
         "side by side where it matters). In-process: the app's own time (services, SQL, "
         "templates, WeasyPrint), without network or server; pages and PDFs through Flask's "
         "test client "
         "signed in as the demo cashier. Each database is a throwaway one: `flask db upgrade` + "
         f"the demo (seeded in {s['seed_s']:.0f} s on SQLite"
         + (f", {pg['seed_s']:.0f} s on PostgreSQL" if pg and "seed_s" in pg else "")
         + "), plus what each measurement needs, written in bulk with SQLAlchemy core (slips "
         "with their lines, account entries, statements, payments numbered from the app's own "
         "counters) unless said otherwise. SQLite is a file in WAL mode, as the app runs it; "
         "PostgreSQL runs with `fsync=off` (tests/pg.py), so its commits are cheaper than on a "
         "real server. Times in ms; p95 over the samples given.", ""]

    # 1
    L += ["### 1. Taking a payment", "",
          ("`billing.take_payment` + commit for a finished slip (one receipt, the slip "
          "settled), one after another; and the cashier's `POST /cashier/slips/<number>/pay` "
          "(htmx) through the test client, which also draws the panel with the receipt."), "",
          "| | database | payments | median | p95 | max | SQL statements each |",
          "|---|---|---:|---:|---:|---:|---:|"]
    for label, r in (("SQLite", s), ("PostgreSQL", pg)):
        if not r or "payments" not in r:
            continue
        p = r["payments"]
        L.append(f"| `take_payment` + commit | {label} | {p['services']['n']} | "
                 f"{f1(p['services']['median'])} | {f1(p['services']['p95'])} | "
                 f"{f1(p['services']['max'])} | {p['services']['sql']:.0f} |")
        L.append(f"| HTTP POST, the cashier's form | {label} | {p['http']['n']} | "
                 f"{f1(p['http']['median'])} | {f1(p['http']['p95'])} | "
                 f"{f1(p['http']['max'])} | {p['http']['sql']:.0f} |")
    for size, q in sorted(s.get("payments_history", {}).items(), key=lambda kv: int(kv[0])):
        L.append(f"| `take_payment` + commit, {int(size):,} historic payments (interleaved "
                 f"with the other size) | SQLite | {q['n']} | {f1(q['median'])} | "
                 f"{f1(q['p95'])} | {f1(q['max'])} | |")
    L += ["", (f"Receipt numbers of each run were asserted distinct and consecutive (SQLite: "
          f"{s['payments']['services']['numbers']})."), "",
          (f"**{PARALLEL} tills at once**: {PARALLEL} threads, each with its own session and "
          "connection, pay 20 different slips, released together by one barrier; the time "
          "from the release to the last commit, against 20 slips paid one after another in "
          "one thread:"), "",
          ("| database | 20 at once | each, median / p95 | 20 one after another | ratio | "
          "receipts |"), "|---|---:|---:|---:|---:|---|"]
    for label, r in (("SQLite", s), ("PostgreSQL", pg)):
        if not r or "payments" not in r:
            continue
        p = r["payments"]
        par = p["parallel"]
        L.append(f"| {label} | {f0(par['wall_ms'])} | {f0(par['each']['median'])} / "
                 f"{f0(par['each']['p95'])} | {f0(p['serial_wall_ms'])} | "
                 f"{par['wall_ms'] / p['serial_wall_ms']:.2f} | {par['numbers']}: 20 distinct, "
                 "consecutive (asserted) |")
    L += ["", parallel_words(s, pg), ""]

    # 2
    L += ["### 2. Month end", "",
          (f"N units, each with {ENTRIES_PER_UNIT} reviewed account entries in an old month "
          "(slips on the owner's account and their entries inserted in bulk, not through "
          "completion and review), then `start_month_end` + `run_step(batch=25)` + commit "
          "until finished, as the progress page drives it; then the same month again."), "",
          ("| database | units | entries | whole run | units/s | one step of 25, median / p95 | "
          "second run | made by the second run |"), "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for label, r in (("SQLite", s), ("PostgreSQL", pg)):
        if not r or "month_end" not in r:
            continue
        for n, row in r["month_end"]["sizes"].items():
            fst, ag = row["first"], row["again"]
            L.append(f"| {label} | {int(n):,} | {row['entries']:,} | "
                     f"{fst['wall_ms'] / 1000:.1f} s | {row['units_per_s']:.0f} | "
                     f"{f0(fst['steps']['median'])} / {f0(fst['steps']['p95'])} | "
                     f"{f0(ag['wall_ms'])} ms | {ag['made']} |")
    L += ["", "Every run made exactly one statement per unit, whose total is its entries' sum "
          "(asserted); the second run found nothing left to bill and made 0 (asserted). "
          + month_end_words(s, pg)]
    pages = [(n, row["page"]) for n, row in s["month_end"]["sizes"].items() if "page" in row]
    if pages:
        L += ["", ("The finished run's page (`/cashier/month-end/runs/<id>`, which lists every "
              "statement of the month with what is still due):"), "",
              "| statements listed | median | p95 | SQL statements | KB |",
              "|---:|---:|---:|---:|---:|"]
        L += [f"| {int(n):,} | {f0(p['median'])} | {f0(p['p95'])} | {p['sql']:,} | "
              f"{p['kb']:.0f} |" for n, p in pages]
    L.append("")

    # 3
    if "pdfs" in s:
        d = s["pdfs"]
        L += ["### 3. Money PDFs (SQLite)", "",
              ("Over HTTP as the demo cashier (zh_CN), one render to warm up, then "
              f"{PDF_RENDERS} timed. \"Context\" is the part before WeasyPrint: the "
              "`money_documents` function that reads the database and formats the figures."),
              "",
              ("| document | paper | pages | KB | first | warm median | warm p95 | "
              "SQL per request | context alone |"),
              "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        names = {"receipt": "receipt `/receipts/<number>.pdf`",
                 "statement": f"statement, {d['statement_entries']} entries "
                              "`/statements/<unit>/<month>.pdf`",
                 "cash_report": f"day cash report, {d['day_made']['payments']} payments "
                                "`/reports/cashier/<day>.pdf`"}
        for key, label in names.items():
            p = d[key]
            L.append(f"| {label} | {p['paper']} | {p['pages']} | {p['kb']:.0f} | "
                     f"{f0(p['first_ms'])} | {f0(p['median'])} | {f0(p['p95'])} | "
                     f"{p['sql']:.0f} | {f1(p['context_ms'])} ms, {p['context_sql']} SQL |")
        if all(d[k].get("split") for k in names):
            L += ["", ("One more render of each, its parts timed apart (as `render_pdf` does "
                  "them): the HTML from the template, WeasyPrint's layout, and the writing of "
                  "the PDF (fonts subset and embedded):"), "",
                  "| document | HTML | layout | writing | per page, layout + writing |",
                  "|---|---:|---:|---:|---:|"]
            for key, label in names.items():
                sp, pages = d[key]["split"], d[key]["pages"]
                per = ((sp["layout_ms"] + sp["write_ms"]) / pages
                       if isinstance(pages, int) and pages else float("nan"))
                L.append(f"| {label.split(' `')[0]} | {f0(sp['html_ms'])} ms "
                         f"({sp['html_kb']:.0f} KB) | {f0(sp['layout_ms'])} ms | "
                         f"{f0(sp['write_ms'])} ms | {f0(per)} ms |")
        share = max(d[k]["context_ms"] / d[k]["median"] for k in names)
        L += ["", (f"The day's {d['day_made']['payments']} payments (2 of them reversals of "
              f"voided receipts) were taken through `take_payment` under `clock.at` by "
              f"{d['day_made']['cashiers']} cashiers on {d['day']}, and each cashier's cash "
              f"counted. The context is at most {share:.0%} of a render; the rest is "
              "WeasyPrint's."), ""]

    # 4
    if "history" in s:
        h1, h2 = s["history"][HISTORY_SMALL], s["history"][HISTORY_LARGE]
        w = s["waiting"]
        why = ", ".join(f"{n} {k}" for k, n in sorted(w["by_why"].items()))
        L += ["### 4. The cashier's queue with history (SQLite)", "",
              (f"`/cashier/` with {w['rows']} rows waiting ({why}), first with "
              f"{HISTORY_SMALL:,} then with {HISTORY_LARGE:,} historic payments (bulk, over "
              "the last three years, each slip payment with its closed slip; payments table "
              f"{h1['payments_rows']:,} and {h2['payments_rows']:,} rows; the SQLite file "
              f"{s['db_mb']:.0f} MB). The two databases are copies taken before and after "
              f"the 99,000 more were written, measured side by side, their {PAGE_REQUESTS} "
              "requests each interleaved, so both see the same machine."), "",
              (f"| | {HISTORY_SMALL:,} history, median / p95 | {HISTORY_LARGE:,} history, "
              "median / p95 | ratio of medians | SQL statements |"),
              "|---|---:|---:|---:|---:|"]
        for key, label in (("queue_page", "full page"), ("queue_partial", ("htmx partial "
                                                                             "(live refresh)")),
                           ("queue_service", "`billing.queue()` alone")):
            a, b = h1[key], h2[key]
            L.append(f"| {label} | {f1(a['median'])} / {f1(a['p95'])} | {f1(b['median'])} / "
                     f"{f1(b['p95'])} | {b['median'] / a['median']:.2f} | {a['sql']} → "
                     f"{b['sql']} |")
        worst = max(h2[k]["median"] / h1[k]["median"] for k in ("queue_page", "queue_partial",
                                                                 "queue_service"))
        same_sql = all(h1[k]["sql"] == h2[k]["sql"] for k in ("queue_page", "queue_partial"))
        verdict = ("does not slow with history" if worst <= 1.25 else
                   f"is up to {worst:.2f}× slower with {HISTORY_LARGE:,} history")
        L += ["", f"The queue {verdict}"
              + (" and issues the same statements" if same_sql else "") + ": it finds the "
              "unsettled slips and the errands to prepay by state, then reads what those rows "
              "need (the errands' payments by `slip_id`, the tenants' deposits by `unit_id`), "
              "none of which history lengthens.", ""]
        # 5
        u3, u1 = s["units"]["3y"], s["units"]["1m"]
        L += ["### 5. A unit's account page with three years of history (SQLite)", "",
              (f"`/cashier/units/<key>`: a unit with 36 months of history ({u3['AccountEntry']} "
              f"account entries, {u3['Statement']} statements, {u3['Payment']} payments incl. "
              f"reversals) against one with a month ({u1['AccountEntry']}, {u1['Statement']}, "
              f"{u1['Payment']}); {PAGE_REQUESTS} requests each, interleaved as above. The "
              "historic payments went to other units: these two have only their own."), "",
              "| | history in the database | median | p95 | SQL statements | KB |",
              "|---|---:|---:|---:|---:|---:|"]
        for hist, hh in ((HISTORY_SMALL, h1), (HISTORY_LARGE, h2)):
            for name, label in (("1m", "one month"), ("3y", "three years")):
                p = hh[f"unit_{name}"]
                L.append(f"| {label} | {hist:,} | {f1(p['median'])} | {f1(p['p95'])} | "
                         f"{p['sql']} | {p['kb']:.0f} |")
        a, b = h2["unit_1m"], h2["unit_3y"]
        L += ["", (f"Three years cost {b['median'] / a['median']:.1f}× one month "
              f"({b['sql']} SQL statements against {a['sql']})."), ""]
        L += slow_spots(s)
    L += ["", END, ""]
    return "\n".join(L)


def month_end_words(s: dict, pg: dict | None) -> str:
    out = []
    for label, r in (("SQLite", s), ("PostgreSQL", pg)):
        if not r or "month_end" not in r:
            continue
        sizes = r["month_end"]["sizes"]
        big = max(sizes)
        rates = " and ".join(f"{row['units_per_s']:.0f}" for row in sizes.values())
        out.append(f"{label}: {rates} units/s, {int(big):,} units in "
                   f"{sizes[big]['first']['wall_ms'] / 1000:.0f} s")
    return ("The rate does not fall as the run grows (" + "; ".join(out) + "): each unit costs "
            "the same handful of statements — the existence check, the statement inserted in "
            "a savepoint, one `UPDATE … RETURNING` stamping its entries, their read-back, an "
            "audit row — which on PostgreSQL are each a round trip to the server, on SQLite a "
            "call inside the process.")


def parallel_words(s: dict, pg: dict | None) -> str:
    def ratio(r: dict) -> float:
        return r["payments"]["parallel"]["wall_ms"] / r["payments"]["serial_wall_ms"]
    out = ("No receipt number was lost or repeated. Every payment takes the month's receipt "
           "counter with an `UPDATE … RETURNING` that holds the counter's row until commit, "
           "so payments are numbered one at a time whatever the number of tills. ")
    r = ratio(s)
    out += (f"On SQLite twenty at once took {r:.1f}× as long as twenty in a row: the one "
            "database write lock is taken by each in turn, and a writer that finds it "
            "taken sleeps in SQLite's busy handler (`busy_timeout` 5 s) and retries, so time "
            "is lost between turns. " if r > 1.15 else
            f"On SQLite twenty at once took {r:.2f}× the time of twenty in a row: the "
            "writers take the database write lock in turn. ")
    if pg and "payments" in pg:
        r = ratio(pg)
        out += (f"On PostgreSQL {r:.2f}×: the connections wait on the counter's row lock and "
                "are woken as soon as it is free.")
    return out


# What a repeated statement is, from the code that sends it (matched on the statement's shape).
EXPLAIN = [
    (r"FROM slips .*WHERE slips\.id = ", ("`Payment.slip` loaded one payment at a time: "
     "templates/cashier/unit.html prints `p.slip.number` in the deposit and payments tables, "
     "and `billing.unit_account` loads the payments with `reversed_by` but not `slip`")),
    (r"FROM slip_lines WHERE slip_lines\.slip_id IN", ("each slip loaded that way brings its "
     "lines too (`Slip.lines` is selectin-loaded)")),
    (r"FROM payments WHERE payments\.statement_id = ", ("`billing.statement_due_fen` once per "
     "statement (`unit_account`'s statements, `cashier._month_statements`)")),
    (r"FROM payments .*WHERE payments\.slip_id = ", ("`billing.prepaid_fen` once per errand "
     "row, twice for an errand back (in `billing.queue` and again in `cashier._queue`)")),
    (r"FROM payments .*WHERE payments\.reverses_id IN", ("the `reversed_by` selectin of each "
     "of those errand payment reads")),
    (r"WHERE payments\.unit_id = ", "`billing.deposit_balance` once per tenant's row"),
    (r"FROM user_roles WHERE user_roles\.user_id IN", ("the roles of the users each query "
     "loads (`User.roles`, selectin), once per query that brings a user")),
]


def explain(q: str) -> str:
    flat = " ".join(q.split())
    for pattern, words in EXPLAIN:
        if re.search(pattern, flat):
            return words
    return ""


def slow_spots(s: dict) -> list[str]:
    """Repeated statements on the measured pages: where a page issues one query per row."""
    h2 = s["history"][HISTORY_LARGE]
    q = h2["queue_service"]
    out = [("### Where the time and the statements go (SQL statements counted with a "
           "`before_cursor_execute` "
           "listener, the last request of each series)"), ""]
    for key, label in (("unit_3y", "Unit account, three years"),
                       ("queue_page", "The queue page")):
        rep = [(n, st) for n, st in shapes(h2[key].get("statements", [])) if n > 3]
        if not rep:
            out.append(f"- {label}: no statement repeated more than 3 times.")
            continue
        out.append(f"- {label}, {h2[key]['sql']} statements; repeated:")
        out += [f"  - {n}× `{short_sql(st)}`" + (f" — {explain(st)}" if explain(st) else "")
                for n, st in rep[:6]]
    out.append(f"- `billing.queue()` alone: {q['sql']} statements for {q['rows']} rows "
               f"waiting ({q['median']:.0f} ms).")
    pages = [(n, row["page"]) for n, row in s["month_end"]["sizes"].items() if "page" in row]
    if pages:
        n, p = pages[-1]
        if p["sql"] > int(n) / 2:
            out.append(f"- The finished month-end run's page: {p['sql']:,} statements and "
                       f"{p['median'] / 1000:.1f} s for {int(n):,} statements listed — "
                       "`billing.statement_due_fen` once per statement in "
                       "`cashier._month_statements`; one grouped `SUM(amount_fen) … GROUP "
                       "BY statement_id` would make it one query.")
        else:
            out.append(f"- The finished month-end run's page lists {int(n):,} statements with "
                       f"{p['sql']} SQL statements in {p['median']:.0f} ms: no query per "
                       f"row; its time is drawing the {p['kb']:.0f} KB table.")
    prof = s.get("unit_profile")
    if prof:
        total = prof["request_ms"]
        parts = "; ".join(f"{name} {ms:.1f} ms ({ms / total:.0%})"
                          for name, ms in prof["parts"].items())
        out.append(f"- Where the three-year unit page's {total:.0f} ms go (cProfile, "
                   f"{prof['requests']} requests, per request; profiling slows everything "
                   f"alike): {parts}.")
    return out


def short_sql(q: str) -> str:
    """`FROM <table> … WHERE <condition>` of a statement."""
    flat = " ".join(q.split())
    table = re.search(r"\bFROM (\w+)", flat)
    where = re.search(r"\bWHERE (.*?)(?: ORDER BY| GROUP BY| LIMIT|$)", flat)
    text = f"SELECT … FROM {table.group(1) if table else '?'}"
    if where:
        text += f" … WHERE {where.group(1)}"
    return text[:160]


def save_doc(section: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Performance\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        text = head + section.rstrip("\n") + "\n" + (("\n" + tail) if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text, encoding="utf-8")


# ---- the run ------------------------------------------------------------------------------

def child(backend: str, out: Path) -> int:
    r = run_backend(backend)
    for h in r.get("history", {}).values():  # keep only the repeated statements' shapes
        for key in ("unit_3y", "unit_1m", "queue_page"):
            if key in h and "statements" in h[key]:
                h[key]["statements"] = [q for n, q in shapes(h[key]["statements"])
                                        for _ in range(n) if n > 3]
    out.write_text(json.dumps(r, default=str))
    return 0


def main() -> int:
    started = time.monotonic()
    res: dict = {"when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
    tmp = Path(tempfile.mkdtemp(prefix="psd-bench-money-"))
    backends = ["sqlite"]
    from tests.pg import PG_BIN
    if PG_BIN is not None and os.environ.get("BENCH_MONEY_PG", "1") != "0":
        backends.append("pg")
    elif PG_BIN is None:
        log("PostgreSQL server binaries not found: SQLite only")
    else:
        log("BENCH_MONEY_PG=0: SQLite only")
    for backend in backends:
        out = tmp / f"{backend}.json"
        done = subprocess.run([sys.executable, __file__, "--backend", backend, str(out)],
                              cwd=ROOT, check=False)
        if done.returncode != 0 or not out.exists():
            if backend == "sqlite":
                print("the SQLite run failed", file=sys.stderr)
                return 1
            log("the PostgreSQL run failed: SQLite only")
            continue
        res[backend] = json.loads(out.read_text())
        # JSON keys are strings; the sizes and history counts are numbers
        me = res[backend].get("month_end", {}).get("sizes", {})
        res[backend]["month_end"]["sizes"] = {int(k): v for k, v in me.items()} if me else {}
        if "history" in res[backend]:
            res[backend]["history"] = {int(k): v for k, v in res[backend]["history"].items()}
    res["took_s"] = time.monotonic() - started
    section = write_doc(res)
    if QUICK:
        (tmp.parent / "bench-money-quick.md").write_text(section)
        log(f"quick run: the section is in {tmp.parent / 'bench-money-quick.md'}")
    else:
        save_doc(section)
    (tmp.parent / "bench-money-results.json").write_text(json.dumps(res, default=str))
    print(section)
    shutil.rmtree(tmp, ignore_errors=True)
    log(f"done in {res['took_s']:.0f} s")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--backend":
        sys.exit(child(sys.argv[2], Path(sys.argv[3])))
    if len(sys.argv) == 3 and sys.argv[1] == "--doc-from":  # the doc again from saved figures
        saved = json.loads(Path(sys.argv[2]).read_text())
        for b in ("sqlite", "pg"):
            if b in saved:
                saved[b]["month_end"]["sizes"] = {int(k): v for k, v in
                                                  saved[b]["month_end"]["sizes"].items()}
                if "history" in saved[b]:
                    saved[b]["history"] = {int(k): v for k, v in saved[b]["history"].items()}
        save_doc(write_doc(saved))
        sys.exit(0)
    sys.exit(main())
