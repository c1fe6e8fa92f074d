"""Finding a unit or resident as the clerk types, the office pages, the lobby notice PDF:
in-process (Flask's test client) on the demo, the app's own time per request."""
from __future__ import annotations

import time
from typing import Any

from scripts.bench.common import ms_since, pdf_info, stats, timed
from scripts.bench.databases import Workspace, signed_in

QUERIES = ("3-2-15", "3栋2单元1502", "1502", "王", "张伟", "1380", "13905710002", "6-3-1101")
PAGES = {"clerk": ("/desk/", "/catalogue/"), "manager": ("/manage/", "/manage/audit"),
         "worker": ("/field/", "/field/prices")}
HTMX = {"HX-Request": "true"}


def run(ws: Workspace) -> dict[str, Any]:
    sizes = ws.sizes
    app = ws.app("finder")
    clerk = signed_in(app, "clerk")

    def find(q: str) -> None:
        resp = clerk.get("/property/find", query_string={"q": q}, headers=HTMX)
        assert resp.status_code == 200, (q, resp.status_code)

    queries, every = [], []
    for q in QUERIES:
        find(q)
        samples = timed(lambda q=q: find(q), sizes.find_repeats)
        queries.append({"q": q, **stats(samples)})
        every += samples
    pages = []
    for user, paths in PAGES.items():
        client = signed_in(app, user)
        for path in paths:
            assert client.get(path).status_code == 200, path
            pages.append({"path": path, **stats(timed(lambda c=client, p=path: c.get(p),
                                                      sizes.page_repeats))})
    t0 = time.perf_counter()
    first = clerk.get("/catalogue/notice.pdf")
    first_ms = ms_since(t0)
    assert first.mimetype == "application/pdf", first.status_code
    warm = timed(lambda: clerk.get("/catalogue/notice.pdf"), sizes.notice_renders)
    return {"queries": queries, "all_queries": stats(every), "pages": pages,
            "notice": {"first_ms": first_ms, **stats(warm), **pdf_info(first.data)}}
