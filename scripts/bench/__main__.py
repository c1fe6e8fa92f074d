"""`python -m scripts.bench full [--only NAME ...]` (make bench) writes docs/bench/results.json
and the figures in docs/PERFORMANCE.md; `python -m scripts.bench quick` (make bench-quick, part
of make test) runs every scenario with tiny sizes into test-artifacts/bench/ and fails if any
raises or gives an empty result. `python -m scripts.bench report` renders the doc again from
the saved results."""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scripts.bench import report
from scripts.bench.check import check
from scripts.bench.common import ROOT, log, machine
from scripts.bench.databases import Workspace
from scripts.bench.scenarios import NAMES, NEEDS_WRK, SERVED, runner
from scripts.bench.scenarios.idle import CHROMIUM
from scripts.bench.sizes import FULL, QUICK

RESULTS = ROOT / "docs" / "bench" / "results.json"
QUICK_RESULTS = ROOT / "test-artifacts" / "bench" / "results.json"


def missing(name: str) -> str | None:
    """What this machine lacks for a scenario (wrk, Chromium), if anything."""
    if name in NEEDS_WRK and not shutil.which("wrk"):
        return "wrk is missing: apt-get install wrk"
    if name == "idle" and not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing: apt-get install chromium"
    return None


def run_one(ws: Workspace, name: str, out: dict[str, Any]) -> None:
    lacking = missing(name)
    if lacking:  # a full run fails on it; a quick one says so and goes on
        out["skipped" if ws.sizes.quick else "failed"][name] = lacking
        log(f"{name}: {lacking}")
        return
    log(f"== {name}")
    t0 = time.monotonic()
    try:
        result = runner(name)(ws)
    except Exception:  # noqa: BLE001 - recorded; the run fails at the end
        out["failed"][name] = traceback.format_exc()
        log(f"{name} failed:\n{out['failed'][name]}")
        return
    result["took_s"] = time.monotonic() - t0
    out["scenarios"][name] = result
    log(f"   {name}: {result['took_s']:.1f} s")


def run_all(names: list[str], quick: bool) -> dict[str, Any]:
    """Each scenario in turn; a quick run builds the databases first, then runs the scenarios
    served by gunicorn beside the in-process ones (two threads: its timings mean nothing)."""
    ws = Workspace(QUICK if quick else FULL)
    started = time.monotonic()
    out: dict[str, Any] = {"when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                           "mode": "quick" if quick else "full", "machine": machine(),
                           "scenarios": {}, "failed": {}, "skipped": {}}
    try:
        if quick:
            for n in (ws.sizes.history_small, ws.sizes.history_large):
                ws.history_file(n)
            groups = [[n for n in names if n in SERVED], [n for n in names if n not in SERVED]]
            with ThreadPoolExecutor(2) as pool:
                for done in [pool.submit(lambda g=g: [run_one(ws, n, out) for n in g])
                             for g in groups]:
                    done.result()
        else:
            for name in names:
                run_one(ws, name, out)
    finally:
        out["facts"] = ws.facts
        out["took_s"] = time.monotonic() - started
        ws.close()
    out["scenarios"] = {n: out["scenarios"][n] for n in names if n in out["scenarios"]}
    return out


def merged(new: dict[str, Any], path: Path) -> dict[str, Any]:
    """The saved results with this run's scenarios replacing theirs (for --only)."""
    old = json.loads(path.read_text()) if path.exists() else {"scenarios": {}}
    for name, result in new["scenarios"].items():
        result["when"], result["machine"] = new["when"], new["machine"]
        old["scenarios"][name] = result
    old.update(when=new["when"], machine=new["machine"], mode=new["mode"],
               facts={**old.get("facts", {}), **new["facts"]})
    return old


def save(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, default=str, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench", description=__doc__)
    parser.add_argument("mode", choices=("full", "quick", "report"))
    parser.add_argument("--only", nargs="+", choices=NAMES, metavar="SCENARIO",
                        help=f"some of: {', '.join(NAMES)}")
    args = parser.parse_args(argv)
    for name in ("alembic", "weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.WARNING)
    if args.mode == "report":
        report.write(json.loads(RESULTS.read_text()))
        return 0
    names = list(args.only or NAMES)
    results = run_all(names, quick=args.mode == "quick")
    if args.mode == "quick":
        save(results, QUICK_RESULTS)
        problems = check(results, names)
        report.render(results)  # the template must render every quick result too
        for name, why in results["skipped"].items():
            log(f"skipped {name}: {why}")
        for p in problems:
            print(f"bench-quick: {p}", file=sys.stderr)
        log(f"quick run: {results['took_s']:.0f} s, results in "
            f"{QUICK_RESULTS.relative_to(ROOT)}")
        return 1 if problems else 0
    for name, why in results["failed"].items():
        print(f"{name} failed:\n{why}", file=sys.stderr)
    saved = merged(results, RESULTS)
    save(saved, RESULTS)
    report.write(saved)
    log(f"done in {results['took_s'] / 60:.1f} minutes: {RESULTS.relative_to(ROOT)}, "
        "docs/PERFORMANCE.md")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
