"""Unit addresses (房号) such as 3栋2单元1502: labels, search keys, and parsing what clerks type."""
from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]+")


def unit_label(building: str, entrance: int | None, number: str) -> str:
    """'3', 2, '1502' -> '3栋2单元1502' (the form printed on every slip)."""
    middle = f"{entrance}单元" if entrance else ""
    return f"{building}栋{middle}{number}"


def unit_key(building: str, entrance: int | None, number: str) -> str:
    """'3', 2, '1502' -> '3-2-1502': what a clerk types fastest, and what search matches."""
    parts = [building, str(entrance) if entrance else "", number]
    return "-".join(p for p in parts if p).lower()


def query_key(text: str) -> str | None:
    """Turn '3栋2单元1502', '3-2-1502', '3 2 1502' or '1502' into a key prefix to match.

    Returns None when the text holds no digits (then it is a name or phone search).
    """
    groups = _DIGITS.findall(text)
    if not groups:
        return None
    return "-".join(groups)


def is_phone_like(text: str) -> bool:
    """Seven or more digits and nothing else but separators: search phones."""
    digits = re.sub(r"[\s\-+()]", "", text)
    return digits.isdigit() and len(digits) >= 7
