"""Month end (issue 4): N units, each with three reviewed account entries in an old month
(bulk), then `start_month_end` + `run_step(batch=25)` + commit until finished; the same month
again (nothing left to bill, asserted); on SQLite the finished run's page."""
from __future__ import annotations

import random
import time
from typing import Any

from flask import Flask

from scripts.bench.common import SqlCount, log, stats, timed
from scripts.bench.databases import Workspace, signed_in
from scripts.bench.history import Builder
from scripts.bench.scenarios.money import (
    backends,
    month_back,
    on,
    on_account,
    run_month_end,
)

PER_UNIT = 3


def finished_page(app: Flask, sql: SqlCount, run_id: int, n: int) -> dict[str, Any]:
    client = signed_in(app, "cashier")
    path = f"/cashier/month-end/runs/{run_id}"
    resp = client.get(path)
    assert resp.status_code == 200, resp.status_code
    with sql():
        client.get(path)
    count = sql.n
    return {**stats(timed(lambda: client.get(path), n)), "sql": count,
            "kb": len(resp.data) / 1024}


def one_size(app: Flask, sql: SqlCount, month: str, units: int, page: bool) -> dict[str, Any]:
    from app.extensions import db
    t0 = time.perf_counter()
    with app.app_context():
        b = Builder(random.Random(units))
        made = on_account(b, b.units_with()[:units], month, PER_UNIT)
        b.finish()
        db.session.commit()
    load_s = time.perf_counter() - t0
    first = run_month_end(app, month)
    assert first["made"] == units == first["statements"], first
    assert first["total_fen"] == sum(m.total_fen for m in made), first
    again = run_month_end(app, month)
    assert again["made"] == 0 and again["statements"] == units, again
    row = {"units": units, "month": month, "entries": len(made), "load_s": load_s,
           "first": first, "again": again, "units_per_s": units / (first["wall_ms"] / 1000)}
    if page:
        row["page"] = finished_page(app, sql, first["run_id"], 3)
    log(f"month end {units:,} units: {first['wall_ms'] / 1000:.1f} s")
    return row


def one_backend(ws: Workspace, backend: str) -> list[dict[str, Any]]:
    sizes = ws.sizes
    with on(ws, backend, "month-end") as (app, sql):
        from app.extensions import db
        from app.services.clock import local_today
        with app.app_context():
            b = Builder(random.Random(5))
            need = max(sizes.month_end_units) + 1 - len(b.units_with())
            if need > 0:
                b.add_units(need)
                db.session.commit()
            today = local_today()
        return [one_size(app, sql, month_back(today, 28 - k), n, backend == "sqlite")
                for k, n in enumerate(sizes.month_end_units)]


def run(ws: Workspace) -> dict[str, Any]:
    return {"per_unit": PER_UNIT, "backends": {b: one_backend(ws, b) for b in backends(ws)}}
