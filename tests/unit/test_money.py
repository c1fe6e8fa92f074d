"""Money is integer fen: what a clerk types becomes fen exactly, and fen prints back the same."""
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.money import (
    MAX_FEN,
    MoneyError,
    capital_yuan,
    fen_to_decimal,
    format_yuan,
    parse_yuan,
)


@pytest.mark.parametrize("text, fen", [
    ("30", 3000),
    ("30.5", 3050),
    ("30.50", 3050),
    ("0.01", 1),
    ("0", 0),
    ("  12 ", 1200),
    ("¥1,000.00", 100000),
    ("￥45", 4500),
    ("45元", 4500),
    ("1，000", 100000),        # a Chinese comma from the IME
    ("３０", 3000),             # full-width digits from the IME
    (30, 3000),
    (Decimal("10.25"), 1025),
])
def test_parse_yuan_gives_exact_fen(text, fen):
    result = parse_yuan(text)
    assert result == fen
    assert type(result) is int


@pytest.mark.parametrize("text", ["-1", "-0.01", "－5", " -30 "])
def test_parse_yuan_refuses_negative_amounts(text):
    with pytest.raises(MoneyError):
        parse_yuan(text)


@pytest.mark.parametrize("text", ["1.234", "30.001", "0.005"])
def test_parse_yuan_refuses_more_than_two_decimals(text):
    with pytest.raises(MoneyError):
        parse_yuan(text)


@pytest.mark.parametrize("text", [
    "", "   ", "abc", "12abc", "一百", "1.2.3", "NaN", "Infinity", "inf",
    "1e3", "2E2", "1_000", "0x10", "--1", "¥", "元", "30/次",
])
def test_parse_yuan_refuses_junk(text):
    with pytest.raises(MoneyError):
        parse_yuan(text)


def test_parse_yuan_refuses_absurd_amounts():
    assert parse_yuan(str(MAX_FEN // 100)) == MAX_FEN
    with pytest.raises(MoneyError):
        parse_yuan(str(MAX_FEN // 100 + 1))


@pytest.mark.parametrize("value", [0.1, 30.5, 1e3])
def test_parse_yuan_refuses_floats(value):
    """A float is already inexact; money never passes through one."""
    with pytest.raises((MoneyError, TypeError)):
        parse_yuan(value)


@pytest.mark.parametrize("fen, text", [
    (3050, "¥30.50"),
    (0, "¥0.00"),
    (1, "¥0.01"),
    (100000, "¥1,000.00"),
    (-3050, "-¥30.50"),
])
def test_format_yuan(fen, text):
    assert format_yuan(fen) == text


def test_format_yuan_trim_drops_only_zero_decimals():
    assert format_yuan(3000, trim=True) == "¥30"
    assert format_yuan(3050, trim=True) == "¥30.50"
    assert format_yuan(100000, symbol="", trim=True) == "1,000"


def test_fen_to_decimal_is_exact_with_two_places():
    assert fen_to_decimal(3050) == Decimal("30.50")
    assert str(fen_to_decimal(7)) == "0.07"
    assert str(fen_to_decimal(100000)) == "1000.00"


@given(st.integers(min_value=0, max_value=MAX_FEN))
def test_format_then_parse_round_trips(fen):
    assert parse_yuan(format_yuan(fen)) == fen
    assert parse_yuan(format_yuan(fen, trim=True)) == fen
    assert parse_yuan(format_yuan(fen, symbol="")) == fen


@given(st.decimals(min_value=0, max_value=MAX_FEN // 100, places=2, allow_nan=False,
                   allow_infinity=False))
def test_parse_of_any_two_place_amount_matches_decimal_arithmetic(amount):
    assert parse_yuan(str(amount)) == int(amount * 100)
    assert fen_to_decimal(parse_yuan(str(amount))) == amount


# ---- 大写金额: the amount in Chinese capital numerals, as printed on receipts ------------------

@pytest.mark.parametrize("fen, text", [
    # the examples of the People's Bank's rules for writing amounts (支付结算办法)
    (140950, "壹仟肆佰零玖元伍角整"),
    (600714, "陆仟零柒元壹角肆分"),
    (168032, "壹仟陆佰捌拾元叁角贰分"),        # a zero in the 元 place may be left unwritten
    (10700053, "壹拾万零柒仟元伍角叁分"),
    (32504, "叁佰贰拾伍元零肆分"),
    (1640902, "壹万陆仟肆佰零玖元零贰分"),
    # whole yuan end in 整; a lone fen or jiao reads as itself
    (0, "零元整"),
    (100, "壹元整"),
    (1000, "壹拾元整"),
    (3000, "叁拾元整"),
    (3050, "叁拾元伍角整"),
    (50, "伍角整"),
    (5, "伍分"),
    (1, "壹分"),
    (10005, "壹佰元零伍分"),
    (105030, "壹仟零伍拾元叁角整"),
    (100100, "壹仟零壹元整"),
    (110000, "壹仟壹佰元整"),
    # 万 and 亿, with one 零 for any run of zeros inside
    (1001000, "壹万零壹拾元整"),
    (10000000, "壹拾万元整"),
    (10000100, "壹拾万零壹元整"),
    (20000007, "贰拾万元零柒分"),
    (4000040, "肆万元肆角整"),
    (100000000, "壹佰万元整"),
    (MAX_FEN, "壹亿元整"),
    (10001000000, "壹亿零壹万元整"),
    (10000000100, "壹亿零壹元整"),
    # money paid back (a refund voucher)
    (-3050, "负叁拾元伍角整"),
    (-5, "负伍分"),
])
def test_capital_yuan(fen, text):
    assert capital_yuan(fen) == text


_DIGITS = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
_UNITS = {"拾": 10, "佰": 100, "仟": 1000}


def _read_capital(text: str) -> int:
    """Read capital numerals back into fen: a reader's check on capital_yuan."""
    sign = -1 if text.startswith("负") else 1
    text = text.removeprefix("负").removesuffix("整")
    yuan_part, _, rest = text.rpartition("元") if "元" in text else ("", "", text)
    total = section = digit = 0
    for ch in yuan_part:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _UNITS:
            section += digit * _UNITS[ch]
            digit = 0
        elif ch == "万":
            total += (section + digit) * 10_000
            section = digit = 0
        elif ch == "亿":
            total = (total + section + digit) * 100_000_000
            section = digit = 0
        else:
            raise AssertionError(f"unexpected {ch!r} in {text!r}")
    yuan = total + section + digit
    fen = 0
    for amount, unit in re.findall(r"([壹贰叁肆伍陆柒捌玖])([角分])", rest):
        fen += _DIGITS[amount] * (10 if unit == "角" else 1)
    assert re.fullmatch(r"零?([壹贰叁肆伍陆柒捌玖]角)?([壹贰叁肆伍陆柒捌玖]分)?", rest), text
    return sign * (yuan * 100 + fen)


@given(st.integers(min_value=-MAX_FEN, max_value=MAX_FEN))
def test_capital_yuan_reads_back_as_the_same_amount(fen):
    text = capital_yuan(fen)
    assert _read_capital(text) == fen
    assert "零零" not in text and not re.search(r"零[元万亿整]", text.removeprefix("零元整"))
    assert (text.endswith(("整", "分"))
            and set(text) <= set("负零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整"))
    # whole yuan and whole jiao say 整; a figure down to the fen does not
    assert text.endswith("整") == (fen % 10 == 0)
