"""make test-clock: the unit, service, web and PDF tests with the clock moved to awkward moments.

Each run moves the whole test process's clock (time-machine: datetime, date and time.time) to
one moment in the property's time zone, and every test starts at that moment again:

  month-end     the last day of next month, 23:50
  month-start   the 1st of next month, 00:05
  new-year      31 December of this year, 23:55
  leap-day      29 February of the next leap year, 12:00
  two-years     today two years ahead, 10:00

The moments are counted from the day it runs, so the suite is always tried on the boundaries
ahead of it. Runs go two at a time (the machine has two cores); each has its own temporary
folder and artifacts. Prints one line per moment and exits non-zero if any run failed.
"""
from __future__ import annotations

import argparse
import calendar
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
ZONE = ZoneInfo("Asia/Shanghai")  # the demo property's zone, which the tests use
SUITES = ["tests/unit", "tests/services", "tests/web", "tests/pdf"]


def moments(today: date) -> dict[str, datetime]:
    following = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    end_of_next = following.replace(day=calendar.monthrange(following.year, following.month)[1])
    leap = next(y for y in range(today.year, today.year + 9)
                if calendar.isleap(y) and date(y, 2, 29) >= today)
    two_on = today.replace(year=today.year + 2) if not (today.month == 2 and today.day == 29) \
        else date(today.year + 2, 2, 28)

    def at(d: date, h: int, m: int) -> datetime:
        return datetime(d.year, d.month, d.day, h, m, tzinfo=ZONE)

    return {"month-end": at(end_of_next, 23, 50),
            "month-start": at(following, 0, 5),
            "new-year": at(date(today.year, 12, 31), 23, 55),
            "leap-day": at(date(leap, 2, 29), 12, 0),
            "two-years": at(two_on, 10, 0)}


def run(name: str, moment: datetime, extra: list[str], logs: Path) -> tuple[str, int, float, str]:
    work = Path(tempfile.mkdtemp(prefix=f"psd-clock-{name}-"))
    env = {**os.environ, "PSD_CLOCK_AT": moment.isoformat(),
           "PSD_ARTIFACTS": str(work / "artifacts")}
    log = logs / f"test-clock-{name}.log"
    started = time.monotonic()
    with log.open("w") as out:
        code = subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                "--basetemp", str(work / "tmp"), *SUITES, *extra],
                               cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    lines = [ln for ln in log.read_text().splitlines() if ln.strip()]
    return name, code, time.monotonic() - started, lines[-1] if lines else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="run only these moments (by name)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("pytest_args", nargs="*", help="passed on to pytest (after --)")
    args = parser.parse_args()
    chosen = {k: v for k, v in moments(datetime.now(ZONE).date()).items()
              if not args.only or k in args.only}
    logs = ROOT / "test-artifacts"
    logs.mkdir(exist_ok=True)
    started = time.monotonic()
    for name, moment in chosen.items():
        print(f"  {name:<12} {moment:%Y-%m-%d %H:%M} {moment.tzname()}", flush=True)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda kv: run(*kv, args.pytest_args, logs), chosen.items()))
    failed = 0
    for name, code, took, last in results:
        failed += code != 0
        print(f"{'ok  ' if code == 0 else 'FAIL'} {name:<12} {took:6.0f} s  {last}"
              + ("" if code == 0 else f"   (log: test-artifacts/test-clock-{name}.log)"))
    print(f"test-clock: {len(results) - failed} of {len(results)} moments passed in "
          f"{time.monotonic() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
