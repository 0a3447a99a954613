"""Audit receivers for events that happen inside Django and allauth.

Signals are used only here, for code we do not own (login and MFA views);
our own writes call portal.audit.audit_record directly from services.
"""

from allauth.mfa import signals as mfa_signals
from django.contrib.auth import signals as auth_signals

from portal import sessions
from portal.audit import Code, audit_record


def _on_logged_in(sender, request, user, **kwargs) -> None:
    audit_record(code=Code.LOGIN_SUCCEEDED, request=request, actor=user, target=user.email)


def _on_logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record(code=Code.LOGOUT, request=request, actor=user, target=user.email)


def _mfa_receiver(code: str):
    def handler(sender, request, user, authenticator, **kwargs) -> None:
        audit_record(code=code, request=request, actor=user, target=user.email, data={"type": authenticator.type})

    return handler


_RECEIVERS = [
    (auth_signals.user_logged_in, "login", _on_logged_in),
    (auth_signals.user_logged_out, "logout", _on_logged_out),
    (auth_signals.user_logged_in, "session_limits", sessions.stamp_login),
    (mfa_signals.authenticator_added, "mfa_added", _mfa_receiver(Code.MFA_ADDED)),
    (mfa_signals.authenticator_removed, "mfa_removed", _mfa_receiver(Code.MFA_REMOVED)),
    (mfa_signals.authenticator_reset, "mfa_reset", _mfa_receiver(Code.MFA_RESET)),
    (mfa_signals.authentication_failed, "mfa_failed", _mfa_receiver(Code.MFA_FAILED)),
]


def connect() -> None:
    """Called once from PortalConfig.ready()."""
    for signal, name, handler in _RECEIVERS:
        signal.connect(handler, dispatch_uid=f"portal_audit_{name}")
