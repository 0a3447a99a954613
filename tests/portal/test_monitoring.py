"""Error reports an operator gets: ADMINS e-mailed on a 500 and on a failed background task,
Sentry only when SENTRY_DSN is set (a fake ingest server on loopback receives the event), and in
both no secret and no token path."""

import gzip
import os
import signal
import subprocess
import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import brotli
import django_q.conf
import pytest
from django.core import mail
from django_q.tasks import async_task

from tests.fakes.loopback import LoopbackServer
from tests.fakes.smtp import FakeSMTPServer
from tests.integration.test_crash import _cluster, _wait
from tests.portal.boom_urls import CANARY

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "Inv1t4ti0n-T0ken"


@pytest.fixture
def admins(settings):
    settings.ADMINS = [("Operaciones", "ops@consultora.test")]
    return settings


@pytest.mark.django_db
def test_a_500_is_mailed_to_admins_without_secrets_or_tokens(client, admins):
    admins.ROOT_URLCONF = "tests.portal.boom_urls"
    client.raise_request_exception = False
    response = client.get(f"/invitation/{TOKEN}/boom/?next=/x")
    assert response.status_code == 500
    report = mail.outbox[-1]
    assert report.to == ["ops@consultora.test"] and "Internal Server Error: /invitation/***/boom/" in report.subject
    text = report.subject + report.body + "".join(str(alt[0]) for alt in getattr(report, "alternatives", []))
    assert "ValueError" in report.body  # the traceback is there...
    assert CANARY not in text and TOKEN not in text  # ...without the secret or the link's token


@pytest.mark.django_db(transaction=True)
def test_a_failed_background_task_is_mailed_to_admins(monkeypatch):
    """A real cluster runs a task that fails; its report reaches ADMINS over SMTP (a fake server)."""
    monkeypatch.setattr(django_q.conf.Conf, "SYNC", False)  # enqueue for the real cluster
    async_task("builtins.int", f"password={CANARY}")  # int("password=...") raises ValueError
    with FakeSMTPServer() as smtp:
        cluster = _cluster(ADMINS="Operaciones <ops@consultora.test>", TEST_SMTP_PORT=str(smtp.port))
        try:
            assert _wait(lambda: smtp.messages, 60), "no report arrived"
        finally:
            os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait(10)
        recipients, report = smtp.messages[0]
    text = report["Subject"] + report.get_content()
    assert recipients == ["ops@consultora.test"] and "Failed 'builtins.int'" in text
    assert "ValueError" in text or "invalid literal" in text
    assert CANARY not in text and "[redacted]" in text


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings_test", **env}
    if "SENTRY_DSN" not in env:
        environment.pop("SENTRY_DSN", None)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True)


def test_without_sentry_dsn_sentry_sdk_is_never_imported():
    done = _python(
        "import django, sys; django.setup(); import portal.urls, portal.monitoring; print('sentry_sdk' in sys.modules)"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


class _Ingest(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding", "")
        body = brotli.decompress(body) if encoding == "br" else gzip.decompress(body) if encoding == "gzip" else body
        _Ingest.received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_with_sentry_dsn_an_error_reaches_sentry_redacted():
    _Ingest.received.clear()
    code = f"""
import django, logging, sentry_sdk
django.setup()
try:
    raise ValueError("sync refused: consumer_secret={CANARY} for /invitation/{TOKEN}/ key ck_{CANARY}0123456789")
except ValueError:
    logging.getLogger("engagements.integration").exception("run failed: Authorization: Bearer {CANARY}")
sentry_sdk.flush(5)
"""
    with LoopbackServer(_Ingest) as ingest:
        done = _python(code, SENTRY_DSN=f"http://publickey@127.0.0.1:{ingest.port}/1")
    assert done.returncode == 0, done.stderr
    sent = b"".join(_Ingest.received).decode(errors="replace")
    assert "sync refused" in sent and "run failed" in sent  # the event and its message arrived...
    assert CANARY not in sent and TOKEN not in sent  # ...with every secret shape redacted
    assert "/invitation/***/" in sent and "[redacted]" in sent
