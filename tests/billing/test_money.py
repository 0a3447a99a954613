"""Money: rounding, precision and milestone splits (property-tested)."""

from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing import money


@st.composite
def plans(draw):
    """Lists of positive whole percentages that add up to 100."""
    cuts = sorted(draw(st.sets(st.integers(1, 99), max_size=5)))
    bounds = [0, *cuts, 100]
    return [b - a for a, b in pairwise(bounds)]


@given(total=st.integers(0, 10**12), plan=plans())
def test_clp_milestones_add_up_exactly_and_have_no_decimals(total, plan):
    parts = money.split(Decimal(total), plan, 0)
    assert sum(parts) == Decimal(total)
    assert all(part >= 0 and part == part.to_integral_value() for part in parts)


@given(cents=st.integers(0, 10**12), plan=plans())
def test_usd_milestones_add_up_exactly_to_the_cent(cents, plan):
    total = Decimal(cents) / 100
    parts = money.split(total, plan, 2)
    assert sum(parts) == total
    assert all(part >= 0 and money.has_precision(part, 2) for part in parts)


def test_the_40_30_30_split_puts_the_remainder_last():
    assert money.split(Decimal("1000001"), [40, 30, 30], 0) == [Decimal(400000), Decimal(300000), Decimal(300001)]
    assert money.split(Decimal("100.01"), [40, 30, 30], 2) == [Decimal("40.00"), Decimal("30.00"), Decimal("30.01")]


def test_a_plan_that_does_not_add_up_is_refused():
    with pytest.raises(money.MoneyError):
        money.split(Decimal(100), [40, 30], 0)


def test_rounding_is_half_up_to_the_minor_unit():
    assert money.quantize(Decimal("10.5"), 0) == Decimal(11)
    assert money.quantize(Decimal("10.49"), 0) == Decimal(10)
    assert money.quantize(Decimal("0.125"), 2) == Decimal("0.13")


def test_floats_are_refused():
    with pytest.raises(TypeError):
        money.quantize(10.5, 0)


def test_precision_of_the_currency():
    assert money.has_precision(Decimal("1500"), 0) and not money.has_precision(Decimal("1500.5"), 0)
    assert money.has_precision(Decimal("19.99"), 2) and not money.has_precision(Decimal("19.999"), 2)


def test_lines_and_tax():
    assert money.line_amount(Decimal("3"), Decimal("333333"), 0) == Decimal("999999")
    assert money.tax_amount(Decimal("1000000"), Decimal("0.19"), 0) == Decimal("190000")
    with pytest.raises(money.MoneyError):
        money.line_amount(Decimal("0"), Decimal("10"), 0)
    with pytest.raises(money.MoneyError):
        money.line_amount(Decimal("-1"), Decimal("10"), 0)
