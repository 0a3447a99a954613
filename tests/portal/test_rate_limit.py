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
