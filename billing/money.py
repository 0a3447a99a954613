"""Pure money rules: Decimal only, one rounding helper, exact splits.

Nothing here imports Django or the project. Callers pass the currency's
number of decimals (CLP 0, USD 2: see settings.CURRENCY_DECIMALS).
"""

from __future__ import annotations

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
