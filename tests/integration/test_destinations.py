"""Keys bound to their destination: a stored key goes only to the scheme, host, port and database (or
shop platform) it was saved for, and only after that address answered an unauthenticated probe as Odoo
or the shop; plain http and local addresses only where INTEGRATION_ALLOW_LOCAL says (tests, DEBUG);
every save and check is in the audit trail. A capture server on loopback stands for the other host."""

import json
import socket

import pytest
from django.urls import reverse

from engagements.integration import connections, destinations
from engagements.integration.models import Health, OdooConnection, ShopConnection
from portal.audit import Code
from portal.models import AuditEvent
from tests.conftest import login_with_mfa
from tests.fakes.capture import CaptureServer
from tests.fakes.odoo import FakeOdooServer

pytestmark = pytest.mark.django_db

KEY = "CANARY-odoo-key-4d1c"
SHOP_KEY, SHOP_SECRET = "ck_CANARY_9e2f", "cs_CANARY_71aa"
KEYS_AGAIN_ES = "ingréselas de nuevo"  # the Spanish page's error next to the key fields


def _odoo_post(client, engagement, **fields):
    data = {"save_odoo": "1", "url": "https://cliente.example", "database": "lab", "login": "admin", "api_key": ""}
    return client.post(reverse("integration:page", args=[engagement.code]), {**data, **fields})


def _shop_post(client, engagement, **fields):
    data = {"save_shop": "1", "platform": "woocommerce", "base_url": "https://tienda.example"}
    data |= {"api_key": "", "api_secret": "", "webhook_secret": ""}
    return client.post(reverse("integration:page", args=[engagement.code]), {**data, **fields})


def _check(client, engagement, kind: str, capture_on_commit) -> None:
    with capture_on_commit(execute=True):  # queued after commit; the test settings run tasks inline
        client.post(reverse(f"integration:{kind}_check", args=[engagement.code]))


def _save_odoo(engagement, actor, url: str, key: str = KEY, database: str = "lab") -> OdooConnection:
    return connections.odoo_connection_save(
        actor=actor, engagement=engagement, url=url, database=database, login="admin", api_key=key
    )


def _save_shop(engagement, actor, url: str, platform: str = "woocommerce") -> ShopConnection:
    return connections.shop_connection_save(
        actor=actor, engagement=engagement, platform=platform, base_url=url, api_key=SHOP_KEY, api_secret=SHOP_SECRET
    )


# ---------------------------------------------------------------- a save that moves the connection


@pytest.mark.parametrize(
    "moved",
    [
        pytest.param({"url": "https://otro.example"}, id="host"),
        pytest.param({"url": "https://cliente.example:8443"}, id="port"),
        pytest.param({"database": "produccion"}, id="database"),
    ],
)
def test_moving_the_odoo_connection_asks_for_the_key_again_and_keeps_what_was_typed(client, engagement, carla, moved):
    login_with_mfa(client, carla)
    assert _odoo_post(client, engagement, api_key=KEY).status_code == 302
    response = _odoo_post(client, engagement, login="ventas", **moved)
    assert response.status_code == 200
    page = response.content.decode()
    field, error = page.index('id="odoo_api_key"'), page.index(KEYS_AGAIN_ES)
    assert field < error < page.index('name="save_odoo"')  # the error is next to the key field
    for value in (*moved.values(), "ventas"):  # nothing typed is lost
        assert f'value="{value}"' in page
    stored = OdooConnection.objects.get(engagement=engagement)
    assert (stored.url, stored.database, stored.login) == ("https://cliente.example", "lab", "admin")
    assert stored.api_key.reveal() == KEY  # the refused save changed nothing


def test_moving_from_http_to_https_is_a_move_too(engagement, carla):
    _save_odoo(engagement, carla, "http://127.0.0.1:8069")
    with pytest.raises(connections.SecretsRequired) as refused:
        _save_odoo(engagement, carla, "https://127.0.0.1:8069", key="")
    assert refused.value.fields == ["api_key"]
    assert OdooConnection.objects.get(engagement=engagement).url == "http://127.0.0.1:8069"


def test_a_new_key_for_the_new_address_replaces_the_old_one_and_its_verdict(engagement, carla):
    connection = _save_odoo(engagement, carla, "https://cliente.example")
    OdooConnection.objects.filter(pk=connection.pk).update(
        health=Health.OK, last_check={"version": "17.0", "message": "Conectado"}, odoo_major=17
    )
    _save_odoo(engagement, carla, "https://otro.example", key="otra-clave")
    connection.refresh_from_db()
    assert connection.api_key.reveal() == "otra-clave" and connection.health == Health.UNKNOWN
    assert connection.last_check == {} and connection.odoo_major is None


def test_moving_the_shop_asks_for_its_key_and_secret_again_next_to_each(client, engagement, carla):
    login_with_mfa(client, carla)
    connections.shop_connection_save(
        actor=carla,
        engagement=engagement,
        platform="woocommerce",
        base_url="https://tienda.example",
        api_key=SHOP_KEY,
        api_secret=SHOP_SECRET,
        webhook_secret="whsec-CANARY",
    )
    response = _shop_post(client, engagement, base_url="https://tienda-nueva.example")
    form = response.context["shop_form"]
    assert set(form.errors) == {"api_key", "api_secret"}
    assert all(KEYS_AGAIN_ES in str(error) for error in form.errors.values())
    assert 'value="https://tienda-nueva.example"' in response.content.decode()
    # Another platform at the same address is a move as well; a new key alone is enough for Shopify.
    connections.shop_connection_save(
        actor=carla, engagement=engagement, platform="shopify", base_url="https://tienda.example", api_key="shpat_x"
    )
    stored = ShopConnection.objects.get(engagement=engagement)
    assert stored.api_key.reveal() == "shpat_x" and not stored.api_secret and not stored.webhook_secret


# ---------------------------------------------------------------- a capture server must receive no key


def test_the_stored_odoo_key_never_reaches_a_new_address(client, engagement, carla, django_capture_on_commit_callbacks):
    """The audit's path: a new URL, the key field left blank, then "Test connection"."""
    login_with_mfa(client, carla)
    with FakeOdooServer() as odoo, CaptureServer() as capture:
        assert _odoo_post(client, engagement, url=odoo.url, api_key=KEY).status_code == 302
        assert _odoo_post(client, engagement, url=capture.url).status_code == 200  # refused: no key typed
        _check(client, engagement, "odoo", django_capture_on_commit_callbacks)
    assert capture.requests == [] and not capture.saw(KEY)
    assert OdooConnection.objects.get(engagement=engagement).url == odoo.url


def test_the_stored_shop_keys_never_reach_a_new_address(client, engagement, carla, django_capture_on_commit_callbacks):
    login_with_mfa(client, carla)
    with CaptureServer() as capture:
        _save_shop(engagement, carla, "https://tienda.example")
        assert _shop_post(client, engagement, base_url=capture.url).status_code == 200  # refused: no keys typed
        with pytest.raises(connections.SecretsRequired):
            connections.shop_connection_save(
                actor=carla, engagement=engagement, platform="woocommerce", base_url=capture.url
            )
        _check(client, engagement, "shop", django_capture_on_commit_callbacks)
    assert not capture.saw(SHOP_KEY) and not capture.saw(SHOP_SECRET)


def test_an_address_that_does_not_answer_as_odoo_gets_no_key(engagement, carla):
    """The key typed for this address is still not sent: neither /web/version nor version_info answered
    as Odoo (a web page came back), so the login never happened."""
    with CaptureServer() as capture:
        verdict = connections.odoo_connection_check(connection=_save_odoo(engagement, carla, capture.url))
    assert [(r.method, r.path) for r in capture.requests] == [
        ("GET", "/web/version"),
        ("POST", "/web/webclient/version_info"),
    ]
    assert not capture.saw(KEY) and verdict["problem"]


def _odoo19(method: str, path: str) -> tuple[int, str, bytes]:
    """An Odoo 19 that answers /web/version and refuses every JSON-2 call (a wrong key)."""
    if path == "/web/version":
        return 200, "application/json", json.dumps({"version": "19.0", "version_info": [19, 0, 0]}).encode()
    error = {"name": "werkzeug.exceptions.Unauthorized", "message": "Invalid apikey"}
    return 401, "application/json", json.dumps(error).encode()


def test_the_odoo_key_never_goes_with_the_unauthenticated_get_web_version(engagement, carla):
    with CaptureServer(_odoo19) as odoo:
        verdict = connections.odoo_connection_check(connection=_save_odoo(engagement, carla, odoo.url))
    probe, *signed_in = odoo.requests
    assert (probe.method, probe.path) == ("GET", "/web/version") and KEY not in probe.text()
    assert "Authorization" not in probe.headers and "X-Odoo-Database" not in probe.headers
    assert signed_in and all(r.path.startswith("/json/2/") for r in signed_in)  # the saved address, after it
    assert verdict["problem"] == "odoo_auth"


SHOPS = {  # platform: the address the connection is saved with, on the capture server
    "woocommerce": "",
    "shopify": "",
    "jumpseller": "/v1",
}


@pytest.mark.parametrize("platform", sorted(SHOPS))
def test_an_address_that_does_not_answer_as_the_shop_gets_no_key(engagement, carla, platform):
    with CaptureServer() as capture:
        connection = _save_shop(engagement, carla, capture.url + SHOPS[platform], platform=platform)
        verdict = connections.shop_connection_check(connection=connection)
    assert len(capture.requests) == 1  # the probe, without keys
    assert not capture.saw(SHOP_KEY) and not capture.saw(SHOP_SECRET)
    assert verdict["problem"] == "shop_not_recognised" and ShopConnection.objects.get().health == Health.FAILING


# ---------------------------------------------------------------- http and local addresses


@pytest.mark.parametrize(
    "url, problem",
    [
        ("http://127.0.0.1:8069", destinations.LOCAL_ADDRESS),
        ("https://localhost", destinations.LOCAL_ADDRESS),
        ("https://10.1.2.3", destinations.LOCAL_ADDRESS),
        ("https://169.254.169.254", destinations.LOCAL_ADDRESS),  # a cloud's metadata service
        ("https://[::1]:8443", destinations.LOCAL_ADDRESS),
        ("http://odoo.cliente.cl", destinations.HTTPS_REQUIRED),
        ("https://odoo.cliente.cl", None),
    ],
)
def test_outside_tests_and_debug_keys_go_over_https_to_public_addresses_only(settings, url, problem):
    settings.INTEGRATION_ALLOW_LOCAL = False
    assert destinations.address_problem(url) == problem


def test_the_forms_refuse_a_local_or_plain_http_address_next_to_the_field(client, engagement, carla, settings):
    settings.INTEGRATION_ALLOW_LOCAL = False
    login_with_mfa(client, carla)
    odoo = _odoo_post(client, engagement, url="http://127.0.0.1:8069", api_key=KEY).context["odoo_form"]
    shop = _shop_post(client, engagement, base_url="http://tienda.example", api_key="k", api_secret="s")
    assert list(odoo.errors) == ["url"] and list(shop.context["shop_form"].errors) == ["base_url"]
    assert not OdooConnection.objects.exists() and not ShopConnection.objects.exists()


def test_a_connection_saved_at_a_local_address_is_not_contacted_outside_tests(engagement, carla, settings):
    with CaptureServer() as capture:
        odoo, shop = _save_odoo(engagement, carla, capture.url), _save_shop(engagement, carla, capture.url)
        settings.INTEGRATION_ALLOW_LOCAL = False  # e.g. a production database restored with demo data
        odoo_verdict = connections.odoo_connection_check(connection=odoo)
        shop_verdict = connections.shop_connection_check(connection=shop)
    assert capture.requests == []
    assert (odoo_verdict["problem"], shop_verdict["problem"]) == ("odoo_local_address", "shop_local_address")


# ---------------------------------------------------------------- the audit trail


def test_every_save_and_check_is_an_audit_event_without_secrets(
    client, engagement, carla, django_capture_on_commit_callbacks
):
    login_with_mfa(client, carla)
    with FakeOdooServer() as odoo:
        _odoo_post(client, engagement, url=odoo.url, api_key=KEY)
        _check(client, engagement, "odoo", django_capture_on_commit_callbacks)
    saved, requested, checked = AuditEvent.objects.filter(code__startswith="integration.").order_by("id")
    assert [saved.code, requested.code, checked.code] == [
        Code.CONNECTION_SAVED,
        Code.CONNECTION_CHECK_REQUESTED,
        Code.CONNECTION_CHECKED,
    ]
    assert {e.actor for e in (saved, requested, checked)} == {carla} and saved.ip_address == "127.0.0.1"
    assert saved.data["typed"] == ["api_key"] and saved.data["host"] == "127.0.0.1"
    assert checked.data["problem"] == "odoo_auth"  # the fake Odoo's key is "admin"
    assert KEY not in json.dumps([e.data for e in (saved, requested, checked)])


# ---------------------------------------------------------------- a public-looking name that points inside


@pytest.fixture
def resolver(monkeypatch):
    """The machine's resolver, answering `names` with the given addresses (the DNS is outside the
    portal: this stands for a name whose records point where the portal must not go)."""
    names: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in names:
            family = socket.AF_INET6 if ":" in names[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (names[host], port or 0))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


@pytest.mark.parametrize(
    "address, problem",
    [
        ("127.0.0.1", destinations.LOCAL_ADDRESS),
        ("169.254.169.254", destinations.LOCAL_ADDRESS),
        ("10.20.30.40", destinations.LOCAL_ADDRESS),
        ("::1", destinations.LOCAL_ADDRESS),
        ("200.68.5.10", None),
    ],
)
def test_before_connecting_a_name_is_judged_by_what_it_resolves_to(settings, resolver, address, problem):
    settings.INTEGRATION_ALLOW_LOCAL = False
    resolver["odoo.cliente.cl"] = address
    assert destinations.address_problem("https://odoo.cliente.cl", resolve=True) == problem
    assert destinations.address_problem("https://odoo.cliente.cl") is None  # the form judges what was typed


def test_a_name_pointing_at_this_machine_gets_no_key(settings, resolver, engagement, carla):
    """The form accepts the public-looking name; the check refuses it before any connection."""
    settings.INTEGRATION_ALLOW_LOCAL = False
    with CaptureServer() as capture:
        resolver["odoo.cliente.cl"] = "127.0.0.1"
        port = capture.url.rsplit(":", 1)[1]
        connection = _save_odoo(engagement, carla, f"https://odoo.cliente.cl:{port}")
        verdict = connections.odoo_connection_check(connection=connection)
    assert capture.requests == [] and not capture.saw(KEY)
    assert verdict["problem"] and "local_address" in json.dumps(verdict)
