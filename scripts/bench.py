#!/usr/bin/env python3
"""Benchmarks for the foundation; writes docs/PERFORMANCE.md. Run with `make bench`.

Measured in-process with Flask's test client on the demo property (420 units, ~540
residents), so the numbers are the app's own work: routing, queries, templates.
Timings are informative, not asserted: shared machines make timed tests flaky.
"""
from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.config import TestConfig  # noqa: E402
from app.extensions import db  # noqa: E402


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="psd-bench-"))

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp / 'bench.sqlite3'}"
        INSTANCE_PATH = tmp
        WTF_CSRF_ENABLED = False  # the bench posts the login form only

    app = create_app(Config)
    from flask_migrate import upgrade

    from app import demo
    with app.app_context():
        upgrade()
        demo.seed()
        db.session.commit()

    client = app.test_client()
    client.post("/login", data={"username": "clerk", "password": "demo"})
    queries = ["3-2-15", "3栋2单元1502", "1502", "王", "张伟", "1380", "13905710002", "6-3-1101"]
    rows = []
    for q in queries:
        client.get("/property/find", query_string={"q": q}, headers={"HX-Request": "true"})
        samples = timed(lambda: client.get("/property/find", query_string={"q": q},
                                           headers={"HX-Request": "true"}), 60)
        rows.append((q, statistics.median(samples), percentile(samples, 95), max(samples)))
    all_find = []
    for q in queries:
        all_find += timed(lambda: client.get("/property/find", query_string={"q": q},
                                             headers={"HX-Request": "true"}), 20)

    pages = {}
    logins = {"clerk": ["/desk/", "/catalogue/"], "manager": ["/manage/", "/manage/audit"],
              "worker": ["/field/", "/field/prices"]}
    for user, paths in logins.items():
        c = app.test_client()
        c.post("/login", data={"username": user, "password": "demo"})
        for path in paths:
            c.get(path)
            s = timed(lambda: c.get(path), 30)
            pages[path] = (statistics.median(s), percentile(s, 95))

    pdf_client = app.test_client()
    pdf_client.post("/login", data={"username": "clerk", "password": "demo"})
    t = time.perf_counter()
    first = pdf_client.get("/catalogue/notice.pdf")
    first_ms = (time.perf_counter() - t) * 1000
    pdf = timed(lambda: pdf_client.get("/catalogue/notice.pdf"), 5)
    size_kb = len(first.data) / 1024
    info = subprocess.run(["pdfinfo", "-"], input=first.data, capture_output=True, text=False)
    found = re.search(rb"Pages:\s+(\d+)", info.stdout)
    pages_in_pdf = int(found.group(1)) if found else "?"

    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Performance",
        "",
        f"Measured {now} by `scripts/bench.py` (`make bench`) on {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, SQLite, the demo property (420 units). In-process "
        "with Flask's test client: the app's own time per request, without network or server.",
        "",
        "## Finding a unit or resident as the clerk types (`/property/find`, htmx partial)",
        "",
        "Target: well under 100 ms per keystroke.",
        "",
        "| query | median ms | p95 ms | max ms |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| `{q}` | {a:.1f} | {b:.1f} | {c:.1f} |" for q, a, b, c in rows]
    lines += [
        f"| **all queries** | **{statistics.median(all_find):.1f}** | "
        f"**{percentile(all_find, 95):.1f}** | **{max(all_find):.1f}** |",
        "",
        "## Pages",
        "",
        "| page | median ms | p95 ms |",
        "|---|---:|---:|",
    ]
    lines += [f"| `{p}` | {a:.1f} | {b:.1f} |" for p, (a, b) in pages.items()]
    lines += [
        "",
        "## Lobby price-list notice PDF (`/catalogue/notice.pdf`, A4, Noto Sans CJK SC)",
        "",
        f"- first render in this process: {first_ms:.0f} ms",
        f"- warm: median {statistics.median(pdf):.0f} ms, max {max(pdf):.0f} ms over 5 renders",
        f"- {pages_in_pdf} pages, {size_kb:.0f} KB",
        "",
    ]
    out = ROOT / "docs" / "PERFORMANCE.md"
    out.parent.mkdir(exist_ok=True)
    # scripts/bench_slips.py keeps its own section at the end of the file: leave it there.
    old = out.read_text(encoding="utf-8") if out.exists() else ""
    marker = "<!-- bench-slips:begin -->"
    kept = "\n" + old[old.index(marker):] if marker in old else ""
    out.write_text("\n".join(lines) + kept, encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
