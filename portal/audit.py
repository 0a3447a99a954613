"""The security audit trail: one function writes it, codes are listed here."""

from typing import Any

from allauth.account.adapter import get_adapter
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from portal.models import AuditEvent, User


class Code:
    LOGIN_SUCCEEDED = "portal.login.succeeded"
    LOGIN_FAILED = "portal.login.failed"
    LOGIN_THROTTLED = "portal.login.throttled"
    LOGOUT = "portal.login.logout"
    MFA_FAILED = "portal.mfa.failed"
    MFA_ADDED = "portal.mfa.added"
    MFA_REMOVED = "portal.mfa.removed"
    MFA_RESET = "portal.mfa.reset"
    ROLE_CHANGED = "portal.user.role_changed"
    USER_DEACTIVATED = "portal.user.deactivated"
    MEMBERSHIP_ADDED = "portal.membership.added"
    MEMBERSHIP_REMOVED = "portal.membership.removed"
    COMPANY_CREATED = "portal.company.created"
    COMPANY_UPDATED = "portal.company.updated"
    INVITATION_SENT = "portal.invitation.sent"
    INVITATION_ACCEPTED = "portal.invitation.accepted"
    INVITATION_REVOKED = "portal.invitation.revoked"
    INVITATION_RESENT = "portal.invitation.resent"
    ACCESS_DENIED = "portal.access.denied"
    # Online payments (billing.webpay): every attempt and how it ended.
    WEBPAY_STARTED = "billing.webpay.started"
    WEBPAY_PAID = "billing.webpay.paid"
    WEBPAY_CLOSED = "billing.webpay.closed"  # rejected, cancelled, timed out, abandoned, not charged
    WEBPAY_REVIEW = "billing.webpay.review"  # authorized but not recordable as is: staff decide
    WEBPAY_UNCONFIRMED = "billing.webpay.unconfirmed"  # Transbank did not answer: still pending
    WEBPAY_REFUNDED = "billing.webpay.refunded"
    # The connections to clients' Odoo and shops (engagements.integration): every save and check.
    CONNECTION_SAVED = "integration.connection.saved"
    CONNECTION_CHECK_REQUESTED = "integration.connection.check_requested"
    CONNECTION_CHECKED = "integration.connection.checked"
    PASSWORD_CHANGED = "portal.password.changed"
    PASSWORD_SET = "portal.password.set"
    PASSWORD_RESET = "portal.password.reset"
    ADMIN_ADDED = "portal.admin.added"
    ADMIN_CHANGED = "portal.admin.changed"
    ADMIN_DELETED = "portal.admin.deleted"
    # The consultancy's books in Odoo (books): its connection and what staff decide for a push.
    BOOKS_CONNECTION_SAVED = "books.connection.saved"
    BOOKS_SETTINGS_SAVED = "books.settings.saved"
    BOOKS_DOCUMENT_SENT = "books.document.sent"
    BOOKS_PUSH_RETRIED = "books.push.retried"
    BOOKS_PUSH_HANDLED = "books.push.handled"


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    try:
        # allauth's adapter honours ALLAUTH_TRUSTED_PROXY_COUNT, like its rate limits.
        return get_adapter(request).get_client_ip(request)
    except PermissionDenied:  # no address at all: audit without one
        return None


def audit_record(
    *,
    code: str,
    request: HttpRequest | None = None,
    actor: User | None = None,
    target: object = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit event. Never pass secrets in `data`."""
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        actor = request.user if request.user.is_authenticated else None
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else ""
    return AuditEvent.objects.create(
        code=code,
        actor=actor,
        target=str(target)[:300],
        ip_address=client_ip(request),
        user_agent=user_agent,
        data=data or {},
    )
