"""Shared fixtures: named personas and login helpers.

alice and bob belong to Andes SpA; charlie to Otra Empresa Ltda. (another
client); carla is a consultant, sam is staff. Internal users get a TOTP
authenticator unless a test needs them without one.
"""

import os
import socket
import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal import auth as totp_auth
from allauth.mfa.totp.internal.auth import TOTP
from django.core.cache import cache

from portal.models import ClientCompany, Membership, Role, User

# Engagement fixtures (service, make_engagement, engagement) and others for every test folder.
pytest_plugins = [
    "tests.engagements.fixtures",
    "tests.billing.fixtures",
    "tests.integration.fixtures",
    "tests.fakes.disk",  # disk_fills_on: a storage whose disk fills up
]

# Playwright's sync API runs an event loop in the test thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "Correct-Horse-2026"
TOTP_SECRET = "JBSWY3DPEHPK3PXP"


def totp_code(secret: str = TOTP_SECRET) -> str:
    # The portal accepts a code in its own 30-second window only (no tolerance): a code taken in
    # the window's last moments can reach the server in the next one and be refused. Take it
    # from a window that has time left instead.
    period = mfa_settings.TOTP_PERIOD
    left = period - time.time() % period
    if left < 3:
        time.sleep(left + 0.05)
    counter = next(totp_auth.yield_hotp_counters_from_time())
    return totp_auth.format_hotp_value(totp_auth.hotp_value(secret, counter))


def make_user(email: str, role: str = Role.CLIENT, *, company: ClientCompany | None = None, mfa: bool = True) -> User:
    user = User.objects.create_user(email=email, password=PASSWORD, full_name=email.split("@")[0].title(), role=role)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    if company is not None:
        Membership.objects.create(user=user, company=company)
    if role != Role.CLIENT and mfa:
        TOTP.activate(user, TOTP_SECRET)
    return user


@pytest.fixture(autouse=True)
def _clear_cache(request):
    # Rate-limit counters live in the (database) cache; tests must not inherit them.
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not {"db", "transactional_db"} & set(request.fixturenames):
        return
    transactional = "transactional_db" in request.fixturenames or (marker and marker.kwargs.get("transaction"))
    request.getfixturevalue("transactional_db" if transactional else "db")
    cache.clear()


@pytest.fixture
def andes(db) -> ClientCompany:
    return ClientCompany.objects.create(
        legal_name="Andes SpA", rut="765432103", address="Av. Apoquindo 1", billing_email="pagos@andes.test"
    )


@pytest.fixture
def otra(db) -> ClientCompany:
    return ClientCompany.objects.create(
        legal_name="Otra Empresa Ltda.", rut="771234569", address="Calle 2", billing_email="pagos@otra.test"
    )


@pytest.fixture
def alice(andes) -> User:
    return make_user("alice@andes.test", company=andes)


@pytest.fixture
def bob(andes) -> User:
    return make_user("bob@andes.test", company=andes)


@pytest.fixture
def charlie(otra) -> User:
    return make_user("charlie@otra.test", company=otra)


@pytest.fixture
def carla(db) -> User:
    return make_user("carla@consultora.test", Role.CONSULTANT)


@pytest.fixture
def sam(db) -> User:
    return make_user("sam@consultora.test", Role.STAFF)


def login_with_mfa(client, user: User) -> None:
    """Log in through the real allauth flow, answering the TOTP step if asked."""
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    if response["Location"].startswith("/accounts/2fa/authenticate/"):
        response = client.post("/accounts/2fa/authenticate/", {"code": totp_code()})
        assert response.status_code == 302, response.content[:500]


@pytest.fixture
def unreachable_mail_server(settings):
    """SMTP down: a loopback port nobody listens on (connection refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    return settings


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium"}
