"""Log output: secrets and token paths redacted in every format, JSON lines on request, a request id per request.

Wired in settings.LOGGING: the filters sit on the handler, so they see every
record that reaches it, whichever logger wrote it. `LOG_FORMAT=json` switches
the console handler to `JsonFormatter`. Stdlib only: this module is loaded
while logging is configured, before the apps are.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

REDACTED = "[redacted]"

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

# Known secret shapes (shop keys, Fernet tokens) and "name: value" pairs whose name says secret.
SECRET_PATTERNS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"\b(?:ck|cs)_[A-Za-z0-9]{16,}"), REDACTED),  # WooCommerce consumer key/secret
    (re.compile(r"\bshp(?:at|ss|ca|pa)_[A-Za-z0-9]{16,}"), REDACTED),  # Shopify tokens
    (re.compile(r"\bgAAAAA[A-Za-z0-9_=-]{20,}"), REDACTED),  # Fernet tokens (our ciphertexts)
    (
        re.compile(r"(authorization['\"]?\s*[:=]\s*['\"]?)(?:(?:basic|bearer|token)\s+)?[^\s'\",;}]+", re.IGNORECASE),
        rf"\1{REDACTED}",
    ),
    (
        re.compile(
            r"([\w-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key)[\w-]*['\"]?\s*[:=]\s*['\"]?)"
            r"[^\s'\"&,;)}\]]+",
            re.IGNORECASE,
        ),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"(://[^/\s:@]+:)[^@\s/]+@"), rf"\1{REDACTED}@"),  # user:password@ in URLs
]


# Paths whose next segment is a secret: the shop webhook token, the invitation token, allauth's
# e-mail confirmation key and password reset key. Anyone who reads a log line with one of them
# could post to the webhook or accept the invitation. Matched anywhere in a text, so that the
# request line of gunicorn's access log, Django's "Not Found: /invitation/..." and a traceback's
# URL are masked alike.
SECRET_PATH = re.compile(
    r"(/integration/webhooks/|/invitation/|/accounts/confirm-email/|/accounts/password/reset/key/)"
    r"(?!done/)[^/\s?#'\"]+"
)


def mask_path(text: str) -> str:
    """`text` with the secret segment of every token URL in it replaced by ***."""
    return SECRET_PATH.sub(r"\1***", text)


def redact(text: str) -> str:
    text = mask_path(text)
    for pattern, replacement in SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Rewrites the record's message, traceback and stack with secrets replaced.

    The message is rendered first (msg % args), so a secret passed as an argument,
    or inside an object's str(), is caught too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class RequestIdFilter(logging.Filter):
    """Puts the current request's id (or None) on every record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class RequestIdMiddleware:
    """One id per request: the proxy's X-Request-ID when it is sane, else a new one;
    echoed in the response so a person can quote it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request_id, and exc when any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
