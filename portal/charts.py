"""Charts drawn on the server as accessible SVG: no script, no inline style (colours are CSS classes
of static/css/portal.css), a <title> and <desc> read by screen readers, and a text equivalent
next to each chart in the page (the caller's table or list).

Pure: plain values in, markup out (escaped here, marked safe for templates). Sizes are in the
viewBox's units; the SVG scales to the width of its container.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_ids = itertools.count(1)


def _svg(width: int, height: int, title: str, desc: str, body: list[str], css: str = "") -> SafeString:
    n = next(_ids)
    head = (
        f'<svg class="chart {css}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-labelledby="chart-{n}-title chart-{n}-desc" preserveAspectRatio="xMinYMin meet">'
        f'<title id="chart-{n}-title">{escape(title)}</title><desc id="chart-{n}-desc">{escape(desc)}</desc>'
    )
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 (every text above is escaped)


def _text(x: float, y: float, text: str, css: str = "", anchor: str = "start") -> str:
    klass = f' class="{css}"' if css else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{klass}>{escape(text)}</text>'


def _rect(x: float, y: float, w: float, h: float, css: str, label: str = "") -> str:
    tip = f"<title>{escape(label)}</title>" if label else ""
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" rx="2" class="{css}">{tip}</rect>'


# ---------------------------------------------------------------- bars


@dataclass(frozen=True)
class Series:
    label: str
    css: str  # a class of portal.css: bar-main, bar-second, bar-ok, bar-fail, age-0..age-3


def bars(
    groups: Sequence[tuple[str, Sequence[Decimal | int]]],
    series: Sequence[Series],
    *,
    title: str,
    desc: str,
    fmt: Callable[[Decimal | int], str] = str,
    stacked: bool = False,
    width: int = 640,
    height: int = 220,
) -> SafeString:
    """Vertical bars: one group per label (a month, a day, an age bucket), one bar per series side
    by side, or stacked. `fmt` writes the top value on the axis."""
    left, right, top, bottom = 104, 8, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values) if stacked else max(values, default=0) for _, values in groups]
    peak = max([*totals, 0]) or 1
    body = [
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}"/>',
        f'<line class="grid" x1="{left}" y1="{top}" x2="{width - right}" y2="{top}"/>',
        _text(left - 6, top + 4, fmt(peak), "muted", "end"),
        _text(left - 6, top + plot_h + 4, fmt(0), "muted", "end"),
    ]
    slot = plot_w / max(len(groups), 1)
    bar_w = slot * 0.7 / (1 if stacked else max(len(series), 1))
    for i, (label, values) in enumerate(groups):
        x, base = left + i * slot + slot * 0.15, top + plot_h
        for value, one in zip(values, series, strict=True):
            h = plot_h * float(value) / float(peak)
            body.append(_rect(x, base - h, bar_w, h, one.css, f"{label} · {one.label}: {fmt(value)}"))
            if stacked:
                base -= h
            else:
                x += bar_w
        body.append(_text(left + i * slot + slot / 2, height - 10, label, "muted", "middle"))
    return _svg(width, height, title, desc, body)


# ---------------------------------------------------------------- the engagement's timeline


@dataclass(frozen=True)
class Span:
    label: str
    start: date
    end: date
    css: str


@dataclass(frozen=True)
class Lane:
    label: str
    spans: Sequence[Span] = ()
    points: Sequence[tuple[date, str]] = ()  # (day, what happened)


def timeline(
    lanes: Sequence[Lane], *, today: date, title: str, desc: str, fmt: Callable[[date], str], width: int = 720
) -> SafeString:
    """Lanes of spans (phases, the estimate window, waits) and points (sessions held) on one
    calendar axis, with today marked."""
    days = [d for lane in lanes for s in lane.spans for d in (s.start, s.end)]
    days += [d for lane in lanes for d, _ in lane.points] + [today]
    first, last = min(days) - timedelta(days=2), max(days) + timedelta(days=2)
    left, right, top, lane_h = 230, 12, 8, 24
    height = top + lane_h * len(lanes) + 30
    span_days = max((last - first).days, 1)

    def x(day: date) -> float:
        return left + (width - left - right) * (day - first).days / span_days

    body = []
    for i, lane in enumerate(lanes):
        y = top + i * lane_h
        body.append(
            f'<line class="grid" x1="{left}" y1="{y + lane_h:.1f}" x2="{width - right}" y2="{y + lane_h:.1f}"/>'
        )
        body.append(_text(left - 8, y + lane_h / 2 + 4, lane.label, "", "end"))
        for span in lane.spans:
            end = max(span.end, span.start + timedelta(days=1))
            body.append(_rect(x(span.start), y + 6, x(end) - x(span.start), lane_h - 12, span.css, span.label))
        for day, label in lane.points:
            body.append(
                f'<circle cx="{x(day):.1f}" cy="{y + lane_h / 2:.1f}" r="5" class="session-dot">'
                f"<title>{escape(label)}</title></circle>"
            )
    bottom = top + lane_h * len(lanes)
    body.append(f'<line class="axis" x1="{left}" y1="{bottom}" x2="{width - right}" y2="{bottom}"/>')
    for tick in _ticks(first, last):
        body.append(_text(x(tick), bottom + 16, fmt(tick), "muted", "middle"))
    body.append(f'<line class="today" x1="{x(today):.1f}" y1="{top}" x2="{x(today):.1f}" y2="{bottom}"/>')
    return _svg(width, height, title, desc, body)


def _ticks(first: date, last: date, count: int = 5) -> list[date]:
    step = max((last - first).days // count, 1)
    return [first + timedelta(days=step * k) for k in range(1, count)]


def shares(parts: Sequence[tuple[str, Decimal | int, str]], *, title: str, desc: str, width: int = 640) -> SafeString:
    """One horizontal bar split in shares that add up to 100 (a payment plan), each labelled inside."""
    height, x = 44, 0.0
    body = []
    for label, percent, css in parts:
        w = width * float(percent) / 100
        body.append(_rect(x, 0, w - 2, height, css, label))
        body.append(f'<text x="{x + w / 2:.1f}" y="{height / 2 + 5:.1f}" text-anchor="middle" class="on-bar">')
        body.append(f"{escape(label)}</text>")
        x += w
    return _svg(width, height, title, desc, body)
