"""What can go wrong talking to Odoo or a shop, in one taxonomy both sides raise and every flow reads.

The gateway (gateway/) and the shop adapters (shops/) sit side by side and never import each other;
both raise these classes, so a flow tells "try again later" from "trying again changes nothing"
without knowing which system answered:

- `RetryableError`: nothing was written, or writing it again is harmless (network down, busy, locked);
- `PermanentError`: trying again changes nothing (validation, access, missing record, wrong keys);
- `AmbiguousWriteError`: a write may or may not have been applied (it timed out after leaving):
  never sent again blindly; the record is looked up by its marker first.

`code` is a stable reason code for run reports and labels (labels.py); the message never contains a
credential.

Two run-level refusals are typed too, so callers tell them apart by class, never by message:
`RunInProgress` (another run of the flow holds it) and `FlowPaused` (a connection was refused).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal.errors import DomainError


class IntegrationError(Exception):
    """Base of the taxonomy. `odoo_name` is the qualified class name of the exception Odoo raised, if any."""

    code = "integration_error"

    def __init__(self, message: str, *, code: str | None = None, odoo_name: str = "") -> None:
        super().__init__(message)
        self.code = code or self.code
        self.odoo_name = odoo_name


class RetryableError(IntegrationError):
    """Nothing was written (or it is safe to send again): try again later."""

    code = "unavailable"


class PermanentError(IntegrationError):
    """The other side refused the request itself: trying again changes nothing."""

    code = "rejected"


class AmbiguousWriteError(IntegrationError):
    """A write timed out after it left: the other side may have applied it. Look it up before any new try."""

    code = "write_ambiguous"


class RunInProgress(DomainError):
    """A run of this flow is going on for the engagement (the database allows one at a time)."""

    def __init__(self) -> None:
        super().__init__(_("A run of this flow is already in progress."))


class FlowPaused(DomainError):
    """A connection of the engagement was refused: scheduled, webhook and retry runs wait for a passing check."""

    def __init__(self) -> None:
        super().__init__(
            _("The flow is paused: a connection was refused. Test the connection again once the keys are fixed.")
        )
