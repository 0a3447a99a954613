"""Typed refusals of the engagement services: views and tests check the type and
its data, never the wording. Each carries a translated message for the person."""

from __future__ import annotations

from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from engagements.rules import PhaseGaps
from portal.errors import DomainError

ADMIN_CLOSE_TOO_EARLY = _(
    "An administrative close is possible from %(date)s, after %(days)d days waiting on the client "
    "without reactivation. To stop the engagement before that, cancel it."
)
PHASE_INCOMPLETE = _("Parts of this phase are not done. Give a reason to complete it anyway.")
SESSION_NOT_HELD = _("A session can be logged once it has been scheduled and held; schedule it first.")
STEP_NOT_YOURS = _("Only the consultancy or the side responsible for this step can mark it done.")


class AdminCloseTooEarly(DomainError):
    """R2: fewer than `close_after_days` days in waiting_on_client."""

    def __init__(self, first_allowed: date, days: int):
        message = ADMIN_CLOSE_TOO_EARLY % {"date": date_format(first_allowed, "SHORT_DATE_FORMAT"), "days": days}
        super().__init__(message, field="reason")
        self.first_allowed = first_allowed


class PhaseIncomplete(DomainError):
    """The phase has sessions, deliverables or requests not done, and no reason was given."""

    def __init__(self, gaps: PhaseGaps):
        super().__init__(PHASE_INCOMPLETE, field="reason")
        self.gaps = gaps


class SessionNotHeld(DomainError):
    def __init__(self):
        super().__init__(SESSION_NOT_HELD)


class StepNotYours(DomainError):
    def __init__(self):
        super().__init__(STEP_NOT_YOURS)
