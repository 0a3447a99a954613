"""Email notifications: rendered now, in the active language, sent after commit."""

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django_q.tasks import async_task

from portal.tasks import email_send


def email_enqueue(*, to: list[str], template: str, context: dict, contains_secret: bool = False) -> None:
    """Render `emails/<template>_subject.txt` and `_body.txt` and send once the
    current transaction commits (a rolled-back write sends nothing).

    Mail goes through the worker, except mail carrying a secret (an invitation
    link): task arguments are stored in the broker and task tables, so that
    mail is sent directly from the committing process instead.
    """
    ctx = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", ctx).split())
    body = render_to_string(f"emails/{template}_body.txt", ctx)
    recipients = [address for address in to if address]
    if not recipients:
        return
    if contains_secret:
        transaction.on_commit(lambda: email_send(subject, body, recipients))
    else:
        transaction.on_commit(lambda: async_task("portal.tasks.email_send", subject, body, recipients))


def staff_addresses() -> list[str]:
    return list(settings.STAFF_NOTIFICATION_EMAILS)
