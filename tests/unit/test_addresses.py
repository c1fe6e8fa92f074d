"""Unit addresses: the label printed on slips, the key clerks type, and reading what they typed."""
import pytest

from app.domain.addresses import is_phone_like, query_key, unit_key, unit_label


@pytest.mark.parametrize("building, entrance, number, label", [
    ("3", 2, "1502", "3栋2单元1502"),
    ("12", 1, "301", "12栋1单元301"),
    ("5", None, "301", "5栋301"),
    ("A", 3, "101", "A栋3单元101"),
])
def test_unit_label(building, entrance, number, label):
    assert unit_label(building, entrance, number) == label


@pytest.mark.parametrize("building, entrance, number, key", [
    ("3", 2, "1502", "3-2-1502"),
    ("5", None, "301", "5-301"),
    ("A", 3, "101B", "a-3-101b"),
])
def test_unit_key(building, entrance, number, key):
    assert unit_key(building, entrance, number) == key


@pytest.mark.parametrize("typed, key", [
    ("3-2-1502", "3-2-1502"),
    ("3栋2单元1502", "3-2-1502"),
    ("3号楼2单元1502室", "3-2-1502"),
    ("3 2 1502", "3-2-1502"),
    (" 3/2/1502 ", "3-2-1502"),
    ("1502", "1502"),
    ("3-2-15", "3-2-15"),
])
def test_query_key_reads_every_way_clerks_type_a_unit(typed, key):
    assert query_key(typed) == key


@pytest.mark.parametrize("typed", ["张伟", "", "  ", "王"])
def test_query_key_is_none_for_names(typed):
    assert query_key(typed) is None


@pytest.mark.parametrize("typed", [
    "13800001111", "138 0000 1111", "138-0000-1111", "+86 138 0000 1111", "0571-8888 6666",
    "(0571)88886666", "1380000",
])
def test_phone_numbers_are_recognised(typed):
    assert is_phone_like(typed)


@pytest.mark.parametrize("typed", ["1502", "3-2-1502", "3栋2单元1502", "张伟", "138000", "",
                                   "abc1234567"])
def test_unit_numbers_and_names_are_not_phones(typed):
    assert not is_phone_like(typed)
