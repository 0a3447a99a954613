"""django-q2 entry points of the portal app."""

from portal import mail


def email_send(subject: str, body: str, recipients: list[str], attachments: list | None = None) -> int:
    """Send one email to each recipient now (mail carrying a secret, sent from the request; and
    tasks queued before notifications went through OutgoingMail)."""
    return sum(mail.build_message(subject, body, to, attachments).send() for to in recipients)


def mail_deliver(ids: list[int]) -> list[str]:
    """The first attempt of the e-mails just committed (OutgoingMail ids)."""
    return [mail.mail_deliver(pk, first=True) for pk in ids]


def mail_retry_sweep() -> dict[str, int]:
    return mail.mail_retry_sweep()
