"""The slip's printed paperwork: plain values for templates/pdf/slip.html (the two-copy service
slip, 有偿服务单) and templates/pdf/card.html (the nobody-home card, 有偿服务温馨提示卡).

Chinese is always printed (the office's paper forms are Chinese); an English reader gets the
English beside it. No ORM object reaches a template.
"""
from __future__ import annotations

from datetime import datetime

import segno
from flask import current_app, url_for
from sqlalchemy import select

from app.domain.money import format_yuan
from app.domain.pricing import UNITS_OF_CHARGE, price_label
from app.domain.slip_states import Action, State
from app.extensions import db
from app.models.slips import Slip, SlipEvent, SlipLine
from app.services import clock, slip_money, uploads
from app.services.money_documents import METHOD_NAMES
from app.services.pdf_context import office_header

# The two copies the worker takes: the office keeps the stub, the resident the second copy.
COPIES = (("第一联（存根）", "Copy 1 (office stub)"), ("第二联（客户联）", "Copy 2 (customer)"))
# Item rows on each copy: blank ones, for extra work written in at the door, fill up to this.
SLIP_ROWS = 8


def checkin_url(number: str) -> str:
    """The absolute address of this slip's check-in page on the worker's phone (the QR code).

    PUBLIC_URL (env PSD_PUBLIC_URL, e.g. http://192.168.1.20:5000) wins over the address the
    slip was printed from, which may be one the phones cannot reach (127.0.0.1 on the desk PC).
    """
    public = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if public:
        return public + url_for("field.door", number=number)
    return url_for("field.door", number=number, _external=True)


def qr_svg(url: str) -> str:
    """The QR code as inline SVG; the template sizes it with CSS."""
    return segno.make(url, error="m").svg_inline(scale=3)


def _local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return clock.local(value).strftime(fmt) if value else ""


def window_text(start: datetime | None, end: datetime | None) -> str:
    """'2026-11-23 09:00–11:00', or both dates when the window crosses midnight."""
    if start is None:
        return ""
    if end is None:
        return _local(start)
    same_day = _local(start, "%Y-%m-%d") == _local(end, "%Y-%m-%d")
    return f"{_local(start)}–{_local(end, '%H:%M' if same_day else '%Y-%m-%d %H:%M')}"


def _acceptance(slip: Slip) -> dict | None:
    """A reprint after completion says what happened: who accepted, satisfied or not, their
    remarks and signature (None before: the copy keeps its blank boxes)."""
    if slip.completed_at is None:
        return None
    return {"name": slip.acceptance_name, "satisfied": slip.satisfied,
            "remarks": slip.acceptance_remarks, "at": _local(slip.completed_at),
            "materials": slip.materials, "signature": uploads.signature_data_uri(slip)}


def _settlement(slip: Slip) -> list[tuple[str, str]]:
    """How the slip's money went, as (Chinese, English) lines: each receipt that stands
    (number, method, amount) and the account entry; empty while nothing is settled."""
    rows = []
    for p in slip_money.live_payments(slip):
        zh, en = METHOD_NAMES.get(p.method, (p.method, p.method))
        rows.append((f"收据 {p.number or '—'} · {zh} ¥{_yuan(p.amount_fen)} · {_local(p.at)}",
                     f"receipt {p.number or '—'} · {en}"))
    entry = slip_money.standing_entry(slip)
    if entry is not None:
        state = "已审核" if entry.reviewed_at else "待主管审核"
        rows.append((f"记入 {entry.month} 月结账单 ¥{_yuan(entry.amount_fen)} · {state}",
                     f"on the {entry.month} monthly account"
                     + (" (reviewed)" if entry.reviewed_at else " (awaiting review)")))
    return rows


def _yuan(fen: int | None) -> str:
    return "" if fen is None else format_yuan(fen, symbol="")


def _line_row(seq: int, line: SlipLine, english: bool) -> dict:
    spec = line.spec
    agreed = line.final_price_fen is not None and line.final_price_fen != line.unit_price_fen
    return {
        "seq": seq,
        "name_zh": line.name_zh,
        "name_en": line.name_en if english else "",
        "unit": line.unit,
        "unit_en": str(UNITS_OF_CHARGE.get(line.unit, "")) if english else "",
        "quantity": line.quantity,
        "price": _yuan(line.unit_price_fen),
        "agreed_price": _yuan(line.final_price_fen) if agreed else "",
        "amount": _yuan(line.amount_fen),
        # The list's range, so the worker knows what may be agreed at the door without asking.
        "range": price_label(spec) if spec.is_range else "",
        "by_workload": line.by_workload,
        "free": line.free,
        "needs_approval": line.needs_approval,
    }


def slip_context(slip: Slip, locale: str) -> dict:
    """The two-copy service slip: everything the worker and the resident need on paper."""
    english = locale == "en"
    resident = slip.resident
    url = checkin_url(slip.number)
    return {
        **office_header(),
        "english": english,
        "lang": "en" if english else "zh-CN",
        "copies": [{"zh": zh, "en": en if english else ""} for zh, en in COPIES],
        "number": slip.number,
        "cancelled": slip.state == State.CANCELLED,
        "cancel_reason": slip.cancel_reason,
        "unit": slip.unit.label,
        "resident": resident.name if resident else "",
        "contact_name": slip.contact_name,
        "phone": slip.contact_phone or (resident.phone if resident else ""),
        "request": slip.request,
        "follows": slip.follows.number if slip.follows else "",
        "notes": slip.notes,
        "window": window_text(slip.window_start, slip.window_end),
        "urgent": slip.urgent,
        "free": slip.free,
        "received_by": slip.received_by.full_name,
        "received_at": _local(slip.created_at),
        "worker": slip.worker.full_name if slip.worker else "",
        "helpers": "、".join(h.user.full_name for h in slip.helpers),
        "price_list": slip.price_list.number if slip.price_list else None,
        "lines": [_line_row(i, line, english) for i, line in enumerate(slip.lines, start=1)],
        # Room to write in extra work, until the job is signed: then the lines are final.
        "blank_rows": max(0, SLIP_ROWS - len(slip.lines)) if slip.completed_at is None else 0,
        "quoted_total": _yuan(slip.quoted_total_fen),
        "agreed_total": _yuan(slip.agreed_total_fen),
        "total": _yuan(slip.total_fen),
        "waived": {"amount": _yuan(slip.waived_fen), "by": slip.waived_by.full_name,
                   "reason": slip.waiver_reason} if slip.waived_at else None,
        "needs_approval": slip.needs_approval,
        "accepted": _acceptance(slip),
        "settled": _settlement(slip),
        "checkin_url": url,
        "qr": qr_svg(url),
    }


def last_nobody_home(slip: Slip) -> datetime | None:
    """When the worker last found nobody at home (None: no attempt recorded yet)."""
    return db.session.scalar(
        select(SlipEvent.at).where(SlipEvent.slip_id == slip.id,
                                   SlipEvent.action == Action.NOBODY_HOME.value)
        .order_by(SlipEvent.id.desc()).limit(1))


def _job(names: list[str], english: bool, shown: int = 3) -> str:
    """The job in a few words: the first items and how many in all (a card is small)."""
    if len(names) <= shown + 1:
        return (", " if english else "、").join(names)
    if english:
        return ", ".join(names[:shown]) + f" and {len(names) - shown} more"
    return "、".join(names[:shown]) + f"等 {len(names)} 项"


def card_context(slip: Slip, locale: str) -> dict:
    """The nobody-home card for the door: when we came, for what, whom to call.

    Without a recorded attempt the time is left blank, for the worker to write in by hand.
    """
    english = locale == "en"
    header = office_header()
    came = last_nobody_home(slip)
    return {
        **header,
        "english": english,
        "lang": "en" if english else "zh-CN",
        "number": slip.number,
        "unit": slip.unit.label,
        "came_at": _local(came),
        "job_zh": _job([line.name_zh for line in slip.lines], False) or slip.request,
        "job_en": (_job([line.name_en or line.name_zh for line in slip.lines], True)
                   or slip.request) if english else "",
        "worker": slip.worker.full_name if slip.worker else "",
        "phone": header["office"]["phone"],
    }
