"""Production configuration: deploy checks, security headers, CSP-clean templates,
and the real gunicorn + WhiteNoise stack serving collected static files."""

import os
import re
import runpy
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
TEMPLATES = BASE_DIR / "templates"
# Rendered by WeasyPrint into PDFs, never served to a browser (no CSP there).
NOT_SERVED = ("billing/pdf/",)
HOST = "portal.example.cl"


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The documented production environment (deploy/portal.env.example), no test overrides."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "0",
        "SECRET_KEY": "k7Qp-" + "x9Vb2Lm4Zt8Rw1Yc6Nd3Hf5Jg0Ks7Pa" * 2,
        "FERNET_KEYS": "dGVzdC1vbmx5LWZlcm5ldC1rZXktZm9yLXB5dGVzdDA=",
        "ALLOWED_HOSTS": HOST,
        "CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
        "SITE_URL": f"https://{HOST}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'never-opened.sqlite3'}",
        "VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "TRUSTED_PROXY_COUNT": "1",
        **extra,
    }


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300
    )


# ---------------------------------------------------------------- settings


def test_it_passes_the_deploy_check_with_no_warning(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr.upper()


def test_development_keeps_plain_http(tmp_path):
    env = {**production_env(tmp_path), "DEBUG": "1"}
    code = "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["False", "False", "0"], result.stderr


def _directives(header: str) -> dict[str, list[str]]:
    parts = (item.strip().split() for item in header.split(";") if item.strip())
    return {name: values for name, *values in parts}


def test_pages_carry_a_strict_content_security_policy(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    csp = _directives(response["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    for directive in ("default-src", "script-src", "style-src"):
        assert not {"'unsafe-inline'", "'unsafe-eval'"} & set(csp[directive])
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def _served_templates():
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        if not name.startswith(NOT_SERVED):
            yield name, path.read_text(encoding="utf-8")


SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
TAG = re.compile(r"<[a-zA-Z][^<>]*>")
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
DJANGO_COMMENT = re.compile(r"{#.*?#}|{% comment %}.*?{% endcomment %}", re.DOTALL)


def inline_code(name: str, text: str) -> list[str]:
    """What in this template the CSP would block: inline scripts, on...= handlers,
    javascript: URLs, style attributes and <style> elements."""
    text = DJANGO_COMMENT.sub("", text)
    found = [
        f"{name}: inline <script{attributes}>"
        for attributes, body in SCRIPT.findall(text)
        if body.strip() or "src=" not in attributes
    ]
    for tag in TAG.findall(text):
        if HANDLER.search(tag) or "javascript:" in tag.lower() or re.search(r"\sstyle\s*=", tag):
            found.append(f"{name}: {tag[:80]}")
    if re.search(r"<style\b", text, re.IGNORECASE):
        found.append(f"{name}: <style> element")
    return found


def test_no_template_has_inline_scripts_handlers_or_styles():
    assert [offense for name, text in _served_templates() for offense in inline_code(name, text)] == []


@pytest.mark.parametrize(
    "sample",
    [
        "<script>alert(1)</script>",
        "<script>\n</script>",
        '<button type="button" onclick="go()">',
        '<div class="x" style="color:red">',
        '<a href="javascript:go()">',
        "<style>p { color: red }</style>",
    ],
)
def test_the_template_check_catches_what_the_csp_would_block(sample):
    assert inline_code("sample.html", sample)


def test_the_template_check_allows_script_files_and_ignores_comments():
    sample = '<script src="/static/js/x.js" defer></script><p data-on="1">on=</p>{# no <style> here #}'
    assert inline_code("ok.html", sample) == []


# ---------------------------------------------------------------- gunicorn access log

GUNICORN_CONF = runpy.run_path(str(BASE_DIR / "deploy" / "gunicorn.conf.py"))


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/integration/webhooks/s3cr3t-T0ken/", "/integration/webhooks/***/"),
        ("/invitation/abcDEF123/", "/invitation/***/"),
        ("/accounts/confirm-email/MTk:1v:abc/", "/accounts/confirm-email/***/"),
        ("/accounts/password/reset/key/4-set-password/", "/accounts/password/reset/key/***/"),
        ("/accounts/password/reset/key/done/", "/accounts/password/reset/key/done/"),
        ("/portal/e/ENG-1/", "/portal/e/ENG-1/"),
    ],
)
def test_the_access_log_masks_tokens_in_paths(path, logged):
    assert GUNICORN_CONF["mask_path"](path) == logged


def test_gunicorn_errors_show_a_masked_uri_without_query_string():
    assert GUNICORN_CONF["mask_uri"]("/invitation/abc/?next=/x&t=s3cret") == "/invitation/***/"
    assert GUNICORN_CONF["mask_uri"](42) == 42


# ---------------------------------------------------------------- the real stack

# htmx 4 and the extensions that no template uses: collecting them with brotli
# only slows the test down; production collects everything.
UNUSED_STATIC = ["htmx-4*", "htmax-4*", "ext"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("gunicorn did not start")


@pytest.fixture(scope="module")
def production_server(tmp_path_factory):
    """collectstatic with DEBUG=0, then gunicorn with deploy/gunicorn.conf.py."""
    tmp_path = tmp_path_factory.mktemp("production")
    port = _free_port()
    access_log = tmp_path / "access.log"
    env = production_env(
        tmp_path, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="1", GUNICORN_ACCESS_LOG=str(access_log)
    )
    ignored = [arg for pattern in UNUSED_STATIC for arg in ("-i", pattern)]
    collected = manage(env, "collectstatic", "--no-input", "-v0", *ignored)
    assert collected.returncode == 0, collected.stderr
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(
        [gunicorn, "-c", "deploy/gunicorn.conf.py", "portal.wsgi"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(port, process)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Host": HOST}, timeout=20) as http:
            yield http, access_log
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


HTTPS = {"X-Forwarded-Proto": "https"}


def test_production_redirects_plain_http_to_https(production_server):
    http, _ = production_server
    response = http.get("/accounts/login/?next=/portal/")
    assert response.status_code == 301
    assert response.headers["Location"] == f"https://{HOST}/accounts/login/?next=/portal/"


def test_production_pages_have_hsts_csp_and_secure_cookies(production_server):
    http, _ = production_server
    response = http.get("/accounts/login/", headers=HTTPS)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert _directives(response.headers["Content-Security-Policy"])["script-src"] == ["'self'"]
    cookie = response.headers["Set-Cookie"]
    assert "csrftoken=" in cookie and "Secure" in cookie
    assert re.search(r'href="/static/css/portal\.[0-9a-f]{12}\.css"', response.text)
    assert re.search(r'src="/static/vendor/bootstrap/js/bootstrap\.bundle\.min\.[0-9a-f]{12}\.js"', response.text)


def test_production_language_cookie_is_secure_http_only_and_same_site_lax(production_server):
    http, _ = production_server
    page = http.get("/accounts/login/", headers=HTTPS)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = http.post(
        "/i18n/setlang/",
        data={"language": "en", "next": "/accounts/login/", "csrfmiddlewaretoken": token},
        # The Secure csrftoken cookie is sent by hand: this client speaks http to gunicorn, as nginx does.
        headers={**HTTPS, "Origin": f"https://{HOST}", "Cookie": f"csrftoken={page.cookies['csrftoken']}"},
    )
    assert response.status_code == 302, response.text[:300]
    cookie = next(c for c in response.headers.get_list("Set-Cookie") if c.startswith("django_language=en"))
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= {part.strip() for part in cookie.split(";")}


def test_whitenoise_serves_hashed_compressed_static_files(production_server):
    http, _ = production_server
    page = http.get("/accounts/login/", headers=HTTPS).text
    css = re.search(r'href="(/static/vendor/bootstrap/css/bootstrap\.min\.[0-9a-f]{12}\.css)"', page).group(1)
    response = http.get(css, headers={**HTTPS, "Accept-Encoding": "br"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "br"
    assert "immutable" in response.headers["Cache-Control"]


def test_the_access_log_shows_no_token_and_no_query_string(production_server):
    http, access_log = production_server
    http.post("/integration/webhooks/Tok3n-s3cret/?signature=Qu3ry-s3cret", content=b"{}")
    deadline = time.monotonic() + 5
    while "/integration/webhooks/" not in access_log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = access_log.read_text()
    assert '"POST /integration/webhooks/***/ HTTP/1.1" 301' in log
    assert "Tok3n-s3cret" not in log
    assert "Qu3ry-s3cret" not in log
