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


# ---------------------------------------------------------------- milestone documents: net and tax allocated


def _documents(net: Decimal, rate: Decimal, decimals: int, plan: list[int]) -> list[tuple[Decimal, Decimal, Decimal]]:
    """(net, tax, total) per milestone document, as billing.services builds them from a quote."""
    tax = money.tax_amount(net, rate, decimals)
    totals = money.split(net + tax, plan, decimals)
    taxes = money.allocate_tax(tax, totals, decimals) if net + tax > 0 else [Decimal(0)] * len(totals)
    return [(total - part, part, total) for total, part in zip(totals, taxes, strict=True)]


# IVA 19 %, exempt, and other rates a quote may carry (up to 100 %, where the roundings are largest).
RATES = st.sampled_from([Decimal("0.19"), Decimal(0), Decimal("0.1"), Decimal("0.105"), Decimal("0.5"), Decimal(1)])


@given(net=st.integers(0, 10**11), rate=RATES, plan=plans())
def test_clp_documents_add_up_to_the_quotes_net_tax_and_total(net, rate, plan):
    net = Decimal(net)
    documents = _documents(net, rate, 0, plan)
    tax = money.tax_amount(net, rate, 0)
    assert sum(d[0] for d in documents) == net
    assert sum(d[1] for d in documents) == tax
    assert sum(d[2] for d in documents) == net + tax
    for doc_net, doc_tax, doc_total in documents:
        assert doc_net >= 0 and doc_tax >= 0 and doc_net + doc_tax == doc_total
        assert doc_net == doc_net.to_integral_value() and doc_tax == doc_tax.to_integral_value()


@given(cents=st.integers(0, 10**11), rate=RATES, plan=plans())
def test_usd_documents_add_up_to_the_quotes_net_tax_and_total_to_the_cent(cents, rate, plan):
    net = Decimal(cents) / 100
    documents = _documents(net, rate, 2, plan)
    tax = money.tax_amount(net, rate, 2)
    assert (sum(d[0] for d in documents), sum(d[1] for d in documents)) == (net, tax)
    assert sum(d[2] for d in documents) == net + tax
    for doc_net, doc_tax, _total in documents:
        assert doc_net >= 0 and doc_tax >= 0
        assert money.has_precision(doc_net, 2) and money.has_precision(doc_tax, 2)


def test_an_awkward_clp_total_splits_its_iva_exactly():
    # Net 100.003: IVA 19.001. Each document splitting its own total gave 19.000 in all (one peso short).
    documents = _documents(Decimal(100003), Decimal("0.19"), 0, [40, 30, 30])
    assert [d[2] for d in documents] == [Decimal(47601), Decimal(35701), Decimal(35702)]
    assert sum(d[1] for d in documents) == Decimal(19001)


def test_percentages_are_written_from_the_plan_never_in_exponent_form():
    assert money.percent_text(Decimal("40.00")) == "40"
    assert money.percent_text(Decimal("30")) == "30"
    assert money.percent_text(Decimal("12.50")) == "12,5"
    assert money.percent_text(100) == "100"


# ---------------------------------------------------------------- R3 arithmetic


NO_BANK = money.HourBankUse(total=Decimal(0), minutes=0, used_minutes=0)


@pytest.mark.parametrize(
    ("percent", "proposal"),
    [(0, 400000), (15, 250000), (40, 0), (60, 0)],
)
def test_the_domain_example_paid_minus_executed_never_below_zero(percent, proposal):
    result = money.credit_proposal(
        paid=Decimal(400000), service_total=Decimal(1000000), executed_percent=percent, hours=NO_BANK, decimals=0
    )
    assert result.amount == Decimal(proposal)
    assert result.service_executed == Decimal(10000 * percent)


def test_hour_bank_time_used_is_executed_and_the_rest_stays_in_the_balance():
    hours = money.HourBankUse(total=Decimal("119.00"), minutes=120, used_minutes=45)
    result = money.credit_proposal(
        paid=Decimal("519.00"), service_total=Decimal("1000.00"), executed_percent=15, hours=hours, decimals=2
    )
    assert (result.service_executed, result.hours_executed, result.hours_unused) == (
        Decimal("150.00"),
        Decimal("44.63"),
        Decimal("74.37"),
    )
    assert result.amount == Decimal("519.00") - Decimal("150.00") - Decimal("44.63")
    assert result.as_basis()["hours_unused"] == "74.37"


@pytest.mark.parametrize(("paid", "proposal"), [(149999, 0), (150000, 0), (150001, 1)])
def test_the_proposal_on_both_sides_of_paid_equal_to_executed(paid, proposal):
    # 15 % of 1.000.000 executed: 150.000.
    result = money.credit_proposal(
        paid=Decimal(paid), service_total=Decimal(1000000), executed_percent=15, hours=NO_BANK, decimals=0
    )
    assert result.amount == Decimal(proposal)
