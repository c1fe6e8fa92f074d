"""How big each scenario runs: the full run (`make bench`) and the quick one (`make test`)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    quick: bool
    # finder and pages (in-process, the demo)
    find_repeats: int = 60
    page_repeats: int = 30
    notice_renders: int = 5
    # history: historic slips (each closed one with its payment) on the small and large copy
    history_small: int = 1_000
    history_large: int = 100_000
    # gunicorn + wrk
    wrk_seconds: int = 10
    sequential: int = 200
    in_process: int = 60
    profile_requests: int = 50
    propagation_clients: int = 16
    propagation_changes: int = 60
    slip_pdf_renders: int = 20
    idle_baseline_s: int = 60
    idle_seconds: int = 150
    idle_waits: int = 20
    # money (in-process)
    payments: int = 300
    http_payments: int = 60
    parallel: int = 20
    month_end_units: tuple[int, ...] = (500, 2_000)
    statement_entries: int = 100
    day_payments: int = 200
    pdf_renders: int = 5
    queue_waiting: int = 30
    page_requests: int = 40
    unit_months: int = 36
    # open screens against the board
    screens: int = 500
    screen_classes: tuple[str, ...] = ("gevent", "gthread")


FULL = Sizes(quick=False)
QUICK = Sizes(
    quick=True, find_repeats=2, page_repeats=2, notice_renders=1,
    history_small=300, history_large=800, wrk_seconds=1, sequential=2, in_process=2,
    profile_requests=2, propagation_clients=3, propagation_changes=2, slip_pdf_renders=1,
    idle_baseline_s=1, idle_seconds=1, idle_waits=2,
    payments=5, http_payments=2, parallel=4, month_end_units=(10, 20), statement_entries=10,
    day_payments=10, pdf_renders=1, queue_waiting=10, page_requests=2, unit_months=3,
    screens=6, screen_classes=("gevent",))
