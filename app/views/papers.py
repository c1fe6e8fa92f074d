"""Money's printouts: a receipt (收款收据 / 退款凭证), a unit's monthly statement
(有偿便民服务月结统计表) and the daily cash report. Each is a PDF in the reader's language,
with the Chinese always printed."""
from __future__ import annotations

from flask import Blueprint, Response, abort
from flask_babel import get_locale

from app.domain.errors import DomainError
from app.domain.permissions import Perm
from app.services import billing
from app.services.money_documents import (
    cash_report_context,
    receipt_context,
    statement_context,
)
from app.services.pdf import render_pdf
from app.web.guards import require

bp = Blueprint("papers", __name__)


def _pdf(data: bytes, filename: str) -> Response:
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


@bp.route("/receipts/<number>.pdf")
@require(Perm.RECEIPT_PRINT)
def receipt_pdf(number: str):
    """A receipt printed again, A5; a voided one says VOID / 作废. 404 for an unknown number."""
    payment = billing.receipt(number) or abort(404)
    return _pdf(render_pdf("pdf/receipt.html", receipt_context(payment, str(get_locale()))),
                f"receipt-{payment.number}.pdf")


@bp.route("/statements/<unit>/<month>.pdf")
@require(Perm.STATEMENT_PRINT)
def statement_pdf(unit: str, month: str):
    """A unit's statement for a month (unit = 3-2-1502, month = YYYY-MM), A4; 404 if none."""
    found = billing.unit_by_key(unit) or abort(404)
    try:
        month = billing.parse_month(month)
    except DomainError:
        abort(404)
    statement = billing.statement_of(found, month) or abort(404)
    return _pdf(render_pdf("pdf/statement.html", statement_context(statement, str(get_locale()))),
                f"statement-{found.search_key}-{month}.pdf")


@bp.route("/reports/cashier/<day>.pdf")
@require(Perm.CASH_REPORT)
def cash_report_pdf(day: str):
    """The day's cash report (YYYY-MM-DD, a day that has begun), A4; 404 otherwise."""
    try:
        when = billing.parse_day(day)
    except DomainError:
        abort(404)
    report = billing.day_report(when)
    return _pdf(render_pdf("pdf/cash_report.html", cash_report_context(report, str(get_locale()))),
                f"cash-report-{when.isoformat()}.pdf")
