"""Taking a payment (issue 4): `billing.take_payment` + commit per finished slip, one after
another; the cashier's POST through the test client; N tills paying N slips at the same
moment (receipt numbers asserted distinct and consecutive) against N paid one after another."""
from __future__ import annotations

import random
import secrets
import statistics
import threading
import time
from typing import Any

from flask import Flask

from scripts.bench.common import SqlCount, log, ms_since, stats
from scripts.bench.databases import Workspace, signed_in
from scripts.bench.history import Made
from scripts.bench.scenarios.money import (
    METHODS,
    backends,
    consecutive,
    finished,
    on,
    pay,
    pay_serially,
    user,
)


def over_http(app: Flask, sql: SqlCount, made: list[Made]) -> dict[str, Any]:
    from sqlalchemy import select

    from app.extensions import db
    from app.models.slips import Slip
    client = signed_in(app, "cashier")
    with app.app_context():
        versions = dict(db.session.execute(select(Slip.id, Slip.version)
                                           .where(Slip.id.in_([m.id for m in made]))).all())
    lat, counts = [], []
    for k, m in enumerate(made):
        form = {"amount": f"{m.total_fen / 100:.2f}", "method": METHODS[k % 5],
                "payer_name": "", "note": "", "version": str(versions[m.id]),
                "request_key": secrets.token_urlsafe(16)}
        with sql():
            t0 = time.perf_counter()
            resp = client.post(f"/cashier/slips/{m.number}/pay", data=form,
                               headers={"HX-Request": "true"})
            lat.append(ms_since(t0))
        counts.append(sql.n)
        if resp.status_code != 200:
            raise RuntimeError(f"pay {m.number}: HTTP {resp.status_code}")
    return {**stats(lat), "sql": statistics.median(counts)}


def at_once(app: Flask, made: list[Made]) -> dict[str, Any]:
    """Each slip by its own thread (own session and connection), released by one barrier;
    the wall time from the release to the last commit."""
    from app.extensions import db
    from app.models.slips import Slip
    from app.services import billing
    barrier = threading.Barrier(len(made) + 1)
    out: list[Any] = [None] * len(made)
    tills = ("cashier", "cashier2", "cashier3")

    def till(i: int, m: Made) -> None:
        with app.app_context():
            try:
                cashier = user(tills[i % 3])
                billing.owed_fen(db.session.get(Slip, m.id))
                barrier.wait(timeout=60)
                out[i] = pay(m.id, m.total_fen, cashier, i)
            except Exception as err:  # noqa: BLE001 - reported below
                db.session.rollback()
                out[i] = ("error", repr(err))
            finally:
                db.session.remove()
    threads = [threading.Thread(target=till, args=(i, m)) for i, m in enumerate(made)]
    for t in threads:
        t.start()
    barrier.wait(timeout=60)
    t0 = time.perf_counter()
    for t in threads:
        t.join(timeout=120)
    wall = ms_since(t0)
    errors = [o for o in out if o is None or o[0] == "error"]
    assert not errors, f"parallel payments failed: {errors[:3]}"
    return {"wall_ms": wall, "each": stats([o[1] for o in out]),
            "numbers": consecutive([o[0] for o in out]), "threads": len(made)}


def one_backend(ws: Workspace, backend: str) -> dict[str, Any]:
    sizes, rng = ws.sizes, random.Random(4)
    with on(ws, backend, "payments", pool=sizes.parallel + 4) as (app, sql):
        seq, http, serial, parallel = (finished(app, n, rng) for n in (
            sizes.payments, sizes.http_payments, sizes.parallel, sizes.parallel))
        r: dict[str, Any] = {"services": pay_serially(app, sql, seq),
                             "http": over_http(app, sql, http)}
        r["serial_ms"] = pay_serially(app, sql, serial)["total_ms"]
        r["parallel"] = at_once(app, parallel)
    r["ratio"] = r["parallel"]["wall_ms"] / r["serial_ms"]
    log(f"payments {backend}: median {r['services']['median']:.1f} ms; {sizes.parallel} at "
        f"once {r['parallel']['wall_ms']:.0f} ms against {r['serial_ms']:.0f} ms")
    return r


def run(ws: Workspace) -> dict[str, Any]:
    return {"backends": {b: one_backend(ws, b) for b in backends(ws)},
            "parallel": ws.sizes.parallel}
