"""How a login attempt ended, read from the page; and, run as a separate process by
test_rate_limit, N attempts printed as words.

Usage: python -m tests.portal.login_attempts EMAIL PASSWORD COUNT
Prints one word per attempt: "ok", "wrong" or "throttled".
"""

import os
import sys


def is_throttled(page: str) -> bool:
    """The login page shows one of the throttling messages (in the portal's Spanish)."""
    from django.utils import translation

    from portal.adapters import THROTTLED_SOURCE, THROTTLED_UNKNOWN_SOURCES

    with translation.override("es"):
        return any(str(message).split("%(")[0] in page for message in (THROTTLED_SOURCE, THROTTLED_UNKNOWN_SOURCES))


def outcome(status_code: int, page: str) -> str:
    if status_code == 302:
        return "ok"
    return "throttled" if is_throttled(page) else "wrong"


def main(email: str, password: str, count: int) -> None:
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    outcomes = []
    for _ in range(count):
        response = Client().post("/accounts/login/", {"login": email, "password": password})
        outcomes.append(outcome(response.status_code, response.content.decode()))
    print(" ".join(outcomes))


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")
    import django

    django.setup()
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
