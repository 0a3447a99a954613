"""Template helpers for engagement pages."""

from datetime import date

from django import template
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from engagements import reasons
from engagements.models import ChecklistKind, EngagementEvent, Phase, Status

register = template.Library()

_STATUS = dict(Status.choices)
_PHASE = dict(Phase.choices)
_ITEM = dict(ChecklistKind.choices)


@register.filter
def event_text(event: EngagementEvent) -> str:
    """One readable line per timeline event."""
    data = event.data or {}
    texts = {
        "engagement.inquiry_received": lambda: _("Inquiry received from the service page"),
        "engagement.status_changed": lambda: (
            _("Status: %(old)s → %(new)s")
            % {"old": _STATUS.get(event.old_status, event.old_status), "new": _STATUS.get(event.new_status, "")}
        ),
        "engagement.scope_confirmed": lambda: _("Scope confirmed: sessions, checklist and plan created"),
        "engagement.phase_completed": lambda: (
            (
                _("Phase completed with items still open: %(phase)s")
                if data.get("overridden")
                else _("Phase completed: %(phase)s")
            )
            % {"phase": _PHASE.get(data.get("phase"), "")}
        ),
        "engagement.consultant_assigned": lambda: _("Consultant assigned"),
        "diagnosis.completed": lambda: _("Diagnosis completed"),
        "checklist.delivered": lambda: _("Delivered: %(item)s") % {"item": _ITEM.get(data.get("item"), "")},
        "checklist.verified": lambda: _("Verified: %(item)s") % {"item": _ITEM.get(data.get("item"), "")},
        "checklist.returned": lambda: _("Sent back: %(item)s") % {"item": _ITEM.get(data.get("item"), "")},
        "session.scheduled": lambda: _("Session %(number)s scheduled") % {"number": data.get("number")},
        "session.log_published": lambda: _("Log of session %(number)s published") % {"number": data.get("number")},
        "request.sent": lambda: _("Formal request sent: %(subject)s") % {"subject": data.get("subject", "")},
        "request.answered": lambda: _("Formal request answered: %(subject)s") % {"subject": data.get("subject", "")},
        "change_request.raised": lambda: _("Change request: %(title)s") % {"title": data.get("title", "")},
        "change_request.classified": lambda: _("Change request reviewed: %(title)s") % {"title": data.get("title", "")},
        "quote.sent": lambda: _("Quote version %(version)s sent") % {"version": data.get("version", "")},
        "quote.accepted": lambda: _("Quote version %(version)s accepted") % {"version": data.get("version", "")},
        "quote.declined": lambda: _("Quote declined"),
        "invoice.issued": lambda: _("Payment request %(number)s issued") % {"number": data.get("number", "")},
        "invoice.voided": lambda: (
            _("Payment request %(voided)s voided (%(number)s)")
            % {"voided": data.get("voids", ""), "number": data.get("number", "")}
        ),
        "milestone.nothing_to_collect": lambda: (
            _("Payment milestone of %(percent)s %% reached: nothing to collect, no payment request")
            % {"percent": data.get("percent", "")}
        ),
        "invoice.payment_recorded": lambda: _("Payment received for %(number)s") % {"number": data.get("number", "")},
        "invoice.payment_refunded": lambda: _("Refund for %(number)s") % {"number": data.get("number", "")},
        "invoice.webpay_started": lambda: (
            _("Webpay payment started for %(number)s") % {"number": data.get("number", "")}
        ),
        "invoice.webpay_paid": lambda: _("Paid with Webpay: %(number)s") % {"number": data.get("number", "")},
        "invoice.webpay_closed": lambda: (
            _("Webpay payment for %(number)s not completed") % {"number": data.get("number", "")}
        ),
        "credit.created": lambda: (
            _("Credit in your favour valid until %(date)s") % {"date": _short_date(data.get("valid_until", ""))}
        ),
    }
    return texts.get(event.kind, lambda: _("Update"))()


def _short_date(iso: str) -> str:
    """An ISO date stored in an event, in the reader's short date format (dd-mm-aaaa)."""
    try:
        return date_format(date.fromisoformat(iso), "SHORT_DATE_FORMAT")
    except ValueError:
        return iso


@register.filter
def minutes_hm(minutes: int | None) -> str:
    minutes = minutes or 0
    return f"{minutes // 60} h {minutes % 60:02d} min"


@register.filter
def reason_text(reason: str) -> str:
    """A reason the portal wrote by itself, in the reader's language; a person's reason as typed."""
    return reasons.reason_text(reason or "")
