"""The quick run's guard (no pytest): every scenario asked for is in the results, none failed,
and each holds the figures its part of the report is drawn from, as finite numbers."""
from __future__ import annotations

import math
from typing import Any

# scenario -> dotted paths that must lead to a finite number (or a non-empty list)
REQUIRED: dict[str, tuple[str, ...]] = {
    "finder": ("all_queries.median", "pages", "notice.median", "notice.pages"),
    "board": ("lines", "sequential", "verdict.worst_p95", "verdict.job_ratio",
              "in_process.pages.board.large.total_ms", "in_process.pages.job list.small.queries",
              "in_process.breakdown"),
    "live": ("answer.p95", "from_sent.p50", "screen.p50", "worst.max"),
    "slip_pdf": ("http.median", "http.first_ms", "in_process.median"),
    "idle": ("minutes", "baseline_cpu_per_min", "open_cpu_per_min", "wait_requests_per_min"),
    "payments": ("backends.sqlite.services.median", "backends.sqlite.http.median",
                 "backends.sqlite.parallel.wall_ms", "backends.sqlite.ratio"),
    "month_end": ("backends.sqlite",),
    "money_pdfs": ("docs.receipt.median", "docs.statement.median", "docs.cash_report.median",
                   "docs.statement.pages"),
    "till": ("pages.queue_page.large.median", "pages.unit_3y.small.median",
             "queue_service.large.rows", "payments.large.median", "unit_profile.request_ms"),
    "screens": ("classes",),
}


def dig(data: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(data, dict) or key not in data:
            raise KeyError(path)
        data = data[key]
    return data


def problems_of(name: str, result: dict[str, Any]) -> list[str]:
    out = []
    for path in REQUIRED[name]:
        try:
            value = dig(result, path)
        except KeyError:
            out.append(f"{name}: no {path}")
            continue
        if isinstance(value, list | dict):
            if not value:
                out.append(f"{name}: {path} is empty")
        elif not isinstance(value, int | float) or not math.isfinite(value):
            out.append(f"{name}: {path} is {value!r}, not a number")
    return out


def check(results: dict[str, Any], names: list[str]) -> list[str]:
    out = [f"{name} failed: {why.strip().splitlines()[-1]}"
           for name, why in results.get("failed", {}).items()]
    for name in names:
        if name not in results.get("scenarios", {}):
            if name not in results.get("failed", {}) and name not in results.get("skipped", {}):
                out.append(f"{name}: no result")
            continue
        out += problems_of(name, results["scenarios"][name])
    return out
