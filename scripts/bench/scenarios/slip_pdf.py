"""The printed slip: `GET /slips/<number>/slip.pdf` over HTTP as the supervisor (gunicorn, the
large history), then the same in-process with a cProfile of where a render's time goes."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from scripts.bench.common import (
    cumulative_ms,
    ms_since,
    pdf_info,
    profiled,
    stats,
    timed,
)
from scripts.bench.databases import Workspace, make_app, signed_in
from scripts.bench.served import Http, history_server, sign_in

TARGET_MS = 250.0
PARTS = {"the view (slips.slip_pdf)": ("views/slips.py", "slip_pdf"),
         "WeasyPrint: parse, style and lay out (HTML.render)": ("weasyprint/__init__.py",
                                                                 "render"),
         "WeasyPrint: write the PDF (Document.write_pdf)": ("weasyprint/document.py",
                                                           "write_pdf"),
         "of which font subsetting (harfbuzz)": ("pdf/fonts.py", "_harfbuzz_subset")}


def over_http(c: Http, path: str, renders: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    status, _, body = c.get(path)
    first = ms_since(t0)
    if status != 200 or not body.startswith(b"%PDF"):
        raise RuntimeError(f"{path}: HTTP {status}")
    for _ in range(min(4, renders)):  # warm both workers
        c.get(path)
    return {"first_ms": first, **stats(timed(lambda: c.get(path), renders)), **pdf_info(body)}


def in_process(ws: Workspace, file: Path, path: str, renders: int) -> dict[str, Any]:
    app = make_app(f"sqlite:///{file}", ws.instance("slip-pdf"))
    client = signed_in(app, "supervisor")
    for _ in range(min(3, renders)):
        client.get(path)
    warm = stats(timed(lambda: client.get(path), max(1, renders // 2)))
    runs = min(5, renders)
    st, _wall = profiled(lambda: client.get(path), runs)
    return {**warm, "breakdown": cumulative_ms(st, PARTS, runs)}


def run(ws: Workspace) -> dict[str, Any]:
    from app.services.slips import SLIP_NUMBER
    renders = ws.sizes.slip_pdf_renders
    server = history_server(ws, "large")
    sup = sign_in(server.port, "supervisor")
    numbers = SLIP_NUMBER.findall(sup.get("/supervise/")[2].decode())
    if not numbers:
        raise RuntimeError("no slip number on the board")
    path = f"/slips/{numbers[0]}/slip.pdf"
    http = over_http(Http(server.port, sup.cookies), path, renders)
    out = {"path": path, "http": http, "in_process": in_process(ws, server.db_file, path, renders),
           "target_ms": TARGET_MS}
    out["met"] = http["median"] <= TARGET_MS and http["p95"] <= TARGET_MS
    return out
