"""Staff's money at a glance, as server-drawn SVG (portal.charts): receivables by age, and what was
issued against what was collected per month. Each chart comes with its rows, which the page shows
as a table (the text equivalent)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.templatetags.money_tags import money
from portal import charts

AGE_TICKS = (  # under the bars, where the space is short; the table beside has AGE_LABELS
    gettext_lazy("not due"),
    "1-30",
    "31-60",
    "61-90",
    "> 90",
)
AGE_LABELS = (
    gettext_lazy("Not due yet"),
    gettext_lazy("1 to 30 days late"),
    gettext_lazy("31 to 60 days late"),
    gettext_lazy("61 to 90 days late"),
    gettext_lazy("Over 90 days late"),
)


@dataclass
class Chart:
    currency: str
    svg: SafeString
    rows: list[tuple]  # what the picture shows, for the table beside it


def _short(currency: str):
    def fmt(value) -> str:
        return money(value, currency)

    return fmt


def aging_charts(aging: list[dict]) -> list[Chart]:
    found = []
    for row in aging:
        currency, buckets = row["currency"], row["buckets"]
        labelled = list(zip(AGE_LABELS, buckets, strict=True))
        series = [charts.Series(_("Receivable"), "bar-main")]
        groups = [(str(tick), [amount]) for tick, amount in zip(AGE_TICKS, buckets, strict=True)]
        svg = charts.bars(
            groups,
            series,
            title=_("Receivables by age, %(currency)s") % {"currency": currency},
            desc=_("What clients owe, by days past the due date: %(list)s.")
            % {"list": "; ".join(f"{label}: {money(amount, currency)}" for label, amount in labelled)},
            fmt=_short(currency),
            height=200,
        )
        found.append(Chart(currency, svg, labelled))
    return found


def monthly_charts(monthly: list[dict]) -> list[Chart]:
    found = []
    for row in monthly:
        currency = row["currency"]
        groups = [(date_format(month, "m-Y"), [issued, collected]) for month, issued, collected in row["months"]]
        series = [charts.Series(_("Issued"), "bar-main"), charts.Series(_("Collected"), "bar-second")]
        svg = charts.bars(
            groups,
            series,
            title=_("Issued and collected per month, %(currency)s") % {"currency": currency},
            desc=_("Payment requests issued and money received in each of the last six months."),
            fmt=_short(currency),
        )
        found.append(Chart(currency, svg, [(label, issued, collected) for label, (issued, collected) in groups]))
    return found
