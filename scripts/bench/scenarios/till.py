"""The cashier's queue and a unit's account with history (issue 4): on copies of the small and
the large history, the same rows waiting at the till and the same two units of their own (three
years of history, one month); pages and `billing.queue()` timed with requests interleaved
between the two databases; repeated statements; a cProfile of the three-year unit page;
payments on both, interleaved."""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask

from scripts.bench.common import (
    SqlCount,
    cumulative_ms,
    ms_since,
    profiled,
    shapes,
    stats,
)
from scripts.bench.databases import Workspace, make_app, signed_in
from scripts.bench.history import Builder, Made, SlipSpec
from scripts.bench.scenarios.money import finished, month_back, pay, user

PROFILE_PARTS = {
    "`billing.unit_account` (its queries and objects)": ("billing/unit_account.py",
                                                         "unit_account"),
    "rendering templates/cashier/unit.html": ("templating.py", "render_template"),
    "of which the `local_time` filter": ("filters.py", "local_time"),
    "of which gettext calls": ("flask_babel/__init__.py", "gettext"),
    "of which the forms (WTForms)": ("wtforms/fields/core.py", "__call__"),
    "SQLite executing statements": ("~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
}


def unit_with_history(b: Builder, months: int) -> int:
    """A new owner's unit: each month three reviewed entries on that month's statement (paid
    early the next month, the last two still due), one slip paid at the till, a deposit
    top-up a quarter, a voided receipt a year."""
    from app.domain.settlement import PayRoute
    from app.domain.slip_states import State
    from app.models.billing import PaymentKind as K
    from app.models.property import ResidentKind
    from app.services.clock import local_today
    (uid,) = b.add_units(1)
    today = local_today()
    for k in range(months, 0, -1):
        month = month_back(today, k)
        entries = b.slips([SlipSpec(uid, State.ON_ACCOUNT, b.in_month(month),
                                    PayRoute.ON_ACCOUNT, ResidentKind.OWNER) for _ in range(3)])
        paid = b.slips([SlipSpec(uid, State.CLOSED, b.in_month(month))])[0]
        total = sum(m.total_fen for m in entries)
        issued = min(b.in_month(month_back(today, k - 1)), datetime.now(UTC) - timedelta(hours=1))
        st = b.statement(uid, month, total, issued)
        b.entries(entries, st)
        rows = [{"kind": K.SLIP.value, "method": "wechat", "amount_fen": paid.total_fen,
                 "unit_id": uid, "slip_id": paid.id, "at": paid.spec.done + timedelta(hours=1)}]
        if k > 2:
            rows.append({"kind": K.STATEMENT.value, "method": "bank_transfer", "amount_fen": total,
                         "unit_id": uid, "statement_id": st, "at": issued + timedelta(days=3)})
        if k % 3 == 0:
            rows.append({"kind": K.TOPUP.value, "method": "cash", "amount_fen": 50_000,
                         "deposit_fen": 50_000, "unit_id": uid, "at": b.in_month(month)})
        ids = b.payments(rows)
        if k % 12 == 0:
            b.payments([{"kind": K.REVERSAL.value, "method": "wechat",
                         "amount_fen": -paid.total_fen, "unit_id": uid, "slip_id": paid.id,
                         "reverses_id": ids[0], "note": "bench: wrong unit",
                         "at": paid.spec.done + timedelta(hours=2)}])
    return uid


def waiting(b: Builder, want: int) -> None:
    """About `want` rows at the till: pay-now slips, tenants' slips from their (topped-up) deposit,
    errands to prepay and errands back."""
    from app.domain.settlement import PayRoute
    from app.domain.slip_states import State
    from app.models.billing import PaymentKind
    from app.models.property import ResidentKind
    from app.services import billing
    rng, now = b.rng, datetime.now(UTC)
    owners, tenants = b.units_with(), b.units_with(ResidentKind.TENANT)
    want = max(0, want - len(billing.queue()))  # the demo's own rows count towards it
    n_dep, n_errand = want // 5, want // 10

    def ago() -> datetime:
        return now - timedelta(minutes=rng.randint(5, 600))
    b.slips([SlipSpec(rng.choice(owners), State.COMPLETED, ago())
             for _ in range(want - n_dep - 2 * n_errand)])
    deposit = b.slips([SlipSpec(rng.choice(tenants), State.COMPLETED, ago(), PayRoute.DEPOSIT,
                                ResidentKind.TENANT) for _ in range(n_dep)])
    b.slips([SlipSpec(rng.choice(owners), State.REGISTERED, now - timedelta(minutes=30),
                      lines=1, errand=True, purchase_fen=20_000) for _ in range(n_errand)])
    back = b.slips([SlipSpec(rng.choice(owners), State.COMPLETED, ago(), lines=1, errand=True,
                             purchase_fen=20_000,
                             purchase_spent_fen=rng.choice((17_450, 20_000, 23_800)))
                    for _ in range(n_errand)])
    b.payments([{"kind": PaymentKind.ERRAND_PREPAY.value, "method": "cash",
                 "amount_fen": m.total_fen + 20_000, "unit_id": m.spec.unit_id,
                 "slip_id": m.id, "at": m.spec.done - timedelta(hours=4)} for m in back])
    b.payments([{"kind": PaymentKind.TOPUP.value, "method": "wechat", "amount_fen": 50_000,
                 "deposit_fen": 50_000, "unit_id": u, "at": now - timedelta(days=20)}
                for u in {m.spec.unit_id for m in deposit}])


def prepare(app: Flask, sizes: Any) -> dict[str, Any]:
    from app.extensions import db
    from app.models import Unit
    from app.services import billing
    with app.app_context():
        b = Builder(random.Random(7))
        units = {"3y": unit_with_history(b, sizes.unit_months), "1m": unit_with_history(b, 1)}
        waiting(b, sizes.queue_waiting)
        b.finish()
        db.session.commit()
        why: dict[str, int] = {}
        for row in billing.queue():
            why[row.why] = why.get(row.why, 0) + 1
        return {"keys": {n: db.session.get(Unit, u).search_key for n, u in units.items()},
                "waiting": why}


Call = Callable[[], Any]


def interleaved(sides: dict[str, dict], calls: dict[str, Call], n: int, keep: bool = False,
                warm: bool = True) -> dict[str, dict[str, Any]]:
    """n calls on each side, one here, one there: timings, the last call's statements and
    result."""
    if warm:
        for call in calls.values():
            call()
    out: dict[str, dict[str, Any]] = {s: {"t": []} for s in sides}
    for _ in range(n):
        for s, side in sides.items():
            with side["sql"](keep=keep) as c:
                t0 = time.perf_counter()
                out[s]["last"] = calls[s]()
                out[s]["t"].append(ms_since(t0))
            out[s].update(n=c.n, seen=list(c.seen))
    return out


def queue_rows(app: Flask) -> Call:
    from app.services import billing

    def call() -> int:
        with app.app_context():
            return len(billing.queue())
    return call


def payer(app: Flask, made: list[Made]) -> Call:
    todo = iter(made)

    def call() -> str:
        with app.app_context():
            m = next(todo)
            return pay(m.id, m.total_fen, user("cashier"), m.id)[0]
    return call


def run(ws: Workspace) -> dict[str, Any]:
    from app.extensions import db
    sizes = ws.sizes
    sides: dict[str, dict] = {}
    for size, n in (("small", sizes.history_small), ("large", sizes.history_large)):
        app = make_app(f"sqlite:///{ws.sqlite(f'till-{size}', ws.history_file(n))}",
                       ws.instance(f"till-{size}"))
        with app.app_context():
            sql = SqlCount(db.engine)
        sides[size] = {"app": app, "sql": sql, "history": n, **prepare(app, sizes),
                       "client": signed_in(app, "cashier")}
    keys = sides["large"]["keys"]
    pages = {"queue_page": ("/cashier/", None),
             "queue_partial": ("/cashier/", {"HX-Request": "true"}),
             **{f"unit_{k}": (f"/cashier/units/{key}", None) for k, key in keys.items()}}
    out: dict[str, Any] = {"history": {s: v["history"] for s, v in sides.items()},
                           "waiting": sides["large"]["waiting"], "pages": {}}
    for name, (path, headers) in pages.items():
        got = interleaved(sides, {s: lambda c=v["client"], p=path, h=headers: c.get(p, headers=h)
                                  for s, v in sides.items()}, sizes.page_requests, keep=True)
        out["pages"][name] = {s: {**stats(r["t"]), "sql": r["n"], "kb": len(r["last"].data) / 1024,
                                  "repeated": shapes(r["seen"], 3)[:6]} for s, r in got.items()}
    got = interleaved(sides, {s: queue_rows(v["app"]) for s, v in sides.items()},
                      sizes.page_requests)
    out["queue_service"] = {s: {**stats(r["t"]), "sql": r["n"], "rows": r["last"]}
                            for s, r in got.items()}
    runs = max(2, sizes.page_requests // 4)
    st, wall = profiled(lambda: sides["large"]["client"].get(f"/cashier/units/{keys['3y']}"),
                        runs)
    out["unit_profile"] = {"request_ms": wall, "runs": runs,
                           "parts": cumulative_ms(st, PROFILE_PARTS, runs)}
    n_pay = max(2, sizes.payments // 3)
    made = {s: finished(v["app"], n_pay, random.Random(8)) for s, v in sides.items()}
    got = interleaved(sides, {s: payer(v["app"], made[s]) for s, v in sides.items()}, n_pay,
                      warm=False)
    out["payments"] = {s: stats(r["t"]) for s, r in got.items()}
    with sides["large"]["app"].app_context():
        out["units"] = {name: _unit_rows(key) for name, key in keys.items()}
        out["payments_rows"] = {s: _payments(v["app"]) for s, v in sides.items()}
    for v in sides.values():
        with v["app"].app_context():
            db.engine.dispose()
    return out


def _payments(app: Flask) -> int:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models.billing import Payment
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Payment))


def _unit_rows(key: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models.billing import AccountEntry, Payment, Statement
    from app.services import billing
    unit = billing.unit_by_key(key)
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m).where(
        m.unit_id == unit.id)) for m in (AccountEntry, Statement, Payment)}
