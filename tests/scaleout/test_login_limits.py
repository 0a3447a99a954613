"""Failed-login limits hold across two gunicorn instances that share Redis as their cache.

Each instance is its own master and worker on its own port, as on two machines behind a balancer;
the failures for one email are split between them and the sixth attempt is refused on either.
"""

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from django.db import connection

from tests.conftest import PASSWORD, make_user
from tests.integration.test_crash import _wait
from tests.portal.login_attempts import outcome
from tests.scaleout.conftest import free_port

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
# A balancer in front passes the public host name to every instance (failures are counted per
# account and source address, whatever the host).
PUBLIC_HOST = "localhost"
GUNICORN = [sys.executable, "-m", "gunicorn", "portal.wsgi", "--workers", "1", "--no-control-socket"]
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _serves(url: str) -> bool:
    try:
        return httpx.get(f"{url}/accounts/login/", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def gunicorns(redis_url: str, log_dir: Path) -> Iterator[list[str]]:
    """Two `gunicorn portal.wsgi` instances on Redis and the test database; their URLs. DEBUG=1 keeps
    cookies usable over plain HTTP whatever production settings require."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings_test",
        "DEBUG": "1",
        "REDIS_URL": redis_url,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "LOG_LEVEL": "WARNING",
    }
    ports = [free_port(), free_port()]
    started = [
        subprocess.Popen(
            [*GUNICORN, "--bind", f"127.0.0.1:{port}", "--error-logfile", str(log_dir / f"gunicorn-{port}.log")],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        assert _wait(lambda: all(_serves(url) for url in urls), 45), [p.read_text() for p in log_dir.iterdir()]
        yield urls
    finally:
        for process in started:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def _log_in(url: str, email: str, password: str) -> str:
    """One attempt as a browser makes it (page, CSRF token, post): "ok", "wrong" or "throttled"."""
    with httpx.Client(base_url=url, headers={"Host": PUBLIC_HOST}, timeout=30) as browser:
        token = TOKEN.search(browser.get("/accounts/login/").text).group(1)
        response = browser.post(
            "/accounts/login/", data={"login": email, "password": password, "csrfmiddlewaretoken": token}
        )
    assert response.status_code in (200, 302), response.text[:500]
    return outcome(response.status_code, response.text)


def test_the_sixth_failed_login_is_refused_on_either_of_two_gunicorns(redis_url, tmp_path):
    assert connection.vendor == "postgresql", "two processes need a shared server database"
    victim, other = make_user("victim@andes.test"), make_user("other@andes.test")
    with gunicorns(redis_url, tmp_path) as (first, second):
        assert _log_in(second, other.email, PASSWORD) == "ok"  # the right password works there
        failures = [_log_in(url, victim.email, "wrong-password") for url in (first, second, first, second, first)]
        assert failures == ["wrong"] * 5
        # The sixth attempt is refused even with the right password, on the instance that saw two
        # failures and on the one that saw three.
        assert [_log_in(url, victim.email, PASSWORD) for url in (second, first)] == ["throttled"] * 2
