"""The shop connection check makes sure our order webhooks exist and are active in each shop
(WooCommerce disables a hook after 5 failed deliveries, Shopify deletes a failing subscription), re-creating or re-activating them, and says so in its verdict."""

import json
import logging
from urllib.parse import urlsplit

import pytest
from django.urls import resolve
from django.utils import translation

from engagements.integration import connections
from engagements.integration.models import Health, ShopConnection
from tests.fakes.jumpseller import FakeJumpseller, FakeJumpsellerServer
from tests.fakes.shopify import MUTATIONS, FakeShopify, FakeShopifyServer
from tests.fakes.woocommerce import FakeShop, FakeShopServer
from tests.integration.fixtures import wire

pytestmark = pytest.mark.django_db

SITE = "https://portal.example.cl"
SECRET = "whsec-Ü&<very>-distinctive-2026"  # WooCommerce's; Shopify's app secret; Jumpseller's hooks token
FAKES = {
    "woocommerce": (FakeShop, FakeShopServer, "url"),
    "shopify": (FakeShopify, FakeShopifyServer, "url"),
    "jumpseller": (FakeJumpseller, FakeJumpsellerServer, "api_url"),
}
TOPICS = {
    "woocommerce": ["order.created", "order.updated"],
    "shopify": ["ORDERS_CREATE", "ORDERS_UPDATED"],
    "jumpseller": ["order_paid", "order_updated", "order_canceled"],
}
DROPPED = {"woocommerce": "order.updated", "shopify": "ORDERS_UPDATED", "jumpseller": "order_updated"}


@pytest.fixture
def shop(request, engagement, carla, settings):
    """(platform, engagement, fake shop, its server's URL), the connection saved without a webhook secret."""
    settings.SITE_URL = SITE
    platform = request.param
    fake_class, server_class, attribute = FAKES[platform]
    fake = fake_class()
    with server_class(fake) as server:
        url = getattr(server, attribute)
        wire(engagement, carla, odoo_url="http://127.0.0.1:9", shop_url=url, platform=platform)
        yield platform, engagement, fake, url


def _with_secret(shop, carla) -> None:
    platform, engagement, _fake, url = shop
    connections.shop_connection_save(
        actor=carla, engagement=engagement, platform=platform, base_url=url, webhook_secret=SECRET
    )


def _check(engagement) -> dict:
    with translation.override("en"):  # the sentences asserted on are the source strings
        return connections.shop_connection_check(connection=ShopConnection.objects.get(engagement=engagement))


def _our_url(engagement) -> str:
    return f"{SITE}/integration/webhooks/{ShopConnection.objects.get(engagement=engagement).webhook_token}/"


def _hooks(platform: str, fake) -> list[tuple[str, str, str]]:
    """(topic, address, status) of every hook the fake shop holds, sorted."""
    if platform == "woocommerce":
        rows = [(h["topic"], h["delivery_url"], h["status"]) for h in fake.webhooks.values()]
    elif platform == "shopify":
        rows = [(s["topic"], s["uri"], "active") for s in fake.subscriptions.values()]
    else:
        rows = [(h["event"], h["url"], "active") for h in fake.hooks.values()]
    return sorted(rows)


def _writes(platform: str, fake) -> list:
    if platform == "shopify":
        return [r["root"] for r in fake.requests if r["root"] in MUTATIONS]
    return [(method, path) for method, path in fake.requests if method != "GET"]


def _webhook_requests(platform: str, fake) -> list:
    if platform == "shopify":
        return [r["root"] for r in fake.requests if r["root"].startswith("webhookSubscription")]
    return [(method, path) for method, path in fake.requests if "/webhooks" in path or "/hooks" in path]


def _drop(platform: str, fake) -> None:
    """What the shop does after failed deliveries: WooCommerce disables the hook, the others delete it."""
    topic = DROPPED[platform]
    if platform == "woocommerce":
        next(h for h in fake.webhooks.values() if h["topic"] == topic)["status"] = "disabled"
    elif platform == "shopify":
        del fake.subscriptions[next(k for k, s in fake.subscriptions.items() if s["topic"] == topic)]
    else:
        del fake.hooks[next(k for k, h in fake.hooks.items() if h["event"] == topic)]


ALL = pytest.mark.parametrize("shop", list(FAKES), indirect=True)


@ALL
def test_the_first_check_registers_the_order_webhooks_and_the_second_changes_nothing(shop, carla):
    platform, engagement, fake, _url = shop
    _with_secret(shop, carla)
    verdict = _check(engagement)
    topics, url = TOPICS[platform], _our_url(engagement)
    assert "problem" not in verdict and "webhooks_problem" not in verdict, verdict
    assert verdict["webhooks"] == {"created": topics, "reactivated": [], "updated": [], "ok": []}
    assert verdict["message"].endswith(f"Webhooks: {len(topics)} created, 0 reactivated, 0 in place.")
    assert _hooks(platform, fake) == sorted((topic, url, "active") for topic in topics)
    assert resolve(urlsplit(url).path).view_name == "integration:webhook"  # the intake takes them
    if platform == "woocommerce":  # the key WooCommerce signs with is the connection's secret
        assert {h["secret"] for h in fake.webhooks.values()} == {SECRET}
    assert ShopConnection.objects.get(engagement=engagement).health == Health.OK

    writes = len(_writes(platform, fake))
    again = _check(engagement)
    assert len(_writes(platform, fake)) == writes  # nothing sent to the shop but reads
    assert again["webhooks"] == {"created": [], "reactivated": [], "updated": [], "ok": topics}
    assert again["message"].endswith(f"Webhooks: 0 created, 0 reactivated, {len(topics)} in place.")
    assert len(_hooks(platform, fake)) == len(topics)


@ALL
def test_a_disabled_or_deleted_webhook_is_registered_again(shop, carla):
    platform, engagement, fake, _url = shop
    _with_secret(shop, carla)
    _check(engagement)
    _drop(platform, fake)
    writes = len(_writes(platform, fake))
    verdict = _check(engagement)
    topics, dropped, url = TOPICS[platform], DROPPED[platform], _our_url(engagement)
    others = [t for t in topics if t != dropped]
    if platform == "woocommerce":  # set active again, with the secret, not created twice
        assert verdict["webhooks"] == {"created": [], "reactivated": [dropped], "updated": [], "ok": others}
        assert "1 reactivated" in verdict["message"]
        assert [m for m, _p in fake.requests[-1:]] == ["PUT"]
        assert {h["secret"] for h in fake.webhooks.values()} == {SECRET}
    else:
        assert verdict["webhooks"] == {"created": [dropped], "reactivated": [], "updated": [], "ok": others}
        assert "Webhooks: 1 created" in verdict["message"]
    assert len(_writes(platform, fake)) == writes + 1
    assert _hooks(platform, fake) == sorted((topic, url, "active") for topic in topics)


@ALL
def test_a_new_secret_reaches_the_hooks_that_sign_with_it(shop, carla):
    platform, engagement, fake, url = shop
    _with_secret(shop, carla)
    _check(engagement)
    connections.shop_connection_save(
        actor=carla, engagement=engagement, platform=platform, base_url=url, webhook_secret="whsec-rotated-2027"
    )
    writes = len(_writes(platform, fake))
    verdict = _check(engagement)
    topics = TOPICS[platform]
    if platform == "woocommerce":  # each hook keeps the secret it was given: all are sent the new one
        assert verdict["webhooks"] == {"created": [], "reactivated": [], "updated": topics, "ok": []}
        assert verdict["message"].endswith(f"0 in place. {len(topics)} given the new secret.")
        assert {h["secret"] for h in fake.webhooks.values()} == {"whsec-rotated-2027"}
        assert len(_writes(platform, fake)) == writes + len(topics)
    else:  # Shopify and Jumpseller sign with a secret of their own: nothing to send
        assert verdict["webhooks"] == {"created": [], "reactivated": [], "updated": [], "ok": topics}
        assert len(_writes(platform, fake)) == writes
    again = _check(engagement)
    assert again["webhooks"]["ok"] == topics and not again["webhooks"]["updated"]  # once only
    assert "whsec-rotated-2027" not in json.dumps(again)


@ALL
def test_without_a_webhook_secret_registration_is_skipped(shop):
    platform, engagement, fake, _url = shop
    verdict = _check(engagement)
    assert verdict["webhooks"] == {"skipped": "no_secret"} and "webhooks_problem" not in verdict
    assert verdict["message"].endswith("Webhooks not configured (no secret).")
    assert verdict["reachable"] and ShopConnection.objects.get(engagement=engagement).health == Health.OK
    assert not _webhook_requests(platform, fake) and not _hooks(platform, fake)


@ALL
def test_the_secret_is_neither_in_the_verdict_nor_in_the_logs(shop, carla, caplog):
    platform, engagement, fake, _url = shop
    _with_secret(shop, carla)
    caplog.set_level(logging.DEBUG)
    verdicts = [_check(engagement)]
    _drop(platform, fake)
    verdicts.append(_check(engagement))
    stored = ShopConnection.objects.get(engagement=engagement).last_check
    assert verdicts[-1]["webhooks"]["ok"] and stored == json.loads(json.dumps(verdicts[-1]))
    assert caplog.records  # httpx logs every request: the check did log
    for text in (*map(json.dumps, verdicts), json.dumps(stored), caplog.text):
        assert SECRET not in text


@pytest.mark.parametrize(
    ("shop", "code"),
    [("woocommerce", "shop_webhooks_forbidden"), ("shopify", "shopify_webhook_refused")],
    indirect=["shop"],
)
def test_a_refused_registration_is_told_and_leaves_the_connection_healthy(shop, code, carla, caplog, settings):
    platform, engagement, fake, _url = shop
    _with_secret(shop, carla)
    if platform == "woocommerce":
        fake.read_only = True  # a key with read permission only
    else:
        settings.SITE_URL = "http://portal.example.cl"  # Shopify takes https:// addresses only
    caplog.set_level(logging.DEBUG)
    verdict = _check(engagement)
    assert verdict["webhooks_problem"] == code and "problem" not in verdict and "webhooks" not in verdict
    assert f"The webhooks could not be registered ({code}); orders are still polled." in verdict["message"]
    assert verdict["message"].startswith("Connected to the shop")
    connection = ShopConnection.objects.get(engagement=engagement)
    assert connection.health == Health.OK and connection.last_check["webhooks_problem"] == code
    assert not _hooks(platform, fake)
    assert f"webhooks not registered: engagement {engagement.code}, {code}" in caplog.text
    assert SECRET not in caplog.text and SECRET not in json.dumps(verdict)


@pytest.mark.parametrize("shop", ["shopify"], indirect=True)
def test_a_missing_scope_on_shopify_is_a_webhook_problem_not_a_failing_connection(shop, carla):
    _platform, engagement, fake, _url = shop
    _with_secret(shop, carla)
    fake.scopes.discard("read_orders")
    verdict = _check(engagement)
    assert verdict["webhooks_problem"] == "shop_webhooks_forbidden" and "problem" not in verdict
    assert ShopConnection.objects.get(engagement=engagement).health == Health.OK
