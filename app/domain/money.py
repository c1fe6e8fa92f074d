"""Money is integer fen (分) everywhere; these convert at the edges. Never a float."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

MAX_FEN = 100_000_000_00  # one hundred million yuan: anything above is a typing error


class MoneyError(ValueError):
    """The text is not an amount of money this office could charge."""


# Plain digits with an optional decimal part: no exponent (1e3), no 1_000, no sign.
_AMOUNT = re.compile(r"\d+(?:\.\d*)?|\.\d+")


def parse_yuan(text: str | int | Decimal) -> int:
    """'30', '30.5', '¥1,000.00' -> fen. Raises MoneyError for negatives, >2 decimals, junk.

    A float is refused with TypeError: it is inexact before it gets here.
    """
    if isinstance(text, float):
        raise TypeError("money is never a float: pass text, an int or a Decimal of yuan")
    raw = str(text).strip().replace(",", "").replace("，", "").lstrip("¥￥").strip()
    if raw.endswith("元"):
        raw = raw[:-1].strip()
    if not raw:
        raise MoneyError("empty")
    if raw[0] in "-－":
        raise MoneyError("negative")
    if not isinstance(text, Decimal) and not _AMOUNT.fullmatch(raw):
        raise MoneyError("not a number")
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise MoneyError("not a number") from exc
    if not value.is_finite():
        raise MoneyError("not a number")
    if value < 0:
        raise MoneyError("negative")
    fen = value * 100
    if fen != fen.to_integral_value():
        raise MoneyError("more than two decimals")
    if fen > MAX_FEN:
        raise MoneyError("too large")
    return int(fen)


def fen_to_decimal(fen: int) -> Decimal:
    """Fen as a Decimal of yuan with two places."""
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def format_yuan(fen: int, *, symbol: str = "¥", trim: bool = False) -> str:
    """3050 -> '¥30.50'; with trim, whole yuan drop the decimals ('¥30')."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    if trim and cents == 0:
        return f"{sign}{symbol}{yuan:,}"
    return f"{sign}{symbol}{yuan:,}.{cents:02d}"


_CAPITAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_CAPITAL_UNITS = ("", "拾", "佰", "仟")
_CAPITAL_GROUPS = ("", "万", "亿")


def _capital_integer(n: int) -> str:
    digits = str(n)
    out, zero = [], False
    for i, d in enumerate(digits):
        pos = len(digits) - 1 - i
        if d == "0":
            zero = True
        else:
            if zero and out:
                out.append("零")
            zero = False
            out.append(_CAPITAL_DIGITS[int(d)] + _CAPITAL_UNITS[pos % 4])
        if pos % 4 == 0 and pos > 0:
            group = digits[max(0, i - 3):i + 1]
            if group.strip("0"):
                out.append(_CAPITAL_GROUPS[pos // 4])
    return "".join(out)


def capital_yuan(fen: int) -> str:
    """The amount in Chinese capital numerals (大写金额), as printed on receipts.

    1050.30 yuan -> '壹仟零伍拾元叁角整'; 100.05 -> '壹佰元零伍分'; 0 -> '零元整'.
    """
    sign = "负" if fen < 0 else ""
    yuan, rest = divmod(abs(fen), 100)
    jiao, cents = divmod(rest, 10)
    if yuan == 0 and rest == 0:
        return "零元整"
    text = _capital_integer(yuan) + "元" if yuan else ""
    if rest == 0:
        return sign + text + "整"
    if jiao:
        text += _CAPITAL_DIGITS[jiao] + "角"
    elif yuan:
        text += "零"
    if cents:
        text += _CAPITAL_DIGITS[cents] + "分"
    else:
        text += "整"
    return sign + text
