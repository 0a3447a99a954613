"""Failed logins are limited through the shared cache, across processes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import PASSWORD, make_user

ROOT = Path(__file__).resolve().parents[2]


def _attempts(email: str, password: str, count: int) -> list[str]:
    """Log in from a separate Python process on the same database and cache."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "portal.settings_test"}
    result = subprocess.run(
        [sys.executable, "-m", "tests.portal.login_attempts", email, password, str(count)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.split()


@pytest.mark.django_db(transaction=True)
def test_the_sixth_failed_login_is_refused_across_two_processes():
    assert settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache")
    assert connection.vendor == "postgresql", "two processes need a shared server database"
    user = make_user("victim@andes.test")
    assert _attempts(user.email, "wrong-1", 3) == ["wrong"] * 3
    # A second process sees the first one's failures: two more fill the limit of five...
    assert _attempts(user.email, "wrong-2", 2) == ["wrong"] * 2
    # ...and the sixth attempt is refused, even with the right password.
    assert _attempts(user.email, PASSWORD, 1) == ["throttled"]


@pytest.mark.django_db
def test_changing_the_host_port_does_not_reset_the_count(client):
    """The limit is per account: a Host header with another port is not another "site"."""
    from allauth.account.adapter import get_adapter

    user = make_user("victim2@andes.test")
    throttled = str(get_adapter().error_messages["too_many_login_attempts"])
    for port in range(1000, 1005):
        response = client.post(
            "/accounts/login/", {"login": user.email, "password": "wrong"}, HTTP_HOST=f"testserver:{port}"
        )
        assert response.status_code == 200 and throttled not in response.content.decode()
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}, HTTP_HOST="testserver:1005")
    assert throttled in response.content.decode()
