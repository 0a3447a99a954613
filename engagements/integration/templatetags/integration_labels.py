"""Template filters that turn run codes into the translated labels of `integration.labels`."""

from django import template

from engagements.integration import labels

register = template.Library()


@register.filter
def count_label(key: str) -> str:
    return str(labels.COUNTS.get(key, key))


@register.filter
def action_label(action: str) -> str:
    return str(labels.ACTIONS.get(action, action))


@register.filter
def reason_label(code: str) -> str:
    return labels.reason_text(code)


@register.filter
def summary_label(summary: str) -> str:
    return labels.summary_text(summary)
