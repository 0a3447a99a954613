"""Session lifetime limits: idle timeout by role and an absolute cap (ASVS 7.3.1/7.3.2).

Clients may be idle for SESSION_IDLE_SECONDS_CLIENT (2 hours), staff and
consultants for SESSION_IDLE_SECONDS_INTERNAL (30 minutes); no session lives
longer than SESSION_ABSOLUTE_SECONDS (12 hours) after login. The login time and
the last activity are kept in the session itself (database sessions, so the
browser cannot change them). Ending a session is a real logout: the session
row is deleted and the cookie no longer opens anything.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

LOGIN_AT = "portal_login_at"
SEEN_AT = "portal_seen_at"
# The last-activity stamp is written at most this often, so that a burst of
# requests does not rewrite the session row each time; the idle limit is
# therefore enforced to within this many seconds.
TOUCH_EVERY = 60


def idle_limit(user) -> int:
    """Seconds a session of this user may stay unused."""
    if user.is_internal or user.is_superuser:
        return settings.SESSION_IDLE_SECONDS_INTERNAL
    return settings.SESSION_IDLE_SECONDS_CLIENT


def session_end_reason(session, user, now: int) -> str | None:
    """Why this session is over ("idle" or "absolute"), or None while it is valid."""
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if login_at is None or seen_at is None:
        return None  # a session from before this middleware: stamped from now on
    if now - login_at > settings.SESSION_ABSOLUTE_SECONDS:
        return "absolute"
    if now - seen_at > idle_limit(user):
        return "idle"
    return None


def stamp_login(sender, request, user, **kwargs) -> None:
    """user_logged_in receiver: a login starts both clocks (a new login, a new 12 hours)."""
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[LOGIN_AT] = request.session[SEEN_AT] = now


def _stamp(session, now: int) -> None:
    session.setdefault(LOGIN_AT, now)
    if now - session.get(SEEN_AT, 0) >= TOUCH_EVERY:
        session[SEEN_AT] = now


_MESSAGES = {
    "idle": lambda: _("Your session ended after a period of inactivity. Please sign in again."),
    "absolute": lambda: _("Your session reached its maximum length. Please sign in again."),
}


class SessionLimitMiddleware:
    """Ends sessions that are idle or too old; placed after auth and messages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        now = int(time.time())
        if request.user.is_authenticated:
            reason = session_end_reason(request.session, request.user, now)
            if reason:
                return self._end(request, reason)
        response = self.get_response(request)
        # After the view, so that a logout in this request (which emptied the
        # session) is not stamped again; a login was stamped by stamp_login.
        if request.user.is_authenticated:
            _stamp(request.session, now)
        return response

    @staticmethod
    def _end(request: HttpRequest, reason: str) -> HttpResponse:
        logout(request)  # flushes: the session row is deleted
        messages.warning(request, _MESSAGES[reason]())
        response = redirect_to_login(request.get_full_path())
        if request.headers.get("HX-Request") == "true":
            # htmx follows a 302 inside its request and would swap the login
            # page into a fragment: tell it to load the whole page instead.
            return HttpResponseClientRedirect(response["Location"])
        return response
