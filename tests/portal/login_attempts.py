"""Run in a separate process by test_rate_limit: log in N times, print outcomes.

Usage: python -m tests.portal.login_attempts EMAIL PASSWORD COUNT
Prints one word per attempt: "ok", "wrong" or "throttled".
"""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")

import django

django.setup()

from allauth.account.adapter import get_adapter  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def main(email: str, password: str, count: int) -> None:
    setup_test_environment()
    throttled = str(get_adapter().error_messages["too_many_login_attempts"])
    outcomes = []
    for _ in range(count):
        client = Client()
        response = client.post("/accounts/login/", {"login": email, "password": password})
        if response.status_code == 302:
            outcomes.append("ok")
        elif throttled in response.content.decode():
            outcomes.append("throttled")
        else:
            outcomes.append("wrong")
    print(" ".join(outcomes))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
