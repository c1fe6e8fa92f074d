"""The board and the job list in-process on the small and the large history, alternating
request by request, each at a new URL (so the screen cache draws it): statements, time in
SQL and in all; the slowest statements with SQLite's plan; a cProfile of the board."""
from __future__ import annotations

import re
import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

from scripts.bench.common import SqlCount, cumulative_ms, profile_text, profiled
from scripts.bench.databases import Workspace, make_app, signed_in
from scripts.bench.served import fresh_path
from scripts.bench.sizes import Sizes

PAGES = (("board", "supervisor", "/supervise/"), ("job list", "worker", "/field/"))
BOARD_PARTS = {
    "the view (supervise._board)": ("views/supervise.py", "_board"),
    "reading the board (slips.board)": ("services/slips.py", "board"),
    "SQLite executing statements": ("~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
    "rendering the templates (page_or_partial)": ("web/render.py", "page_or_partial"),
    "the card macro, all cards": ("supervise/_card.html", "macro"),
    "gettext calls from templates": ("jinja2/ext.py", "gettext"),
}


def plan_of(file: Path, statement: str, params: Any) -> list[str]:
    with sqlite3.connect(file) as conn:
        return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + statement, params or ())]


def short(sql: str) -> str:
    sql = re.sub(r"\s+", " ", sql)
    sql = sql if len(sql) < 700 else sql[:700] + " …"
    return re.sub(r"^SELECT .*? FROM ", "SELECT … FROM ", sql) if sql.count(" FROM ") == 1 \
        else sql


def page(files: dict[str, Path], ws: Workspace, user: str, path: str, n: int
         ) -> tuple[dict[str, Any], dict[str, Any]]:
    sides = {}
    for size, file in files.items():
        app = make_app(f"sqlite:///{file}", ws.instance(f"board-{size}"), LIVE_WAIT_SECONDS=25)
        client = signed_in(app, user)
        with app.app_context():
            from app.extensions import db
            sql = SqlCount(db.engine)
        for i in range(min(10, n)):
            client.get(fresh_path(path, f"{size}-w{i}"))
        sides[size] = {"client": client, "sql": sql, "t": [], "n": 0, "sql_s": 0.0, "by": {}}
    for i in range(n):
        for size, side in sides.items():
            with side["sql"](keep=True) as c:
                t0 = time.perf_counter()
                resp = side["client"].get(fresh_path(path, f"{size}-{i}"))
                side["t"].append((time.perf_counter() - t0) * 1000)
            assert resp.status_code == 200, (path, resp.status_code)
            side["n"] += c.n
            side["sql_s"] += c.sql_s
            for statement, (took, params) in c.took.items():
                entry = side["by"].setdefault(statement, [0.0, params])
                entry[0] += took
    out: dict[str, Any] = {size: {"total_ms": statistics.median(s["t"]), "queries": s["n"] / n,
                                  "sql_ms": s["sql_s"] / n * 1000} for size, s in sides.items()}
    large, small = sides["large"]["by"], sides["small"]["by"]
    out["slowest"] = [{"sql": short(st), "plan": plan_of(files["large"], st, params),
                       "ms_large": took / n * 1000,
                       "ms_small": small.get(st, [0.0])[0] / n * 1000}
                      for st, (took, params) in sorted(large.items(), key=lambda kv: -kv[1][0])[:2]]
    return out, sides["large"]


def run(files: dict[str, Path], ws: Workspace, sizes: Sizes) -> dict[str, Any]:
    result: dict[str, Any] = {"pages": {}}
    for name, user, path in PAGES:
        result["pages"][name], large = page(files, ws, user, path, sizes.in_process)
        result["pages"][name]["path"] = path
        if name == "board":
            runs = sizes.profile_requests
            counter = iter(range(10**9))
            st, _wall = profiled(lambda c=large["client"], p=path, k=counter: c.get(
                fresh_path(p, f"p-{next(k)}")), runs)
            result["breakdown"] = cumulative_ms(st, BOARD_PARTS, runs)
            result["profile"] = profile_text(st)
    return result
