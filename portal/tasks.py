"""django-q2 entry points of the portal app."""

from django.conf import settings
from django.core.mail import send_mail


def email_send(subject: str, body: str, recipients: list[str]) -> int:
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
