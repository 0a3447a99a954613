"""Template filters that turn run codes into the translated labels of `integration.labels`."""

from django import template

from engagements.integration import labels

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
