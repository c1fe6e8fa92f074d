"""What the money scenarios share: the databases they run on (SQLite, and a throwaway
PostgreSQL when its binaries are installed), finished slips to pay, paying them, month end."""
from __future__ import annotations

import os
import random
import secrets
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask

from scripts.bench.common import SqlCount, ms_since, stats
from scripts.bench.databases import Workspace
from scripts.bench.history import Builder, Made, SlipSpec

METHODS = ("cash", "wechat", "alipay", "card", "bank_transfer")


def backends(ws: Workspace) -> list[str]:
    """SQLite; PostgreSQL too when installed (BENCH_PG=0 leaves it out)."""
    pg = ws.pg_available() and os.environ.get("BENCH_PG", "1") != "0"
    return ["sqlite", "pg"] if pg else ["sqlite"]


@contextmanager
def on(ws: Workspace, backend: str, name: str, **config: Any) -> Iterator[tuple[Flask, SqlCount]]:
    """The app on a fresh copy of the demo in `backend`, with its statement counter."""
    app = ws.app(name, **config) if backend == "sqlite" else ws.pg_app(name, **config)
    with app.app_context():
        from app.extensions import db
        sql = SqlCount(db.engine)
    try:
        yield app, sql
    finally:
        with app.app_context():
            db.engine.dispose()


def user(name: str) -> Any:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import User
    return db.session.scalar(select(User).where(User.username == name))


def month_back(today: date, k: int) -> str:
    """'YYYY-MM' of the month k months before today's."""
    from app.services import clock
    return clock.add_months(today.replace(day=1), -k).strftime("%Y-%m")


def finished(app: Flask, n: int, rng: random.Random, at: datetime | None = None) -> list[Made]:
    """n slips done and waiting at the till (pay now), inserted in bulk."""
    from app.domain.slip_states import State
    from app.extensions import db
    with app.app_context():
        b = Builder(rng)
        at = at or datetime.now(UTC) - timedelta(hours=2)
        owners = b.units_with()
        made = b.slips([SlipSpec(rng.choice(owners), rng.choice((State.COMPLETED,
                                                                  State.HANDED_BACK)), at)
                        for _ in range(n)])
        b.finish()
        db.session.commit()
    return made


def consecutive(numbers: list[str]) -> str:
    """'first … last' of receipt numbers asserted distinct, of one series and without gaps."""
    series = {n.rsplit("-", 1)[0] for n in numbers}
    seq = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert len(series) == 1 and seq == list(range(seq[0], seq[0] + len(seq))), sorted(numbers)
    return f"{min(numbers)} … {max(numbers)}"


def pay(slip_id: int, total: int, cashier: Any, k: int) -> tuple[str, float]:
    """take_payment + commit (inside an app context): the receipt number and the ms it took."""
    from app.extensions import db
    from app.models.slips import Slip
    from app.services import billing
    slip = db.session.get(Slip, slip_id)
    t0 = time.perf_counter()
    p = billing.take_payment(slip, cashier, METHODS[k % 5], total,
                             request_key=secrets.token_urlsafe(16))
    db.session.commit()
    return p.number, ms_since(t0)


def pay_serially(app: Flask, sql: SqlCount, made: list[Made]) -> dict[str, Any]:
    lat, counts, numbers = [], [], []
    with app.app_context():
        cashier = user("cashier")
        for k, m in enumerate(made):
            with sql():
                number, ms = pay(m.id, m.total_fen, cashier, k)
            lat.append(ms)
            counts.append(sql.n)
            numbers.append(number)
    return {**stats(lat), "sql": statistics.median(counts), "numbers": consecutive(numbers),
            "total_ms": sum(lat)}


def run_month_end(app: Flask, month: str) -> dict[str, Any]:
    """start_month_end + run_step(batch=25) + commit until finished, as the progress page."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models.billing import Statement
    from app.services import billing
    with app.app_context():
        cashier = user("cashier")
        steps = []
        t0 = time.perf_counter()
        run = billing.start_month_end(month, cashier)
        db.session.commit()
        while run.finished_at is None:
            ts = time.perf_counter()
            billing.run_step(run, cashier, batch=25)
            db.session.commit()
            steps.append(ms_since(ts))
        return {"run_id": run.id, "wall_ms": ms_since(t0),
                "steps": stats(steps) if steps else None, "made": run.statements_made,
                "total_fen": run.total_fen,
                "statements": db.session.scalar(select(func.count()).select_from(Statement)
                                                .where(Statement.month == month))}


def on_account(b: Builder, unit_ids: list[int], month: str, per_unit: int) -> list[Made]:
    """per_unit reviewed account entries for each unit in `month` (owners' slips on account)."""
    from app.domain.settlement import PayRoute
    from app.domain.slip_states import State
    from app.models.property import ResidentKind
    made = b.slips([SlipSpec(u, State.ON_ACCOUNT, b.in_month(month), PayRoute.ON_ACCOUNT,
                             ResidentKind.OWNER) for u in unit_ids for _ in range(per_unit)])
    b.entries(made)
    return made
