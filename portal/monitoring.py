"""Error reports for the operator: e-mail to ADMINS, and Sentry when SENTRY_DSN is set.

Both carry what the logs carry, through the same redaction (portal.logging.redact): known
secret shapes and the token part of webhook, invitation and password-reset paths are masked.
sentry-sdk is imported by `sentry_init` only, which settings call only when SENTRY_DSN is set.
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils.log import AdminEmailHandler

from portal.logging import redact

# Request data that never goes to Sentry, whatever it contains.
_DROPPED_REQUEST_KEYS = ("cookies", "data", "headers", "env")


class RedactingAdminEmailHandler(AdminEmailHandler):
    """Django's ADMINS e-mail, with the report (request path, traceback, local variables of the
    request's META) redacted like a log line. The record's message is already redacted by the
    handler's filter; the report is built later, from the request and the traceback."""

    def send_mail(self, subject: str, message: str, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("html_message"):
            kwargs["html_message"] = redact(kwargs["html_message"])
        super().send_mail(redact(subject), redact(message), *args, **kwargs)


def scrub(value: Any) -> Any:
    """Every string inside `value` (dicts, lists, tuples), redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value


def before_send(event: dict, hint: dict) -> dict:
    """Sentry's last look at an event: no cookies, headers, bodies or environment of the
    request, no query string, and every remaining text redacted."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in _DROPPED_REQUEST_KEYS:
            request.pop(key, None)
        request.pop("query_string", None)
    return scrub(event)


def sentry_init(dsn: str, *, environment: str) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    off = {"mode": "off"}
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        # Unhandled errors of requests, and, like the ADMINS e-mail, every ERROR log record (a
        # failed django-q2 task, an e-mail given up): sentry-sdk 3 sends no log record by default.
        integrations=[DjangoIntegration(), LoggingIntegration(event_level=logging.ERROR)],
        # Collect no user identity, cookies, headers, query strings or bodies, and no frame
        # variables (a frame may hold a decrypted key); what remains goes through before_send.
        data_collection={
            "user_info": False,
            "cookies": off,
            "http_headers": {"request": off},
            "url_query_params": off,
            "http_bodies": [],
            "stack_frame_variables": False,
            "database_query_data": False,
        },
        traces_sample_rate=0,  # errors only
        before_send=before_send,
    )
