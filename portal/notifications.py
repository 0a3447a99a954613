"""Email notifications: rendered now, in the active language, sent after commit."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django_q.tasks import async_task

from portal.tasks import email_send

Attachment = tuple[str, str, str]  # (filename, content, mimetype)
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
) -> None:
    """Render `emails/<template>_subject.txt` and `_body.txt` and send once the
    current transaction commits (a rolled-back write sends nothing).

    Mail goes through the worker, except mail carrying a secret (an invitation
    link): task arguments are stored in the broker and task tables, so that
    mail is sent directly from the committing process instead.
    """
    ctx = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", ctx).split())
    body = render_to_string(f"emails/{template}_body.txt", ctx)
    recipients = sorted({address for address in to if address})
    if not recipients or getattr(_state, "muted", False):
        return
    files = list(attachments or [])
    if contains_secret:
        transaction.on_commit(lambda: email_send(subject, body, recipients, files))
    else:
        transaction.on_commit(lambda: async_task("portal.tasks.email_send", subject, body, recipients, files))


def staff_addresses() -> list[str]:
    return list(settings.STAFF_NOTIFICATION_EMAILS)
