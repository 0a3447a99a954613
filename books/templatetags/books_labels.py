"""Template filters that turn the books' codes into labels (books/labels.py)."""

from functools import partial

from django import template

from books import labels

register = template.Library()


def _label(table: dict, code: str) -> str:
    return str(table.get(code, code or ""))


# One filter per table: {{ doc.state|odoo_state }}, {{ push.kind|books_kind }}...
for _name, _table in {
    "odoo_state": labels.STATES,
    "odoo_payment_state": labels.PAYMENT_STATES,
    "sii_status": labels.SII_STATUSES,
    "books_action": labels.ACTIONS,
    "books_kind": labels.KINDS,
    "setting_problem": labels.SETTING_PROBLEMS,
}.items():
    register.filter(_name, partial(_label, _table))


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
def books_counts(counts: dict) -> list[tuple[str, int]]:
    """The run's non-zero counts, labelled, in a fixed order."""
    return [(str(label), counts[key]) for key, label in labels.COUNTS.items() if counts.get(key)]
