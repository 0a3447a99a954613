"""Sending notification e-mails, and sending them again when the mail server fails.

A notification is an `OutgoingMail` row per recipient, written in the transaction that caused
it (portal.notifications.email_enqueue). After commit the worker sends it (`mail_deliver`). A
server that refuses or is down leaves the row pending with a growing delay (`RETRY_DELAYS`); the
sweep (`mail_retry_sweep`, every minute) sends what is due. After the last attempt the row is
"failed": logged as an error (which reaches ADMINS once mail works again) and counted by
/healthz, like the ones waiting for a retry (`mail_counts`).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.utils import timezone

from portal.logging import redact
from portal.models import MailStatus, OutgoingMail

logger = logging.getLogger(__name__)

Attachment = tuple[str, str, str]  # (filename, text content, mimetype)

# The wait after the 1st, 2nd, ... failed attempt: six attempts over about nine hours.
RETRY_DELAYS = tuple(timedelta(minutes=m) for m in (1, 5, 30, 120, 360))
# A row being sent is leased for this long: a worker killed in the middle frees it for the sweep.
LEASE = timedelta(minutes=2)
# A row the worker never picked up (a lost task) is sent by the sweep after this long.
LOST_AFTER = timedelta(minutes=5)
SWEEP_BATCH = 200
SENT_KEPT, FAILED_KEPT = timedelta(days=7), timedelta(days=30)  # bodies carry client data: not kept long
RECENT_FAILURES = timedelta(hours=24)  # /healthz: a failure this recent makes the mail check not ok


def retry_delay(attempts: int) -> timedelta | None:
    """The wait after the `attempts`-th failed attempt; None when that was the last one."""
    return RETRY_DELAYS[attempts - 1] if 1 <= attempts <= len(RETRY_DELAYS) else None


def build_message(subject: str, body: str, recipient: str, attachments: list | None = None) -> EmailMessage:
    """One message per recipient, so that addresses are not disclosed to each other."""
    message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])
    for filename, content, mimetype in attachments or []:
        message.attach(filename, content, mimetype)
    return message


def mail_queue(*, recipients: list[str], subject: str, body: str, attachments: list[Attachment]) -> list[int]:
    """Write one pending row per recipient (in the caller's transaction); returns their ids."""
    rows = OutgoingMail.objects.bulk_create(
        OutgoingMail(recipient=to, subject=subject[:300], body=body, attachments=[list(a) for a in attachments])
        for to in recipients
    )
    return [row.pk for row in rows]


def _due(now: datetime) -> Q:
    return Q(status=MailStatus.PENDING) & (
        Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lte=now - LOST_AFTER)
    )


def _claim(pk: int, now: datetime, *, first: bool) -> OutgoingMail | None:
    """Lease the row to this worker (a conditional update, so a task delivered twice sends once)."""
    due = Q(status=MailStatus.PENDING, next_attempt_at__isnull=True) if first else _due(now)
    if not OutgoingMail.objects.filter(due, pk=pk).update(next_attempt_at=now + LEASE):
        return None
    return OutgoingMail.objects.get(pk=pk)


def _record_failure(mail: OutgoingMail, error: Exception, now: datetime) -> str:
    attempts = mail.attempts + 1
    delay = retry_delay(attempts)
    status = MailStatus.PENDING if delay else MailStatus.FAILED
    OutgoingMail.objects.filter(pk=mail.pk).update(
        status=status,
        attempts=attempts,
        next_attempt_at=now + delay if delay else None,
        last_error=redact(f"{type(error).__name__}: {error}")[:200],
    )
    if delay:
        logger.warning("notification e-mail %s not sent (attempt %d), next try in %s", mail.pk, attempts, delay)
    else:
        logger.error("notification e-mail %s failed after %d attempts: %s", mail.pk, attempts, type(error).__name__)
    return status


def mail_deliver(pk: int, *, first: bool = False, now: datetime | None = None) -> str:
    """Send one queued e-mail if it is due; returns "sent", "pending" (retry later), "failed" or
    "skipped" (not due, or sent already)."""
    now = now or timezone.now()
    mail = _claim(pk, now, first=first)
    if mail is None:
        return "skipped"
    try:
        build_message(mail.subject, mail.body, mail.recipient, mail.attachments).send()
    except Exception as error:  # refused, unreachable, timed out, any smtplib error: try again later
        return _record_failure(mail, error, now)
    OutgoingMail.objects.filter(pk=pk).update(
        status=MailStatus.SENT, sent_at=timezone.now(), attempts=mail.attempts + 1, next_attempt_at=None, last_error=""
    )
    return MailStatus.SENT


def mail_retry_sweep(now: datetime | None = None) -> dict[str, int]:
    """Send the due e-mails, oldest first, and forget old ones. It stops at the first failure:
    the server is most likely down, and each further attempt would wait EMAIL_TIMEOUT for
    nothing; the rest stay due for the next sweep."""
    now = now or timezone.now()
    outcomes: Counter[str] = Counter()
    for pk in OutgoingMail.objects.filter(_due(now)).order_by("created_at").values_list("pk", flat=True)[:SWEEP_BATCH]:
        outcome = mail_deliver(pk, now=now)
        outcomes[outcome] += 1
        if outcome in (MailStatus.PENDING, MailStatus.FAILED):
            break
    OutgoingMail.objects.filter(
        Q(status=MailStatus.SENT, created_at__lt=now - SENT_KEPT)
        | Q(status=MailStatus.FAILED, created_at__lt=now - FAILED_KEPT)
    ).delete()
    return dict(outcomes)


def mail_counts(now: datetime | None = None) -> dict[str, int]:
    """For /healthz: e-mails waiting for a retry, and those that failed for good lately."""
    now = now or timezone.now()
    return {
        "retrying": OutgoingMail.objects.filter(status=MailStatus.PENDING, attempts__gt=0).count(),
        "failed_24h": OutgoingMail.objects.filter(
            status=MailStatus.FAILED, created_at__gte=now - RECENT_FAILURES
        ).count(),
    }
