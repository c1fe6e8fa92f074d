"""Money's printed paperwork: plain values for templates/pdf/receipt.html (收款收据 / 退款凭证,
A5), templates/pdf/statement.html (有偿便民服务月结统计表, A4) and
templates/pdf/cash_report.html (收银日报表, A4).

As on the slip, Chinese is always printed (the office's paper forms are Chinese) and an
English reader gets the English beside it. Every figure is the stored integer fen, formatted
here: what the PDF says is what the database holds. No ORM object reaches a template.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.domain.money import capital_yuan, format_yuan
from app.domain.pricing import UNITS_OF_CHARGE
from app.extensions import db
from app.models.billing import AccountEntry, Method, Payment, PaymentKind, Statement
from app.models.property import ResidentKind, Unit
from app.models.slips import Slip
from app.services import billing, clock
from app.services.pdf_context import office_header

# How money moved, in both languages (the order is the cash report's columns).
METHOD_NAMES = {
    Method.CASH: ("现金", "Cash"),
    Method.WECHAT: ("微信支付", "WeChat Pay"),
    Method.ALIPAY: ("支付宝", "Alipay"),
    Method.CARD: ("银行卡", "Bank card"),
    Method.BANK: ("银行转账", "Bank transfer"),
    Method.DEPOSIT: ("预交款抵扣", "From the deposit"),
}
KIND_NAMES = {
    PaymentKind.SLIP: ("有偿服务费", "Service fee"),
    PaymentKind.ERRAND_PREPAY: ("代办预付", "Errand prepayment"),
    PaymentKind.ERRAND_BALANCE: ("代购款补收", "Errand balance collected"),
    PaymentKind.ERRAND_CHANGE: ("代购款找零", "Errand change given back"),
    PaymentKind.STATEMENT: ("月结款", "Monthly statement"),
    PaymentKind.TOPUP: ("预交服务费", "Deposit top-up"),
    PaymentKind.REFUND: ("预交款退款", "Deposit refund"),
    PaymentKind.REVERSAL: ("冲正", "Reversal"),
}
# A statement receipt names its slips; past this many it says how many more.
SLIP_NUMBERS_SHOWN = 6


def _local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return clock.local(value).strftime(fmt) if value else ""


def _yuan(fen: int | None) -> str:
    return "" if fen is None else format_yuan(fen, symbol="")


def _pair(names: dict, code: str, english: bool) -> dict:
    zh, en = names.get(code, (code, code))
    return {"zh": zh, "en": en if english else ""}


def _doc(english: bool) -> dict:
    return {**office_header(), "english": english, "lang": "en" if english else "zh-CN"}


# ---- the receipt ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ReceiptLine:
    """One line of what a receipt was for, in both languages: the receipt page and the
    printed receipt show the same lines."""

    name_zh: str
    name_en: str
    amount_fen: int
    quantity: int | None = None
    unit: str = ""
    price_fen: int | None = None
    detail_zh: str = ""
    detail_en: str = ""
    slips: tuple[str, ...] = ()  # a statement's slips (the paper lists them in its head)


def _fee_lines(slip: Slip) -> list[ReceiptLine]:
    """The slip's own lines: what was done, how many, at what price."""
    return [ReceiptLine(line.name_zh, line.name_en, line.amount_fen, line.quantity, line.unit,
                        line.price_fen) for line in slip.lines]


def receipt_lines(p: Payment) -> list[ReceiptLine]:
    """What the money was for, line by line. The lines always add up to the amount received:
    anything taken above them (allowed with a reason) is a line of its own."""
    kind, slip = PaymentKind(p.kind), p.slip
    if kind == PaymentKind.SLIP and slip is not None:
        lines = _fee_lines(slip)
    elif kind == PaymentKind.ERRAND_PREPAY and slip is not None:
        lines = _fee_lines(slip)
        if slip.purchase_fen:
            lines.append(ReceiptLine("代购款", "Purchase money", slip.purchase_fen))
    elif kind in (PaymentKind.ERRAND_BALANCE, PaymentKind.ERRAND_CHANGE) and slip is not None:
        zh, en = KIND_NAMES[kind]
        spent = slip.purchase_spent_fen or 0
        lines = [ReceiptLine(
            zh, en, p.amount_fen,
            detail_zh=f"实际代购 ¥{_yuan(spent)} · 预付代购款 ¥{_yuan(slip.purchase_fen)}",
            detail_en=f"spent ¥{_yuan(spent)}, prepaid ¥{_yuan(slip.purchase_fen)}")]
    elif kind == PaymentKind.STATEMENT and p.statement is not None:
        n = len(p.statement.entries)
        lines = [ReceiptLine(f"有偿便民服务月结 {p.statement.month}（{n} 笔）",
                             f"Monthly statement {p.statement.month} "
                             f"({n} {'entry' if n == 1 else 'entries'})",
                             p.amount_fen,
                             slips=tuple(dict.fromkeys(e.slip.number
                                                       for e in p.statement.entries)))]
    else:  # deposit top-up, deposit refund
        zh, en = KIND_NAMES.get(kind, (p.kind, p.kind))
        lines = [ReceiptLine(zh, en, p.amount_fen)]
    rest = p.amount_fen - sum(line.amount_fen for line in lines)
    if rest:
        lines.append(ReceiptLine("其他（见备注）", "Other (see the note)", rest))
    return lines


def _row(line: ReceiptLine, english: bool) -> dict:
    """A receipt line as the paper prints it (English beside the Chinese on an English one)."""
    detail = line.detail_zh + (f" · {line.detail_en}" if english and line.detail_en else "")
    return {"name_zh": line.name_zh, "name_en": line.name_en if english else "",
            "detail": detail, "quantity": line.quantity if line.quantity is not None else "",
            "unit": line.unit,
            "unit_en": str(UNITS_OF_CHARGE.get(line.unit, "")) if english and line.unit else "",
            "price": _yuan(line.price_fen), "amount_fen": line.amount_fen}


def _slip_numbers(p: Payment) -> tuple[list[str], int]:
    """The slip(s) the money is for, and how many more a statement covers than are listed."""
    if p.slip is not None:
        return [p.slip.number], 0
    if p.statement is not None:
        numbers = list(dict.fromkeys(e.slip.number for e in p.statement.entries))
        return numbers[:SLIP_NUMBERS_SHOWN], max(0, len(numbers) - SLIP_NUMBERS_SHOWN)
    return [], 0


def _payer(p: Payment) -> str:
    if p.payer_name:
        return p.payer_name
    owners = _owner_names(p.unit) if p.kind == PaymentKind.STATEMENT else []
    return "、".join(owners)


def receipt_context(p: Payment, locale: str) -> dict:
    """One receipt (收款收据), or a refund voucher (退款凭证) for money paid out.

    A voucher prints what was paid out as a positive amount under its own title; the
    database keeps it negative. A voided receipt carries the void's reason and date.
    """
    english = locale == "en"
    refund = p.amount_fen < 0
    sign = -1 if refund else 1
    rows = [_row(line, english) for line in receipt_lines(p)]
    for r in rows:
        r["amount"] = _yuan(sign * r.pop("amount_fen"))
    numbers, more = _slip_numbers(p)
    undo = p.reversed_by
    return {
        **_doc(english),
        "number": p.number,
        "refund": refund,
        "kind": _pair(KIND_NAMES, p.kind, english),
        "slip_numbers": numbers,
        "more_slips": more,
        "unit": p.unit.label,
        "payer": _payer(p),
        "lines": rows,
        "total": _yuan(sign * p.amount_fen),
        # 大写金额 is printed on the Chinese receipt only (the rule).
        "capital": "" if english else capital_yuan(sign * p.amount_fen),
        "method": _pair(METHOD_NAMES, p.method, english),
        "cashier": p.cashier.full_name,
        "at": _local(p.at),
        "note": p.note if p.kind != PaymentKind.REFUND else "",
        "reason": p.note if p.kind == PaymentKind.REFUND else "",
        "void": undo is not None,
        "void_reason": undo.note if undo is not None else "",
        "void_at": _local(undo.at) if undo is not None else "",
        "void_by": undo.cashier.full_name if undo is not None else "",
    }


# ---- the monthly statement -----------------------------------------------------------------

def _owner_names(unit: Unit) -> list[str]:
    residents = unit.current_residents
    owners = [r.name for r in residents if r.kind == ResidentKind.OWNER]
    return owners or [r.name for r in residents]


def _entry_row(e: AccountEntry) -> dict:
    undo = e.reverses
    return {
        "date": _local(e.created_at, "%Y-%m-%d"),
        "slip": e.slip.number,
        "services": e.description,
        "signed_by": e.signed_name,
        "amount": _yuan(e.amount_fen),
        "reversal": undo is not None,
        "reason": e.reason,
        "reverses_date": _local(undo.created_at, "%Y-%m-%d") if undo is not None else "",
    }


def statement_context(statement: Statement, locale: str) -> dict:
    """The unit's statement for the month: every entry on it (reversals negative, with their
    reason), the total, what has been paid and what is still due, and room for the owner to
    acknowledge it."""
    english = locale == "en"
    entries = db.session.scalars(
        select(AccountEntry).where(AccountEntry.statement_id == statement.id)
        .options(selectinload(AccountEntry.slip), selectinload(AccountEntry.reverses))
        .order_by(AccountEntry.created_at, AccountEntry.id)).all()
    paid = billing.statement_paid_fen(statement)
    return {
        **_doc(english),
        "unit": statement.unit.label,
        "unit_key": statement.unit.search_key,
        "owners": "、".join(_owner_names(statement.unit)),
        "month": statement.month,
        "issued_at": _local(statement.created_at, "%Y-%m-%d"),
        "entries": [_entry_row(e) for e in entries],
        "count": len(entries),
        "total": _yuan(statement.total_fen),
        "paid": _yuan(paid),
        "due": _yuan(statement.total_fen - paid),
    }


# ---- the daily cash report -----------------------------------------------------------------

MONEY_COLUMNS = tuple(billing.MONEY_METHODS)


def _report_row(p: Payment, english: bool) -> dict:
    undone = p.reverses
    if undone is not None:
        note = f"作废 {undone.number}：{p.note}" + (f" · voids {undone.number}" if english else "")
    else:  # a voided receipt is marked in its number column; its reversal says why
        note = p.note
    return {
        "time": _local(p.at, "%H:%M"),
        "number": p.number or "",
        "kind": _pair(KIND_NAMES, p.kind, english),
        "unit": p.unit.label,
        "slip": p.slip.number if p.slip is not None else "",
        "method": _pair(METHOD_NAMES, p.method, english),
        "cashier": p.cashier.full_name,
        "amount": _yuan(p.amount_fen),
        "void": p.reversed_by is not None,
        "reversal": undone is not None,
        "note": note,
    }


def cash_report_context(report: billing.DayReport, locale: str) -> dict:
    """The day's money: by method, by cashier (expected cash against counted), every receipt
    including the voided ones and their reversals, and lines for two signatures."""
    english = locale == "en"
    methods = [{"name": _pair(METHOD_NAMES, m.value, english),
                "amount": _yuan(report.by_method.get(m.value, 0)),
                "count": sum(1 for p in report.payments if p.method == m.value)}
               for m in MONEY_COLUMNS]
    deposit_fen = report.by_method.get(Method.DEPOSIT.value, 0)
    cashiers = []
    for cid, user in sorted(report.cashiers.items(), key=lambda kv: kv[1].full_name):
        own = report.by_cashier.get(cid, {})
        count = report.counted.get(cid)
        cashiers.append({
            "name": user.full_name,
            "by_method": [_yuan(own.get(m.value, 0)) for m in MONEY_COLUMNS],
            "total": _yuan(sum(own.get(m.value, 0) for m in MONEY_COLUMNS)),
            "deposit": _yuan(own.get(Method.DEPOSIT.value, 0)),
            "expected": _yuan(report.expected_cash(cid)),
            "counted": _yuan(count.counted_fen) if count is not None else "",
            "difference": _yuan(report.difference(cid)) if count is not None else "",
            "short": (report.difference(cid) or 0) < 0,
            "count_note": count.note if count is not None else "",
        })
    return {
        **_doc(english),
        "day": report.day.isoformat(),
        "methods": methods,
        "method_heads": [_pair(METHOD_NAMES, m.value, english) for m in MONEY_COLUMNS],
        "deposit": _yuan(deposit_fen),
        "deposit_count": sum(1 for p in report.payments if p.method == Method.DEPOSIT.value),
        "total": _yuan(report.total_fen),
        "cashiers": cashiers,
        "rows": [_report_row(p, english) for p in report.payments],
        "receipts": report.receipts,
        "voided": report.voided,
    }
