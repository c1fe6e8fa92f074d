"""Unit addresses (房号) such as 3栋2单元1502: labels, search keys, and parsing what clerks type."""
from __future__ import annotations

import re

_GROUPS = re.compile(r"[0-9A-Za-z]+")


def unit_label(building: str, entrance: int | None, number: str) -> str:
    """'3', 2, '1502' -> '3栋2单元1502' (the form printed on every slip)."""
    middle = f"{entrance}单元" if entrance else ""
    return f"{building}栋{middle}{number}"


def unit_key(building: str, entrance: int | None, number: str) -> str:
    """'3', 2, '1502' -> '3-2-1502': what a clerk types fastest, and what search matches."""
    parts = [building, str(entrance) if entrance else "", number]
    return "-".join(p for p in parts if p).lower()


def query_key(text: str) -> str | None:
    """Turn '3栋2单元1502', '3-2-1502', '3 2 1502', 'A栋1单元101' or '1502' into a key prefix.

    Letters count (A栋, B座): they are part of building and unit numbers. Returns None when
    the text holds no digit at all (then it is a name search).
    """
    if not any(c in "0123456789" for c in text):  # "²" is a digit to Python, not to a clerk
        return None
    return "-".join(_GROUPS.findall(text)).lower()


def is_phone_tail(text: str) -> bool:
    """Four to six digits: the end of a phone number (尾号) as much as a unit number."""
    return text.isascii() and text.isdigit() and 4 <= len(text) <= 6


def is_phone_like(text: str) -> bool:
    """Seven or more digits and nothing else but separators: search phones."""
    digits = re.sub(r"[\s\-+()]", "", text)
    return digits.isascii() and digits.isdigit() and len(digits) >= 7
