"""{{ amount|money:currency }}: Chilean style, 1.234.567 and 1.234,50; {{ 40|percent }}: "40 %";
{{ 0.19|tax_percent }}: "19 %"."""

from decimal import Decimal

from django import template
from django.conf import settings

from billing.money import percent_text

register = template.Library()


@register.filter
def money(amount: Decimal | str | None, currency: str = "CLP") -> str:
    if amount is None or amount == "":
        return ""
    amount = Decimal(str(amount))  # JSON snapshots store amounts as strings
    decimals = settings.CURRENCY_DECIMALS.get(currency, 2)
    text = f"{amount:,.{decimals}f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"{currency} {text}"


@register.filter
def days_until(day, today) -> int:
    """Whole days from `today` to `day` (negative once past)."""
    return (day - today).days if day and today else 0


@register.filter
def percent(value: Decimal | int | str | None) -> str:
    """{{ 40|percent }} -> "40 %" (a no-break space, as Spanish writes it), from the plan's own figure."""
    if value is None or value == "":
        return ""
    return f"{percent_text(Decimal(str(value)))}\u00a0%"


@register.filter
def tax_percent(rate: Decimal | str | None) -> str:
    """{{ quote.tax_rate|tax_percent }}: 0.19 -> "19 %" (the IVA rate as people read it)."""
    if rate is None or rate == "":
        return ""
    return percent(Decimal(str(rate)) * 100)
