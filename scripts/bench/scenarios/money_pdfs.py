"""Money PDFs, warm (issue 4): a receipt (A5), a statement of many entries (A4) and a day's cash
report of many payments (taken through `take_payment` under `clock.at`), over the test
client as the demo cashier; the context function alone, and one render split into its parts."""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from scripts.bench.common import SqlCount, log, ms_since, pdf_info, stats, timed
from scripts.bench.databases import Workspace, signed_in
from scripts.bench.history import Builder
from scripts.bench.scenarios.money import (
    finished,
    month_back,
    on,
    on_account,
    pay,
    run_month_end,
    user,
)


def split(template: str, context: dict) -> dict[str, float] | None:
    """render_pdf's three parts timed apart: HTML (Jinja), WeasyPrint's layout, the writing
    (fonts subset and embedded). Mirrors app.services.pdf.render_pdf; None if it changed."""
    try:
        from flask import current_app
        from weasyprint import HTML

        from app.services import pdf
        t0 = time.perf_counter()
        html = pdf.render_document_html(template, {**context, "for_print": True})
        t1 = time.perf_counter()
        static = Path(current_app.static_folder or "")
        sheets = [pdf._stylesheet(static, href) for href in pdf._STYLESHEET_LINK.findall(html)]
        doc = HTML(string=pdf._STYLESHEET_LINK.sub("", html), base_url=static.as_uri() + "/",
                   url_fetcher=pdf._fetcher_class()(static)).render(
            stylesheets=sheets, font_config=pdf._font_config())
        t2 = time.perf_counter()
        doc.write_pdf()
    except (AttributeError, ImportError, TypeError):
        return None
    return {"html_ms": (t1 - t0) * 1000, "layout_ms": (t2 - t1) * 1000,
            "write_ms": ms_since(t2), "html_kb": len(html.encode()) / 1024}


def measure(app: Flask, sql: SqlCount, path: str, context: Callable[[], dict], template: str,
            renders: int) -> dict[str, Any]:
    client = signed_in(app, "cashier")
    t0 = time.perf_counter()
    first = client.get(path)
    first_ms = ms_since(t0)
    assert first.mimetype == "application/pdf", (path, first.status_code)
    with sql():
        client.get(path)
    count = sql.n
    warm = stats(timed(lambda: client.get(path), renders))
    with app.test_request_context():
        from flask_login import login_user

        from app.extensions import db
        login_user(user("cashier"))
        db.session.expire_all()
        with sql() as c:
            t0 = time.perf_counter()
            ctx = context()
            ctx_ms = ms_since(t0)
        parts = split(template, ctx)
    return {"first_ms": first_ms, **warm, "sql": count, **pdf_info(first.data),
            "context_ms": ctx_ms, "context_sql": c.n, "split": parts}


def a_day_of_payments(app: Flask, rng: random.Random, count: int) -> tuple[date, int]:
    """A past day with no money yet: `count` payments through take_payment under clock.at by
    three cashiers; two receipts voided; each cashier's cash counted."""
    from app.extensions import db
    from app.services import billing, clock
    with app.app_context():
        day = clock.local_today() - timedelta(days=400)
        b = Builder(rng)
        at = b.local(day, 8)
    made = finished(app, count, rng, at)
    with app.app_context():
        tills = [user(n) for n in ("cashier", "cashier2", "cashier3")]
        numbers = []
        for k, m in enumerate(made):
            with clock.at(b.local(day, 9) + timedelta(seconds=k * 30000 // count)):
                numbers.append(pay(m.id, m.total_fen, tills[k % 3], k)[0])
        with clock.at(b.local(day, 18)):
            for number in numbers[1:3]:
                billing.void(billing.receipt(number), tills[0], "bench: keyed twice")
                db.session.commit()
        with clock.at(b.local(day, 19)):
            for c in tills:
                billing.count_cash(day, c, 100_000)
        db.session.commit()
    return day, len(made) + 2


def a_statement(app: Flask, rng: random.Random, entries: int) -> tuple[str, str]:
    """One owner's unit with `entries` reviewed entries in an old month, billed by month end."""
    from app.extensions import db
    from app.models import Unit
    from app.models.property import ResidentKind
    from app.services.clock import local_today
    with app.app_context():
        month = month_back(local_today(), 30)
        b = Builder(rng)
        unit_id = b.units_with(ResidentKind.OWNER)[7]
        on_account(b, [unit_id], month, entries)
        b.finish()
        db.session.commit()
        key = db.session.get(Unit, unit_id).search_key
    assert run_month_end(app, month)["made"] == 1
    return key, month


def run(ws: Workspace) -> dict[str, Any]:
    from app.services import billing
    from app.services.money_documents import (
        cash_report_context,
        receipt_context,
        statement_context,
    )
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.WARNING)
    sizes, rng = ws.sizes, random.Random(6)
    with on(ws, "sqlite", "money-pdfs") as (app, sql):
        day, payments = a_day_of_payments(app, rng, sizes.day_payments)
        key, month = a_statement(app, rng, sizes.statement_entries)
        receipt = _a_receipt(app)
        docs = {
            "receipt": (f"/receipts/{receipt}.pdf",
                        lambda: receipt_context(billing.receipt(receipt), "zh_CN"),
                        "pdf/receipt.html"),
            "statement": (f"/statements/{key}/{month}.pdf", lambda: statement_context(
                billing.statement_of(billing.unit_by_key(key), month), "zh_CN"),
                "pdf/statement.html"),
            "cash_report": (f"/reports/cashier/{day.isoformat()}.pdf",
                            lambda: cash_report_context(billing.day_report(day), "zh_CN"),
                            "pdf/cash_report.html")}
        out = {name: measure(app, sql, *doc, sizes.pdf_renders) for name, doc in docs.items()}
    for name, r in out.items():
        log(f"{name} PDF: warm median {r['median']:.0f} ms, {r['pages']} pages")
    return {"docs": out, "day": day.isoformat(), "day_payments": payments,
            "statement_entries": sizes.statement_entries}


def _a_receipt(app: Flask) -> str:
    """The newest receipt of a slip payment."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models.billing import Payment, PaymentKind
    with app.app_context():
        return db.session.scalar(select(Payment.number).where(
            Payment.kind == PaymentKind.SLIP.value, Payment.number.is_not(None))
            .order_by(Payment.id.desc()).limit(1))
