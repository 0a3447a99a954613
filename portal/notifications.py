"""Email notifications: rendered now, in the portal's language, sent after commit.

People have no language of their own in the portal: a client reads Spanish even when the
consultant who triggered the mail uses the English pages, so mail is always written in
settings.LANGUAGE_CODE (the active language is only that of whoever clicked)."""

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django_q.tasks import async_task

from portal.mail import Attachment, mail_queue
from portal.tasks import email_send

logger = logging.getLogger(__name__)
_state = threading.local()


@contextmanager
def muted() -> Iterator[None]:
    """No mail inside this block (seed_demo builds history, it does not notify)."""
    _state.muted = True
    try:
        yield
    finally:
        _state.muted = False


def email_enqueue(
    *,
    to: list[str],
    template: str,
    context: dict,
    contains_secret: bool = False,
    attachments: list[Attachment] | None = None,
    on_failure: Callable[[], None] | None = None,
) -> None:
    """Render `emails/<template>_subject.txt` and `_body.txt` and send once the
    current transaction commits (a rolled-back write sends nothing).

    Mail goes through the worker, which retries it when the mail server fails
    (portal.mail). Mail carrying a secret (an invitation link) does not: what the
    worker sends is stored in the database, so that mail is sent directly from the
    committing process instead, once; if the server fails, the error is logged,
    `on_failure` is called (the caller records that the link was not sent) and the
    request goes on.
    """
    ctx = {"site_url": settings.SITE_URL, "consultancy": settings.CONSULTANCY, **context}
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"emails/{template}_subject.txt", ctx).split())
        body = render_to_string(f"emails/{template}_body.txt", ctx)
    recipients = sorted({address for address in to if address})
    if not recipients or getattr(_state, "muted", False):
        return
    files = list(attachments or [])
    if contains_secret:
        transaction.on_commit(lambda: _send_now(template, subject, body, recipients, files, on_failure))
        return
    ids = mail_queue(recipients=recipients, subject=subject, body=body, attachments=files)
    transaction.on_commit(lambda: async_task("portal.tasks.mail_deliver", ids))


def _send_now(template: str, subject: str, body: str, recipients: list[str], files: list, on_failure) -> None:
    try:
        email_send(subject, body, recipients, files)
    except Exception as error:  # refused, unreachable, timed out, any smtplib error: the commit stands
        logger.error("e-mail %s not sent: %s", template, type(error).__name__)
        if on_failure is not None:
            on_failure()


def staff_addresses() -> list[str]:
    return list(settings.STAFF_NOTIFICATION_EMAILS)
