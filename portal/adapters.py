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
from django.utils.translation import gettext_lazy

from portal import crypto, login_throttle
from portal.audit import Code, audit_record

logger = logging.getLogger(__name__)
MAIL_NOT_SENT = "mail-not-sent"  # tag of the message, read by templates/account/verification_sent.html
_MAIL_FAILED = "_portal_account_mail_failed"
_SENT_MESSAGE = "account/messages/email_confirmation_sent.txt"


def _login_email(credentials: dict[str, Any]) -> str:
    return str(credentials.get("email", credentials.get("username", ""))).lower()[:200]


THROTTLED_SOURCE = gettext_lazy(
    "Too many failed sign-in attempts from your connection. Wait %(seconds)d seconds and try again."
)
THROTTLED_UNKNOWN_SOURCES = gettext_lazy(
    "Too many failed sign-in attempts for this account from new places. Sign in from a connection "
    "you have used before, or try again in %(minutes)d minutes."
)


def throttled_message(verdict: login_throttle.Verdict) -> str:
    if verdict.scope == "unknown_sources":
        return str(THROTTLED_UNKNOWN_SOURCES) % {"minutes": max(1, round(verdict.wait_seconds / 60))}
    return str(THROTTLED_SOURCE) % {"seconds": verdict.wait_seconds}


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Clients join through a staff invitation only (portal.services.invitation_accept).
        return False

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """allauth's limit per source address first, then ours per account and source
        (portal.login_throttle). Neither depends on the Host header: a client who changes the
        port in it is the same account from the same source."""
        email = _login_email(credentials)
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            audit_record(code=Code.LOGIN_THROTTLED, request=request, target=email, data={"scope": "address"})
            raise
        verdict = login_throttle.check(request, email)
        if not verdict.allowed:
            data = {"scope": verdict.scope, "source": verdict.source, "wait_seconds": verdict.wait_seconds}
            audit_record(code=Code.LOGIN_THROTTLED, request=request, target=email, data=data)
            raise ValidationError(throttled_message(verdict))

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        email = _login_email(credentials)
        data = login_throttle.record_failure(request, email)
        audit_record(code=Code.LOGIN_FAILED, request=request, target=email, data=data)

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
