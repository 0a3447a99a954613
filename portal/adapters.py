"""allauth adapters: invite-only sign-up, audited login failures, encrypted TOTP seeds."""

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from portal import crypto
from portal.audit import Code, audit_record


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


class MFAAdapter(DefaultMFAAdapter):
    """Keeps TOTP seeds and recovery-code seeds encrypted in the database."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)
