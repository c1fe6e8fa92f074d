"""How a price-list item is priced: fixed, a range, by workload, or free — and what may be
charged."""
import pytest

from app.domain.errors import DomainError
from app.domain.pricing import PriceSpec, make_price, price_label


def test_a_fixed_price():
    spec = make_price(3000, 3000)
    assert spec == PriceSpec(3000, 3000)
    assert spec.is_fixed and not spec.is_range and not spec.free


def test_a_single_price_without_a_maximum_is_fixed():
    spec = make_price(5000, None)
    assert (spec.min_fen, spec.max_fen) == (5000, 5000)
    assert spec.is_fixed


def test_a_range():
    spec = make_price(1000, 100000)
    assert spec.is_range and not spec.is_fixed
    assert (spec.min_fen, spec.max_fen) == (1000, 100000)


def test_by_workload_with_a_guide_range():
    """换管 10–1000 yuan, 视工程量定价."""
    spec = make_price(1000, 100000, by_workload=True)
    assert spec.by_workload and spec.is_range and not spec.is_fixed


def test_by_workload_without_a_guide():
    spec = make_price(None, None, by_workload=True)
    assert spec == PriceSpec(None, None, by_workload=True)
    assert not spec.is_fixed and not spec.is_range


def test_a_free_item_is_zero_and_nothing_else():
    spec = make_price(None, None, free=True)
    assert spec == PriceSpec(0, 0, free=True)
    assert make_price(0, 0, free=True) == spec
    # "free" wins over "by workload": a free job is never charged
    assert make_price(None, None, by_workload=True, free=True) == spec


@pytest.mark.parametrize("lo, hi, kwargs, field, words", [
    (3000, 1000, {}, "price_max", "must not be below the lowest"),
    (0, 0, {}, "price_min", "mark the item as free"),
    (0, None, {}, "price_min", "mark the item as free"),
    (1000, 1000, {"free": True}, "price_min", "A free item has no price"),
    (None, 3000, {}, "price_min", "lowest price too"),
    (None, None, {}, "price_min", "Give a price"),
])
def test_make_price_refuses_broken_prices_on_the_field_at_fault(lo, hi, kwargs, field, words):
    with pytest.raises(DomainError) as caught:
        make_price(lo, hi, **kwargs)
    assert caught.value.field == field
    assert words in str(caught.value.message)


def test_contains_for_a_fixed_price_is_that_price_only():
    spec = make_price(3000, 3000)
    assert spec.contains(3000)
    assert not spec.contains(2999) and not spec.contains(3001) and not spec.contains(0)


def test_contains_for_a_range_includes_both_ends():
    spec = make_price(1000, 3000)
    assert spec.contains(1000) and spec.contains(2000) and spec.contains(3000)
    assert not spec.contains(999) and not spec.contains(3001)


def test_contains_for_free_is_zero_only():
    spec = make_price(None, None, free=True)
    assert spec.contains(0)
    assert not spec.contains(1)


def test_a_workload_item_with_a_guide_range_may_be_charged_within_it():
    """DOMAIN: for a range-priced item (e.g. replace pipe 10–1000, by workload) the worker agrees
    the final price within the range; only a price outside it needs the supervisor."""
    spec = make_price(1000, 100000, by_workload=True)
    assert spec.contains(1000) and spec.contains(25000) and spec.contains(100000)
    assert not spec.contains(999) and not spec.contains(100001)


def test_a_workload_item_without_a_guide_always_needs_the_supervisor():
    spec = make_price(None, None, by_workload=True)
    assert not spec.contains(0) and not spec.contains(5000)


@pytest.mark.parametrize("spec, label", [
    (make_price(3000, 3000), "30"),
    (make_price(1000, 100000), "10–1,000"),
    (make_price(1050, 2000), "10.50–20"),
    (make_price(None, None, free=True), "0"),
    (make_price(None, None, by_workload=True), ""),
    (make_price(1000, 100000, by_workload=True), "10–1,000"),
])
def test_price_label_as_printed_on_the_list(spec, label):
    assert price_label(spec) == label


def test_price_label_with_a_symbol():
    assert price_label(make_price(100000, 200000), symbol="¥") == "¥1,000–¥2,000"
