"""Request middleware of the portal: MFA enforcement, private caching and the language choice."""

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import redirect
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers

# Pages a person without MFA still needs: login/logout, MFA enrolment itself,
# reauthentication, language switch and assets.
_OPEN_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/favicon.ico")


class RequireMFAMiddleware:
    """Consultants and staff must enrol a TOTP authenticator before any internal page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and (user.is_internal or user.is_superuser)
            and not request.path.startswith(_OPEN_PREFIXES)
            and not is_mfa_enabled(user, [Authenticator.Type.TOTP])
        ):
            return redirect("mfa_activate_totp")
        return self.get_response(request)


class PrivateCacheMiddleware:
    """Every answer to a signed-in person (pages, PDFs, attachments, CSV exports, redirects) is
    `Cache-Control: no-store, private`: no browser, proxy or shared computer keeps a copy of a
    client's data after they leave. Static files never get here (WhiteNoise answers first) and
    stay cacheable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        # The brand's stylesheet and the favicon are the same for everyone (portal/assets.py).
        if user is not None and user.is_authenticated and not getattr(response, "public_asset", False):
            patch_cache_control(response, no_store=True, private=True)
            patch_vary_headers(response, ("Cookie",))
        return response


class LanguageMiddleware(LocaleMiddleware):
    """Spanish unless the person chose another language with the switch.

    The browser's Accept-Language is ignored on purpose: the consultancy's
    clients are Spanish-speaking even when their browser is set to English, and
    the language switch (a cookie) is the one way to change it.
    """

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
