"""Pure money rules: Decimal only, one rounding helper, exact splits.

Nothing here imports Django or the project. Callers pass the currency's
number of decimals (CLP 0, USD 2: see settings.CURRENCY_DECIMALS).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

ZERO = Decimal("0")
HUNDRED = Decimal("100")


class MoneyError(ValueError):
    """An amount the currency cannot represent, or a plan that does not add up."""


def unit(decimals: int) -> Decimal:
    """The currency's minor unit: 1 for CLP, 0.01 for USD."""
    return Decimal(1).scaleb(-decimals)


def quantize(amount: Decimal, decimals: int, rounding: str = ROUND_HALF_UP) -> Decimal:
    """The only rounding in the project: half-up to the currency's minor unit."""
    if not isinstance(amount, Decimal):
        raise TypeError("money is Decimal, never float")
    return amount.quantize(unit(decimals), rounding=rounding)


def has_precision(amount: Decimal, decimals: int) -> bool:
    """True when `amount` needs no more decimals than the currency allows."""
    return amount == amount.quantize(unit(decimals), rounding=ROUND_DOWN)


def line_amount(quantity: Decimal, unit_price: Decimal, decimals: int) -> Decimal:
    if quantity <= ZERO:
        raise MoneyError("quantity must be positive")
    if unit_price < ZERO:
        raise MoneyError("unit price cannot be negative")
    return quantize(quantity * unit_price, decimals)


def tax_amount(net: Decimal, rate: Decimal, decimals: int) -> Decimal:
    """Tax on the sum of the stored (rounded) lines, rounded once."""
    return quantize(net * rate, decimals)


def split(total: Decimal, percents: list[int | Decimal], decimals: int) -> list[Decimal]:
    """Split `total` by percentages: each part rounded down to the minor unit,
    the remainder on the last part, so the parts always add up to `total`."""
    if sum(Decimal(p) for p in percents) != HUNDRED:
        raise MoneyError("the percentages must add up to 100")
    if total < ZERO or not has_precision(total, decimals):
        raise MoneyError("the total must be a non-negative amount in the currency's minor unit")
    parts = [quantize(total * Decimal(p) / HUNDRED, decimals, ROUND_DOWN) for p in percents[:-1]]
    return [*parts, total - sum(parts, ZERO)]


def allocate_tax(tax: Decimal, totals: list[Decimal], decimals: int) -> list[Decimal]:
    """The quote's tax shared among documents whose totals are `totals`: each
    part in proportion to its document's total, rounded down to the minor unit,
    the remainder on the last part, so the parts add up to `tax` exactly and no
    part exceeds its document's total (a document's net is never negative)."""
    grand_total = sum(totals, ZERO)
    if tax < ZERO or not has_precision(tax, decimals) or grand_total <= ZERO:
        raise MoneyError("the tax must be a non-negative amount and the totals must add up to more than zero")
    parts = [quantize(tax * total / grand_total, decimals, ROUND_DOWN) for total in totals[:-1]]
    # A small last document (a plan ending in a small share) may not hold the whole
    # remainder: what exceeds its total goes back onto the earlier ones, within theirs.
    excess = max(ZERO, tax - sum(parts, ZERO) - totals[-1])
    for index, total in enumerate(totals[:-1]):
        moved = min(excess, total - parts[index])
        parts[index] += moved
        excess -= moved
    return [*parts, tax - sum(parts, ZERO)]


def percent_text(percent: Decimal | int) -> str:
    """40 -> "40", 12.5 -> "12,5": plain digits with a decimal comma, never "4E+1"."""
    text = format(Decimal(percent).normalize(), "f")
    return text.replace(".", ",")


def part_of(total: Decimal, percent: Decimal | int, decimals: int) -> Decimal:
    """`percent` % of `total`, rounded half-up to the minor unit."""
    return quantize(total * Decimal(percent) / HUNDRED, decimals)


def prorate(amount: Decimal, part: int, whole: int, decimals: int) -> Decimal:
    """`amount` * part / whole, rounded half-up to the minor unit (0 when `whole` is 0)."""
    return quantize(amount * part / whole, decimals) if whole else ZERO


# ---------------------------------------------------------------- R3: the unexecuted balance


@dataclass(frozen=True)
class HourBankUse:
    total: Decimal  # what the accepted hour banks cost, with tax
    minutes: int  # bought
    used_minutes: int  # session time beyond the included hours, drawn from them


@dataclass(frozen=True)
class CreditProposal:
    """The arithmetic of an administrative close's credit, shown to staff and client alike."""

    paid: Decimal  # payments received, not counting payments made with credit
    service_total: Decimal  # the accepted service quote, with tax
    executed_percent: int  # from the phases completed (terms weights)
    service_executed: Decimal
    hours: HourBankUse
    hours_executed: Decimal  # value of the hour-bank time used
    hours_unused: Decimal  # value of the hour-bank time not used: it stays in the balance
    executed: Decimal
    amount: Decimal  # the proposal: paid - executed, never below zero

    def as_basis(self) -> dict[str, object]:
        """JSON for Credit.basis (amounts as strings: money is never a float)."""
        return {
            "paid": str(self.paid),
            "service_total": str(self.service_total),
            "executed_percent": self.executed_percent,
            "service_executed": str(self.service_executed),
            "hours_total": str(self.hours.total),
            "hours_minutes": self.hours.minutes,
            "hours_used_minutes": self.hours.used_minutes,
            "hours_executed": str(self.hours_executed),
            "hours_unused": str(self.hours_unused),
            "executed": str(self.executed),
            "amount": str(self.amount),
        }


def credit_proposal(
    *, paid: Decimal, service_total: Decimal, executed_percent: int, hours: HourBankUse, decimals: int
) -> CreditProposal:
    """R3: unexecuted balance = payments received - value of the work executed,
    never below zero. Executed = the service total times the executed share of the
    work, plus the hour-bank time used (the hours not used are not executed:
    what was paid for them stays in the balance)."""
    paid, service_total = quantize(paid, decimals), quantize(service_total, decimals)
    hours = HourBankUse(quantize(hours.total, decimals), hours.minutes, hours.used_minutes)
    service_executed = part_of(service_total, executed_percent, decimals)
    hours_executed = prorate(hours.total, min(hours.used_minutes, hours.minutes), hours.minutes, decimals)
    executed = service_executed + hours_executed
    return CreditProposal(
        paid=paid,
        service_total=service_total,
        executed_percent=executed_percent,
        service_executed=service_executed,
        hours=hours,
        hours_executed=hours_executed,
        hours_unused=hours.total - hours_executed,
        executed=executed,
        amount=max(paid - executed, ZERO),
    )
