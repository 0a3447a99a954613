"""allauth adapters: invite-only sign-up, audited login failures, encrypted TOTP seeds."""

import logging
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.mfa.adapter import DefaultMFAAdapter
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

from portal import crypto
from portal.audit import Code, audit_record

logger = logging.getLogger(__name__)
MAIL_NOT_SENT = "mail-not-sent"  # tag of the message, read by templates/account/verification_sent.html
_MAIL_FAILED = "_portal_account_mail_failed"
_SENT_MESSAGE = "account/messages/email_confirmation_sent.txt"


def _login_email(credentials: dict[str, Any]) -> str:
    return str(credentials.get("email", credentials.get("username", ""))).lower()[:200]


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Clients join through a staff invitation only (portal.services.invitation_accept).
        return False

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """Failures are counted per account, not per site: allauth's default key includes the request's
        host with its port (there is no sites framework here), so a client could change the port in
        the Host header and never be throttled."""
        return f"portal:{_login_email(credentials)}"

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            audit_record(code=Code.LOGIN_THROTTLED, request=request, target=_login_email(credentials))
            raise

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        audit_record(code=Code.LOGIN_FAILED, request=request, target=_login_email(credentials))

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """allauth's mails (address confirmation, password reset) carry a secret link, so they are
        sent from the request, not queued. A mail server that is down or unreachable must not turn
        the sign-in into an error page: the person is told, and can ask again later."""
        try:
            super().send_mail(template_prefix, email, context)
        except OSError as error:  # refused, unreachable, timed out, and every smtplib error
            logger.error("account e-mail %s not sent: %s", template_prefix, type(error).__name__)
            request = allauth_context.request
            if request is not None:
                setattr(request, _MAIL_FAILED, True)
                messages.error(
                    request,
                    _("We could not send you the e-mail just now. Please try again in a few minutes."),
                    extra_tags=MAIL_NOT_SENT,
                )

    def add_message(self, request: HttpRequest, level: int, message_template: str | None = None, *args, **kwargs):
        """No "confirmation e-mail sent" after the e-mail could not be sent in this request."""
        if message_template == _SENT_MESSAGE and getattr(request, _MAIL_FAILED, False):
            return
        super().add_message(request, level, message_template, *args, **kwargs)


class MFAAdapter(DefaultMFAAdapter):
    """Keeps TOTP seeds and recovery-code seeds encrypted in the database."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)
