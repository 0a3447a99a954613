"""Audit receivers for events that happen inside Django and allauth.

Signals are used only here, for code we do not own (login and MFA views);
our own writes call portal.audit.audit_record directly from services.
"""

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.contrib.auth import signals as auth_signals

from portal import login_throttle, sessions
from portal.audit import Code, audit_record


def _on_logged_in(sender, request, user, **kwargs) -> None:
    audit_record(code=Code.LOGIN_SUCCEEDED, request=request, actor=user, target=user.email)
    login_throttle.record_success(request, user.email)


def _on_logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record(code=Code.LOGOUT, request=request, actor=user, target=user.email)


def _password_receiver(code: str):
    # allauth sends these after a change on the password page, a first password set, and a
    # reset through the e-mailed link; the password itself is never passed on.
    def handler(sender, request, user, **kwargs) -> None:
        audit_record(code=code, request=request, actor=user, target=user.email)

    return handler


def _mfa_receiver(code: str):
    def handler(sender, request, user, authenticator, **kwargs) -> None:
        audit_record(code=code, request=request, actor=user, target=user.email, data={"type": authenticator.type})

    return handler


_RECEIVERS = [
    (auth_signals.user_logged_in, "login", _on_logged_in),
    (auth_signals.user_logged_out, "logout", _on_logged_out),
    (auth_signals.user_logged_in, "session_limits", sessions.stamp_login),
    (account_signals.password_changed, "password_changed", _password_receiver(Code.PASSWORD_CHANGED)),
    (account_signals.password_set, "password_set", _password_receiver(Code.PASSWORD_SET)),
    (account_signals.password_reset, "password_reset", _password_receiver(Code.PASSWORD_RESET)),
    (mfa_signals.authenticator_added, "mfa_added", _mfa_receiver(Code.MFA_ADDED)),
    (mfa_signals.authenticator_removed, "mfa_removed", _mfa_receiver(Code.MFA_REMOVED)),
    (mfa_signals.authenticator_reset, "mfa_reset", _mfa_receiver(Code.MFA_RESET)),
    (mfa_signals.authentication_failed, "mfa_failed", _mfa_receiver(Code.MFA_FAILED)),
]


def connect() -> None:
    """Called once from PortalConfig.ready()."""
    for signal, name, handler in _RECEIVERS:
        signal.connect(handler, dispatch_uid=f"portal_audit_{name}")
