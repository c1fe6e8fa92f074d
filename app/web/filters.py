"""Jinja filters: money, local time, labels for stored codes."""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import get_locale

from app.domain.money import format_yuan
from app.domain.pricing import DEPARTMENT_LABELS, UNITS_OF_CHARGE, price_label
from app.services import clock


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC datetime shown in the property's time zone."""
    if value is None:
        return ""
    return clock.local(value).strftime(fmt)


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = clock.local(value).date()
    return value.isoformat()


def money(fen: int | None, trim: bool = False) -> str:
    return "" if fen is None else format_yuan(fen, trim=trim)


def unit_of_charge(code: str) -> str:
    """次 in Chinese; 'time (次)' in English."""
    if str(get_locale()).startswith("zh"):
        return code
    label = UNITS_OF_CHARGE.get(code)
    return f"{label} ({code})" if label else code


def department(code: str) -> str:
    return str(DEPARTMENT_LABELS.get(code, code))


def localized(obj, attr: str = "name") -> str:
    """obj.name_zh or obj.name_en by the current language, falling back to Chinese."""
    zh = getattr(obj, f"{attr}_zh")
    if str(get_locale()).startswith("zh"):
        return zh
    return getattr(obj, f"{attr}_en", "") or zh


def register_filters(app) -> None:
    app.jinja_env.filters.update(
        local_time=local_time, day=day, money=money, unit_of_charge=unit_of_charge,
        department=department, localized=localized,
    )
    app.jinja_env.globals.update(price_label=price_label)
