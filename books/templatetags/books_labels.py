"""Template filters that turn the books' codes into labels (books/labels.py)."""

from django import template

from books import labels

register = template.Library()


def _label(table: dict, code: str) -> str:
    return str(table.get(code, code or ""))


@register.filter
def odoo_state(code: str) -> str:
    return _label(labels.STATES, code)


@register.filter
def odoo_payment_state(code: str) -> str:
    return _label(labels.PAYMENT_STATES, code)


@register.filter
def sii_status(code: str) -> str:
    return _label(labels.SII_STATUSES, code)


@register.filter
def books_action(code: str) -> str:
    return _label(labels.ACTIONS, code)


@register.filter
def books_kind(code: str) -> str:
    return _label(labels.KINDS, code)


@register.filter
def books_reason(code: str) -> str:
    return labels.reason_text(code)


@register.filter
def books_problem(code: str) -> str:
    return labels.problem_text(code) if code else ""


@register.filter
def books_reason_summary(summary: str) -> str:
    """A failed pass's summary is `code: technical message`; people get the code's label."""
    return labels.problem_text(summary.split(":", 1)[0].strip()) if summary else ""


@register.filter
def setting_problem(code: str) -> str:
    return _label(labels.SETTING_PROBLEMS, code)


@register.filter
def books_counts(counts: dict) -> list[tuple[str, int]]:
    """The run's non-zero counts, labelled, in a fixed order."""
    return [(str(label), counts[key]) for key, label in labels.COUNTS.items() if counts.get(key)]
