"""Whole numbers typed or sent by people, bounded: an id the database cannot even hold is
simply not found."""
from __future__ import annotations

MAX_ID = 2**31 - 1  # ids are INTEGER columns: PostgreSQL refuses anything above


def parse_int(text: str | None, maximum: int = MAX_ID) -> int | None:
    """'42' -> 42; anything but plain ASCII digits up to `maximum` -> None."""
    if not text or not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if value <= maximum else None
