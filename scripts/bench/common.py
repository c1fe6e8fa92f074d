"""Helpers every scenario shares: timing and percentiles, an SQL statement counter, the
machine's description, cProfile summaries and what poppler says about a PDF."""
from __future__ import annotations

import cProfile
import io
import os
import platform
import pstats
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def pct(samples: list[float], p: float) -> float:
    """The p-th percentile (nearest rank); NaN for no samples."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))]


def stats(samples: list[float]) -> dict[str, float]:
    """Median, p95, max and count of timings (ms)."""
    if not samples:
        raise ValueError("no samples")
    return {"median": statistics.median(samples), "p95": pct(samples, 95),
            "max": max(samples), "n": len(samples)}


def ms_since(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def timed(fn: Callable[[], Any], n: int) -> list[float]:
    """n calls of fn, each timed in ms."""
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(ms_since(t0))
    return out


class SqlCount:
    """Counts (and on request keeps, and times) the statements an engine sends."""

    def __init__(self, engine: Any):
        from sqlalchemy import event
        self.n, self.on, self.keep = 0, False, False
        self.seen: list[str] = []
        self.took: dict[str, list] = {}  # statement -> [seconds, params]
        self.sql_s = 0.0

        def before(conn, cursor, statement, params, context, executemany):
            conn.info["bench_t"] = time.perf_counter()

        def after(conn, cursor, statement, params, context, executemany):
            took = time.perf_counter() - conn.info.pop("bench_t", time.perf_counter())
            if not self.on:
                return
            self.n += 1
            self.sql_s += took
            if self.keep:
                self.seen.append(statement)
                entry = self.took.setdefault(statement, [0.0, params])
                entry[0] += took
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)

    @contextmanager
    def __call__(self, keep: bool = False) -> Iterator[SqlCount]:
        self.n, self.on, self.keep, self.seen, self.sql_s = 0, True, keep, [], 0.0
        self.took = {}
        try:
            yield self
        finally:
            self.on = False


def shapes(statements: list[str], more_than: int = 0) -> list[tuple[int, str]]:
    """Statements grouped by their text (whitespace squeezed), most repeated first."""
    counts: dict[str, int] = {}
    for s in statements:
        key = " ".join(s.split())
        counts[key] = counts.get(key, 0) + 1
    return sorted(((n, s) for s, n in counts.items() if n > more_than), reverse=True)


def machine() -> dict[str, Any]:
    cpu = "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip()
                   for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "os": f"{platform.system()} {platform.release()}",
            "load": os.getloadavg()[0]}


# ---- cProfile ---------------------------------------------------------------------------

def profiled(fn: Callable[[], Any], runs: int) -> tuple[pstats.Stats, float]:
    """fn run `runs` times under cProfile: the stats and the wall ms per run."""
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for _ in range(runs):
        fn()
    prof.disable()
    return pstats.Stats(prof), ms_since(t0) / runs


def cumulative_ms(st: pstats.Stats, parts: dict[str, tuple[str, str]], runs: int
                  ) -> dict[str, float]:
    """Cumulative ms per run of named functions: label -> (a part of the file name, function)."""
    return {label: max((v[3] for (file, _line, name), v in st.stats.items()  # type: ignore[attr-defined]
                        if name == func and file_part in file), default=0.0) / runs * 1000
            for label, (file_part, func) in parts.items()}


def profile_text(st: pstats.Stats, cumulative: int = 28, own: int = 15) -> str:
    parts = []
    for key, count, title in (("cumulative", cumulative, "by cumulative time"),
                              ("tottime", own, "by own time")):
        buf = io.StringIO()
        st.stream = buf  # type: ignore[attr-defined]
        st.sort_stats(key).print_stats(count)
        parts.append(f"-- {title} --\n" + _trim_profile(buf.getvalue()))
    return "\n\n".join(parts)


def _trim_profile(text: str) -> str:
    keep = []
    for line in text.splitlines():
        if not line.strip():
            continue
        line = line.replace(str(ROOT) + "/", "").replace(str(VENV_BIN.parent) + "/", ".venv/")
        keep.append(re.sub(r"(/usr/local/)?lib/python3\.\d+/(site-packages/)?", "", line))
    start = next((i for i, ln in enumerate(keep) if "ncalls" in ln), 0)
    return "\n".join(keep[start:])


# ---- PDFs -------------------------------------------------------------------------------

def pdf_info(data: bytes) -> dict[str, Any]:
    """Pages, paper (A4, A5, else millimetres) and KB of a PDF, from poppler's pdfinfo."""
    out: dict[str, Any] = {"kb": len(data) / 1024, "pages": None, "paper": None}
    try:
        info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, timeout=30,
                              check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return out
    pages = re.search(rb"Pages:\s+(\d+)", info)
    size = re.search(rb"Page size:\s+([\d.]+) x ([\d.]+) pts(?: \((\w+)\))?", info)
    if pages:
        out["pages"] = int(pages.group(1))
    if size:
        w, h = (float(size.group(i)) * 25.4 / 72 for i in (1, 2))
        named = {(148, 210): "A5", (210, 297): "A4"}.get((round(w), round(h)))
        out["paper"] = (size.group(3).decode() if size.group(3) else named) or \
            f"{w:.0f}×{h:.0f} mm"
    return out
