"""Connections: write-only secrets (canary), the test-connection verdict, scoped pages."""

import os
import subprocess

import pytest
from django.db import connection as db
from django.urls import reverse

from engagements.integration import connections
from engagements.integration.models import Health, OdooConnection
from portal.fields import MASK, Secret
from tests.conftest import login_with_mfa
from tests.fakes.odoo import FakeOdooServer

CANARY = "CANARY-7f3e9a2b-api-key"


def _save(client, engagement, url, key=CANARY):
    return client.post(
        reverse("integration:page", args=[engagement.code]),
        {
            "save_odoo": "1",
            "url": url,
            "database": "lab",
            "login": "admin",
            "api_key": key,
        },
    )


@pytest.mark.django_db(transaction=True)
def test_a_secret_entered_through_the_form_is_absent_from_a_database_dump(client, engagement, carla):
    assert db.vendor == "postgresql"
    login_with_mfa(client, carla)
    _save(client, engagement, "https://cliente.odoo.com")
    stored = OdooConnection.objects.get(engagement=engagement)
    assert stored.api_key.reveal() == CANARY
    settings = db.settings_dict
    dump = subprocess.run(
        [
            "/usr/lib/postgresql/15/bin/pg_dump",
            "-h",
            settings["HOST"],
            "-p",
            str(settings["PORT"]),
            "-U",
            settings["USER"],
            settings["NAME"],
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""},
    ).stdout
    assert "cliente.odoo.com" in dump  # the dump is real and has the row
    assert CANARY not in dump
    page = client.get(reverse("integration:page", args=[engagement.code])).content.decode()
    assert CANARY not in page and MASK in page


@pytest.mark.django_db
def test_the_secret_is_masked_wherever_it_is_printed():
    secret = Secret(CANARY)
    assert CANARY not in f"{secret} {secret!r} {[secret]}" and secret.reveal() == CANARY


@pytest.mark.django_db
def test_a_blank_key_keeps_the_stored_one_while_the_address_stays(client, engagement, carla):
    login_with_mfa(client, carla)
    _save(client, engagement, "https://a.example")
    _save(client, engagement, "https://A.example:443/", key="")  # the same scheme, host and port
    stored = OdooConnection.objects.get(engagement=engagement)
    assert stored.url == "https://A.example:443" and stored.api_key.reveal() == CANARY


@pytest.mark.django_db
class TestConnectionCheck:
    def test_a_working_connection_reports_version_and_rights(self, engagement, carla):
        with FakeOdooServer() as server:
            connection = connections.odoo_connection_save(
                actor=carla, engagement=engagement, url=server.url, database="lab", login="admin", api_key="admin"
            )
            verdict = connections.odoo_connection_check(connection=connection)
        connection.refresh_from_db()
        assert verdict["version"] == "17.0" and all(verdict["rights"].values()) and "problem" not in verdict
        assert connection.health == Health.OK and connection.odoo_major == 17

    def test_a_wrong_key_is_a_clear_failure_without_the_key(self, engagement, carla):
        with FakeOdooServer() as server:
            connection = connections.odoo_connection_save(
                actor=carla, engagement=engagement, url=server.url, database="lab", login="admin", api_key=CANARY
            )
            verdict = connections.odoo_connection_check(connection=connection)
        connection.refresh_from_db()
        assert verdict["problem"] == "odoo_auth" and connection.health == Health.FAILING
        assert CANARY not in str(connection.last_check) and CANARY not in verdict["message"]

    def test_an_unreachable_odoo(self, engagement, carla):
        connection = connections.odoo_connection_save(
            actor=carla, engagement=engagement, url="http://127.0.0.1:9", database="lab", login="a", api_key="b"
        )
        assert connections.odoo_connection_check(connection=connection)["problem"] == "odoo_unreachable"


@pytest.mark.django_db
def test_integration_pages_are_scoped(client, engagement, charlie, alice, db):
    from tests.conftest import make_user

    url = reverse("integration:page", args=[engagement.code])
    client.force_login(alice)
    assert client.get(url).status_code == 403  # clients never see connection settings
    other = make_user("otro@consultora.test", "consultant")
    client.force_login(other)
    assert client.get(url).status_code == 404
    assert client.post(reverse("integration:odoo_check", args=[engagement.code])).status_code == 404


@pytest.mark.django_db
def test_the_consultant_sets_the_flow_options_and_the_import_uses_them(client, engagement, carla, alice):
    from engagements.integration.flows.orders import _options
    from engagements.integration.models import FlowSettings

    client.force_login(carla)
    url = reverse("integration:flow_settings", args=[engagement.code, "orders"])
    assert client.get(url).status_code == 200
    client.post(
        url,
        {
            "enabled": "on",
            "statuses": ["paid", "on_hold"],
            "marker_prefix": "SHOP-",
            "confirm": "on",
            "tax_included_id": "4",
            "shipping_product_id": "12",
        },
    )
    settings = FlowSettings.objects.get(engagement=engagement, flow="orders")
    assert settings.enabled and settings.options["statuses"] == ["paid", "on_hold"]
    FlowSettings.objects.filter(pk=settings.pk).update(options={**settings.options, "reconcile_days": 3})
    fields = {"statuses": ["paid"], "marker_prefix": "SHOP-", "shipping_product_id": "12", "pricelists": "usd=3"}
    client.post(url, fields)  # switched off
    settings.refresh_from_db()
    assert not settings.enabled and settings.options["statuses"] == ["paid"]
    assert settings.options["reconcile_days"] == 3  # what the form does not show is kept
    assert settings.options["pricelists"] == {"USD": 3} and 'value="USD=3"' in client.get(url).content.decode()
    refused = client.post(url, {**fields, "pricelists": "USD=tres"})
    assert refused.context["form"].errors["pricelists"] and 'value="USD=tres"' in refused.content.decode()
    assert _options(engagement)["marker_prefix"] == "SHOP-" and _options(engagement)["shipping_product_id"] == 12
    response = client.post(
        reverse("integration:flow_settings", args=[engagement.code, "stock"]),
        {"location_id": "0", "stock_field": "free_qty", "buffer": "-1"},
    )
    assert response.status_code == 200 and response.context["form"].errors  # bad input keeps the form
    assert not FlowSettings.objects.filter(flow="stock").exists()
    assert client.get(reverse("integration:flow_settings", args=[engagement.code, "customers"])).status_code == 404
    client.force_login(alice)
    assert client.get(url).status_code == 403


@pytest.mark.django_db
def test_the_shop_connection_check(connected, carla, client, django_capture_on_commit_callbacks):
    from engagements.integration.models import ShopConnection

    engagement, _, shop = connected
    client.force_login(carla)
    with django_capture_on_commit_callbacks(execute=True):  # the check is queued after commit
        client.post(reverse("integration:shop_check", args=[engagement.code]))
    connection = ShopConnection.objects.get(engagement=engagement)
    assert connection.health == Health.OK and connection.last_check["version"] == "8.6.1"
    shop.revoked = True
    verdict = connections.shop_connection_check(connection=connection)
    connection.refresh_from_db()
    assert verdict["problem"] == "shop_auth" and connection.health == Health.FAILING
    assert "cs_demo" not in str(connection.last_check)


def test_the_consultant_reads_the_webhook_address_but_never_its_secret(connected, carla, client):
    from engagements.integration.models import ShopConnection

    engagement, _, _ = connected
    connections.shop_connection_save(
        actor=carla,
        engagement=engagement,
        platform="woocommerce",
        base_url="http://127.0.0.1:1",
        api_key="ck_new",
        api_secret="cs_new",
        webhook_secret=CANARY,
    )
    token = ShopConnection.objects.get(engagement=engagement).webhook_token
    client.force_login(carla)
    page = client.get(reverse("integration:page", args=[engagement.code])).content.decode()
    assert f"http://testserver/integration/webhooks/{token}/" in page and CANARY not in page
