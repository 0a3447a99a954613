"""The integration page's picture, drawn on the server (portal.charts): runs per day over the last two
weeks, with the failures. The rows come with it: the page shows them as a table (the text equivalent)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from engagements.integration.selectors import runs_per_day
from portal import charts


@dataclass(frozen=True)
class RunsChart:
    svg: SafeString
    rows: list[tuple[date, int, int]]  # (day, went well, failed or left items for a person)
    total: int


def runs_chart(engagement_id: int, today: date) -> RunsChart:
    """For an engagement the view has already scoped to its reader."""
    rows = runs_per_day(engagement_id, today)
    ok, bad = sum(r[1] for r in rows), sum(r[2] for r in rows)
    svg = charts.bars(
        [(date_format(day, "d-m"), [went_well, failed]) for day, went_well, failed in rows],
        [charts.Series(_("went well"), "bar-ok"), charts.Series(_("failed or need attention"), "bar-fail")],
        title=_("Synchronisation runs per day"),
        desc=_("%(ok)d runs went well and %(bad)d failed or need attention in the last 14 days.")
        % {"ok": ok, "bad": bad},
        stacked=True,
        height=160,
    )
    return RunsChart(svg, rows, ok + bad)
