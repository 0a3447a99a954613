"""Whether the account e-mail of this request could not be sent (see portal.adapters.send_mail)."""

from django import template

from portal.adapters import MAIL_NOT_SENT

register = template.Library()


@register.filter
def mail_not_sent(messages) -> bool:
    """True when the messages carry the "not sent" notice (the page then must not say it was sent)."""
    return any(MAIL_NOT_SENT in message.tags.split() for message in messages or ())
