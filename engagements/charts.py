"""The engagement's timeline as a picture: phases planned and done, the estimate window, the waits
on the client and the sessions held, on one calendar (portal.charts draws it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from django.utils import translation
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from engagements import rules
from engagements.models import PhasePlan
from portal import charts


@dataclass
class TimelineChart:
    svg: SafeString
    lines: list[str]  # the same facts as text, for whoever does not see the picture


def _day(day: date) -> str:
    return _formatted(day, translation.get_language())


@lru_cache(maxsize=4096)
def _formatted(day: date, language: str) -> str:
    """date_format is slow and a timeline repeats its days: each day is formatted once per language."""
    return date_format(day, "SHORT_DATE_FORMAT")


def _phase_span(plan: PhasePlan, current: str, today: date, tz) -> charts.Span | None:
    start = rules.local_date(plan.started_at, tz) if plan.started_at else plan.planned_start
    if plan.completed_at:
        end, css, state = rules.local_date(plan.completed_at, tz), "phase-done", _("done")
    elif plan.phase == current:
        end, css, state = max(plan.planned_end or today, today), "phase-current", _("in progress")
    else:
        end, css, state = plan.planned_end, "phase-planned", _("planned")
    if start is None or end is None:
        return None
    label = _("%(phase)s: %(start)s to %(end)s (%(state)s)") % {
        "phase": plan.get_phase_display(),
        "start": _day(start),
        "end": _day(end),
        "state": state,
    }
    return charts.Span(label, start, end, css)


def engagement_timeline(view, phases: list[PhasePlan], today: date, tz) -> TimelineChart | None:
    """None before the scope is confirmed: there is no plan to draw yet."""
    engagement = view.engagement
    if engagement.scope_confirmed_at is None:
        return None
    current = engagement.phase if engagement.status in (rules.ACTIVE, rules.WAITING) else ""
    lanes, lines = [], []
    for plan in phases:  # one lane per phase, as in a plan
        span = _phase_span(plan, current, today, tz)
        lanes.append(charts.Lane(plan.get_phase_display(), [span] if span else []))
        if span:
            lines.append(span.label)
    spans = [span for lane in lanes for span in lane.spans]
    window = view.estimate
    if window.starts:
        label = _("Estimated delivery: between %(start)s and %(end)s") % {
            "start": _day(window.earliest_end),
            "end": _day(window.latest_end),
        }
        lanes.append(charts.Lane(_("Delivery"), [charts.Span(label, window.earliest_end, window.latest_end, "window")]))
        lines.append(label)
    if view.wait_periods:
        waits = [
            charts.Span(
                _("Waiting on the client: %(start)s to %(end)s") % {"start": _day(a), "end": _day(b)}, a, b, "wait"
            )
            for a, b in view.wait_periods
        ]
        lanes.append(charts.Lane(_("Waits"), waits))
        lines += [span.label for span in waits]
    if view.session_days:
        by_day: dict[date, list[str]] = {}
        for day, number in view.session_days:  # one point per day, however many sessions it had
            by_day.setdefault(day, []).append(str(number))
        held = _("Sessions %(numbers)s held on %(date)s")
        points = [(day, held % {"numbers": ", ".join(n), "date": _day(day)}) for day, n in by_day.items()]
        lanes.append(charts.Lane(_("Sessions held"), points=points))
        lines += [label for _when, label in points]
    if not spans and len(lanes) == len(phases):
        return None
    svg = charts.timeline(
        lanes,
        today=today,
        title=_("Timeline of %(title)s") % {"title": engagement.title},
        desc=_("Phases, estimated delivery, waits on the client and sessions held, up to today (%(today)s).")
        % {"today": _day(today)},
        fmt=_day,
    )
    return TimelineChart(svg, lines)


def payment_plan(terms) -> SafeString:
    """The milestone plan (40 / 30 / 30) as one bar, for the public service page."""
    english = translation.get_language() == "en"
    parts = [(f"{m['percent']} %", m["percent"], f"pay-{n}") for n, m in enumerate(terms.milestone_plan, start=1)]
    steps = "; ".join(f"{m['percent']} % {m['label_en'] if english else m['label_es']}" for m in terms.milestone_plan)
    return charts.shares(parts, title=_("Payment structure"), desc=steps)
