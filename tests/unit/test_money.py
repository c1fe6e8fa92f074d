"""Money is integer fen: what a clerk types becomes fen exactly, and fen prints back the same."""
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.money import (
    MAX_FEN,
    MoneyError,
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
