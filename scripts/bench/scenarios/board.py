"""The supervisor's board and the worker's job list under load (issue 3): gunicorn (2 processes)
on two copies of the demo with history, small and large, side by side; wrk with 16
connections on each line at both sizes, one client at a time alternating between the two,
then in-process: SQL statements, the slowest with SQLite's plan, where the board's time goes."""
from __future__ import annotations

import re
import time
from typing import Any

from scripts.bench.common import log, stats
from scripts.bench.databases import Workspace
from scripts.bench.scenarios import board_profile
from scripts.bench.served import Http, fresh_path, history_servers, sign_in, wrk
from scripts.bench.wsgi import APP_HELLO_PATH, BARE_PATH

BOARD, FIELD = "/supervise/", "/field/"
HTMX = {"HX-Request": "true"}
TARGETS = {"board_p95_ms": 25.0, "board_share": 0.30, "history_ratio": 1.2}


def discover(sup: Http, worker: Http) -> dict[str, Any]:
    """The board's partial (what its live refresh asks for, as its own HTML names it) and the
    pages' sizes."""
    status, _, body = sup.get(BOARD)
    if status != 200:
        raise RuntimeError(f"board: HTTP {status}")
    html = body.decode()
    partials = [m.group(1).replace("&amp;", "&")
                for tag in re.finditer(r"<[^>]+hx-trigger=\"[^\"]*live-changed[^\"]*\"[^>]*>",
                                       html)
                for m in [re.search(r'hx-get="([^"]+)"', tag.group(0))] if m]
    partial = max(partials, key=len) if partials else None
    found: dict[str, Any] = {"board_kb": len(body) / 1024, "partial": partial,
                             "field_kb": len(worker.get(FIELD)[2]) / 1024}
    if partial:
        status, _, part = sup.get(partial, HTMX)
        found["partial_ok"] = status == 200 and b"<html" not in part[:500].lower()
        found["partial_kb"] = len(part) / 1024
    return found


def plan(found: dict[str, Any]) -> list[dict[str, Any]]:
    """The lines measured: (name, path, who signs in, extra headers, drawn fresh)."""
    boards = [("board, full page", BOARD, {})]
    if found.get("partial_ok"):
        boards.append(("board, htmx partial", found["partial"], HTMX))
    lines = [{"name": "bare Flask route (ceiling)", "path": BARE_PATH, "who": None},
             {"name": "the app's own hello route", "path": APP_HELLO_PATH, "who": None}]
    lines += [{"name": n, "path": p, "who": "sup", "headers": h} for n, p, h in boards]
    lines += [{"name": f"{n}, drawn fresh", "path": p, "who": "sup", "headers": h,
               "fresh": True} for n, p, h in boards]
    lines.append({"name": "worker's job list", "path": FIELD, "who": "worker"})
    return lines


def under_load(sides: dict[str, dict], lines: list[dict], seconds: int) -> None:
    """wrk on each line, at the small size and straight after at the large one."""
    for line in lines:
        for size, side in sides.items():
            headers = dict(line.get("headers") or {})
            if line["who"]:
                headers["Cookie"] = side[line["who"]].cookie()
            line[size] = wrk(side["server"], line["path"], seconds, headers,
                             line.get("fresh", False))
        log(f"   {line['name']}: p95 {line['small']['p95']:.1f} / {line['large']['p95']:.1f} ms")


def one_at_a_time(sides: dict[str, dict], line: dict, n: int) -> dict[str, Any]:
    """One client per server, alternating request by request, after 20 warm-ups."""
    clients = {size: Http(side["server"].port, side[line["who"]].cookies)
               for size, side in sides.items()}
    times: dict[str, list[float]] = {size: [] for size in sides}
    run = time.monotonic_ns()
    for i in range(-min(20, n), n):
        for size, c in clients.items():
            path = fresh_path(line["path"], f"{run}-{i}") if line.get("fresh") else line["path"]
            t0 = time.perf_counter()
            status = c.get(path, line.get("headers"))[0]
            if i >= 0:
                times[size].append((time.perf_counter() - t0) * 1000)
            if status != 200:
                raise RuntimeError(f"{path}: HTTP {status}")
    for c in clients.values():
        c.close()
    return {"name": line["name"], **{size: stats(ts) for size, ts in times.items()}}


def run(ws: Workspace) -> dict[str, Any]:
    sizes = ws.sizes
    counts = {"small": sizes.history_small, "large": sizes.history_large}
    sides: dict[str, dict] = {}
    for size, server in zip(counts, history_servers(ws, tuple(counts)), strict=True):
        sides[size] = {"server": server, "sup": sign_in(server.port, "supervisor"),
                       "worker": sign_in(server.port, "worker")}
    found = discover(sides["large"]["sup"], sides["large"]["worker"])
    lines = plan(found)
    log(f"board: wrk {sizes.wrk_seconds} s a line, {len(lines)} lines, 2 sizes")
    under_load(sides, lines, sizes.wrk_seconds)
    sequential = [one_at_a_time(sides, line, sizes.sequential) for line in lines if line["who"]]
    log("board: in-process, both sizes ...")
    files = {size: side["server"].db_file for size, side in sides.items()}
    return {"history": counts, "facts": {n: ws.facts[f"history_{n}"] for n in counts.values()},
            "found": found, "wrk": f"wrk -t2 -c16 -d{sizes.wrk_seconds}s", "lines": lines,
            "sequential": sequential, "in_process": board_profile.run(files, ws, sizes),
            "targets": TARGETS, "verdict": verdict(lines, sequential)}


def verdict(lines: list[dict], sequential: list[dict]) -> dict[str, Any]:
    """The targets judged on the board as drawn fresh (what a live board asks after a change)."""
    by = {line["name"]: line for line in lines}
    bare = by["bare Flask route (ceiling)"]["large"]["rps"]
    fresh = [line for line in lines if line["name"].startswith("board") and line.get("fresh")]
    seq = {s["name"]: s for s in sequential}
    ratios = {line["name"]: seq[line["name"]]["large"]["median"]
              / seq[line["name"]]["small"]["median"] for line in fresh}
    worst_p95 = max(line["large"]["p95"] for line in fresh)
    worst_share = min(line["large"]["rps"] for line in fresh) / bare
    return {"worst_p95": worst_p95, "worst_share": worst_share, "ratios": ratios,
            "board_p95": worst_p95 <= TARGETS["board_p95_ms"],
            "share": worst_share >= TARGETS["board_share"],
            "ratio": max(ratios.values()) <= TARGETS["history_ratio"],
            "job_ratio": seq["worker's job list"]["large"]["median"]
            / seq["worker's job list"]["small"]["median"]}
