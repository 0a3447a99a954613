"""Template filters that turn run codes into the translated labels of `integration.labels`."""

from django import template

from engagements.integration import labels
from portal import clock

register = template.Library()


@register.filter
def counts_list(counts: dict) -> list[tuple[str, int]]:
    """A run's counts in a fixed order ("listed" first), the zeros left out."""
    return [(str(label), counts[key]) for key, label in labels.COUNTS.items() if counts.get(key)]


@register.filter
def calls_list(usage: dict) -> list[tuple[str, int]]:
    return [(str(labels.CALLS.get(key, key)), value) for key, value in usage.items()]


@register.filter
def action_label(action: str) -> str:
    return str(labels.ACTIONS.get(action, action))


@register.filter
def reason_label(code: str) -> str:
    return labels.reason_text(code)


@register.filter
def summary_label(summary: str) -> str:
    return labels.summary_text(summary)


@register.inclusion_tag("integration/_runs_chart.html")
def runs_chart(engagement) -> dict:
    """Runs per day over the last two weeks, with the failures, as an accessible SVG and its table."""
    from django.utils.formats import date_format
    from django.utils.translation import gettext as _

    from engagements.integration.selectors import runs_per_day
    from portal import charts

    rows = runs_per_day(engagement.pk, clock.today())
    groups = [(date_format(day, "d-m"), [ok, bad]) for day, ok, bad in rows]
    series = [charts.Series(_("went well"), "bar-ok"), charts.Series(_("failed or need attention"), "bar-fail")]
    svg = charts.bars(
        groups,
        series,
        title=_("Synchronisation runs per day"),
        desc=_("%(ok)d runs went well and %(bad)d failed or need attention in the last 14 days.")
        % {"ok": sum(r[1] for r in rows), "bad": sum(r[2] for r in rows)},
        stacked=True,
        height=160,
    )
    return {"svg": svg, "rows": rows, "total": sum(r[1] + r[2] for r in rows)}
