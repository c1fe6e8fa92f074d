"""One module per question; each `run(ws)` returns its figures as a JSON-ready dict."""
from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

# name -> module, in the order they run and appear in docs/PERFORMANCE.md
NAMES = ("finder", "board", "live", "slip_pdf", "idle", "payments", "month_end", "money_pdfs",
         "till", "screens")
# the ones on the shared history servers (a quick run runs them beside the others)
SERVED = ("board", "live", "slip_pdf", "idle")
# the ones that need wrk (skipped with a note when it is missing)
NEEDS_WRK = ("board", "screens")


def runner(name: str) -> Callable[[Any], dict[str, Any]]:
    return import_module(f"scripts.bench.scenarios.{name}").run
