"""django-q2 entry points of the portal app."""

from django.conf import settings
from django.core.mail import EmailMessage


def email_send(subject: str, body: str, recipients: list[str], attachments: list | None = None) -> int:
    """Send one email to each recipient (so addresses are not disclosed to each other)."""
    sent = 0
    for recipient in recipients:
        message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])
        for filename, content, mimetype in attachments or []:
            message.attach(filename, content, mimetype)
        sent += message.send()
    return sent
