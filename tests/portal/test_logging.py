"""Logs: a canary secret never reaches the output, in the plain and the JSON format, through the
logging configured by settings; token paths are masked in every record; JSON lines carry the
request id."""

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import HttpResponse

from portal.logging import (
    JsonFormatter,
    RedactSecretsFilter,
    RequestIdFilter,
    RequestIdMiddleware,
    mask_path,
    redact,
)

ROOT = Path(__file__).resolve().parents[2]
CANARY = "Zq7canary9Xv"

LEAKS = [
    f"woo keys ck_{CANARY}1234567890abcdef and cs_{CANARY}1234567890abcdef",
    f"shopify token shpat_{CANARY}00112233445566",
    f"stored value gAAAAAB{CANARY}aaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    f"Authorization: Bearer {CANARY}",
    f"headers={{'Authorization': 'Basic {CANARY}'}}",
    f"login with password={CANARY}",
    f"payload {{'api_key': '{CANARY}', 'login': 'bot'}}",
    f"GET /api?consumer_secret={CANARY}&page=2",
    f"GET /api?authtoken={CANARY}",
    f"connecting to postgres://portal:{CANARY}@db:5432/portal",
]


@pytest.mark.parametrize("text", LEAKS)
def test_it_redacts_every_known_secret_shape(text):
    assert CANARY not in redact(text) and "[redacted]" in redact(text)


def test_it_keeps_ordinary_text():
    text = "run 42 of engagement ENG-7 imported 3 orders (client_order_ref WC-2001)"
    assert redact(text) == text


def _record(msg: str, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("portal.test", logging.WARNING, __file__, 1, msg, args, exc_info)


def test_it_redacts_arguments_and_tracebacks():
    try:
        raise ValueError(f"refused: password={CANARY}")
    except ValueError:
        record = _record("sync failed for %s", {"api_key": CANARY}, exc_info=sys.exc_info())
    RedactSecretsFilter().filter(record)
    RequestIdFilter().filter(record)
    for formatter in (logging.Formatter("%(levelname)s %(message)s"), JsonFormatter()):
        output = formatter.format(record)
        assert CANARY not in output and "ValueError" in output


def _log_through_settings(log_format: str) -> str:
    """A fresh process configured by portal.settings exactly as the server is."""
    code = (
        "import django, logging; django.setup(); "
        f"logging.getLogger('engagements.integration').warning('retry with key %s', 'ck_{CANARY}0123456789ab'); "
        f"logging.getLogger('django.request').error('Authorization: Bearer {CANARY} password={CANARY}')"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings_test", "LOG_FORMAT": log_format}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_the_configured_plain_log_has_no_secret():
    output = _log_through_settings("plain")
    assert "WARNING engagements.integration retry with key [redacted]" in output
    assert CANARY not in output


def test_the_configured_json_log_has_no_secret_and_one_object_per_line():
    lines = _log_through_settings("json").strip().splitlines()
    entries = [json.loads(line) for line in lines]
    assert [entry["logger"] for entry in entries] == ["engagements.integration", "django.request"]
    assert set(entries[0]) == {"time", "level", "logger", "message", "request_id"}
    assert entries[1]["level"] == "ERROR" and entries[0]["request_id"] is None
    assert CANARY not in "\n".join(lines)


def test_json_lines_carry_the_request_id_and_the_response_echoes_it(rf):
    seen = []

    def view(request):
        record = _record("inside the request")
        RequestIdFilter().filter(record)
        seen.append(json.loads(JsonFormatter().format(record)))
        return HttpResponse()

    response = RequestIdMiddleware(view)(rf.get("/", HTTP_X_REQUEST_ID="lb-1234"))
    assert seen[0]["request_id"] == "lb-1234" and response["X-Request-ID"] == "lb-1234"
    response = RequestIdMiddleware(view)(rf.get("/", HTTP_X_REQUEST_ID="<script>"))  # not echoed: a new id
    assert len(seen[1]["request_id"]) == 32 and response["X-Request-ID"] == seen[1]["request_id"]


@pytest.mark.parametrize(
    ("text", "logged"),
    [
        ("Not Found: /integration/webhooks/s3cr3t-T0ken/", "Not Found: /integration/webhooks/***/"),
        ('"GET /invitation/abcDEF123/?x=1 HTTP/1.1" 410', '"GET /invitation/***/?x=1 HTTP/1.1" 410'),
        ("url=http://x.test/accounts/confirm-email/MTk:1v:abc/", "url=http://x.test/accounts/confirm-email/***/"),
        ("/accounts/password/reset/key/done/", "/accounts/password/reset/key/done/"),
    ],
)
def test_token_paths_are_masked_anywhere_in_a_line(text, logged):
    assert mask_path(text) == logged and redact(text) == logged


@pytest.mark.django_db
def test_djangos_request_log_masks_webhook_and_invitation_tokens(client):
    """Django's request logger writes the path of every 4xx/5xx: through the configured handler,
    the token part is masked as in gunicorn's access log (deploy/gunicorn.conf.py uses mask_path)."""
    handler = next(
        h for h in logging.getLogger().handlers if any(isinstance(f, RedactSecretsFilter) for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        assert client.get(f"/invitation/{CANARY}-invite/").status_code == 410
        response = client.post(f"/integration/webhooks/{CANARY}-hook/", b"{}", content_type="application/json")
        assert response.status_code == 404
    finally:
        handler.setStream(previous)
    output = stream.getvalue()
    assert "Gone: /invitation/***/" in output and "Not Found: /integration/webhooks/***/" in output
    assert CANARY not in output
