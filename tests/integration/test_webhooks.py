"""Shop webhooks: signed deliveries from WooCommerce, Shopify and Jumpseller are stored once and
drained in the background into the orders flow, which re-fetches each order. Signatures are checked against the stored bodies, headers and worked examples in
tests/fakes/data (SHOPS-README.md, "Webhooks" and "Worked signature examples")."""

import base64
import hashlib
import hmac
import json
import os
import signal
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import django_q.conf
import pytest
from django.db import connection as db_connection
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from engagements.integration import runner, tasks, webhooks
from engagements.integration.models import FlowSettings, Health, InboxEvent, ShopConnection, SyncItem, SyncRun
from engagements.models import Engagement
from portal.errors import DomainError
from tests.fakes.jumpseller import FakeJumpseller, FakeJumpsellerServer
from tests.fakes.odoo import FakeOdoo, FakeOdooServer
from tests.fakes.shopify import FakeShopify, FakeShopifyServer
from tests.fakes.woocommerce import FakeShop, FakeShopServer
from tests.integration.fixtures import ORDER_OPTIONS, sale_orders, wire
from tests.integration.test_crash import _cluster

ROOT = Path(__file__).resolve().parents[2]
SHOPS = ROOT / "tests" / "fakes" / "data"
# Shopify deliveries older than two days are refused as stale: the fixture's order is sent as updated an
# hour ago (in UTC, so that its ISO form is what the body carries).
SHOPIFY_RECENT = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)


def _fixture(path: str) -> dict:
    return json.loads((SHOPS / path).read_text())


def _sign(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class Case:
    platform: str
    fixture: str  # a signed delivery in tests/fakes/data
    secret_field: str  # where that file keeps the key it was signed with
    external_id: str
    delivery_key: str  # what the inbox dedupes on ("{sha}" is the body's SHA-256)
    updated_at: datetime
    marker: str  # the sale order's client_order_ref in Odoo

    redate: tuple[str, str] = ("", "")  # (the fixture's signed time, the time it is sent with)

    @property
    def delivery(self) -> dict:
        """The fixture's delivery; a body whose time would make it stale is sent with a recent one,
        signed again with the fixture's key."""
        delivery = _fixture(self.fixture)
        stored, recent = self.redate
        if stored:
            body = delivery["raw_body"].replace(stored, recent)
            assert body != delivery["raw_body"]
            delivery["raw_body"] = body
            delivery["headers"][webhooks.SIGNATURE_HEADERS[self.platform]] = _sign(
                delivery[self.secret_field], body.encode()
            )
        return delivery

    @property
    def secret(self) -> str:
        return self.delivery[self.secret_field]

    @property
    def header(self) -> str:
        return webhooks.SIGNATURE_HEADERS[self.platform]


CASES = {
    "woocommerce": Case(
        "woocommerce",
        "woocommerce/built_webhook_order_created.json",
        "secret",
        "2001",
        "order:2001:2026-03-10T14:05:10",  # (id, date_modified_gmt): its Delivery-ID changes every time
        datetime(2026, 3, 10, 14, 5, 10, tzinfo=UTC),
        "WOO-2001",
    ),
    "shopify": Case(
        "shopify",
        "shopify/built_webhook_orders_create.json",
        "client_secret",
        "6100000000002",
        # The signed body, not X-Shopify-Webhook-Id (unsigned): resource, id, updated_at and the digest.
        "order:6100000000002:" + SHOPIFY_RECENT.isoformat() + ":{sha}",
        SHOPIFY_RECENT,
        "SHOPIFY-1002",
        redate=('"updated_at":"2026-03-10T12:30:10-03:00"', f'"updated_at":"{SHOPIFY_RECENT.isoformat()}"'),
    ),
    "jumpseller": Case(
        "jumpseller",
        "jumpseller/built_webhook_order_paid.json",
        "hooks_token",
        "10501",
        "order_paid:10501:{sha}",  # no delivery id and no modification time: the signed bytes
        datetime(2026, 3, 10, 14, 5, 11, 482000, tzinfo=UTC),  # Jumpseller-Triggered-At
        "JS-10501",
    ),
}
FAKES = {  # platform: (fake shop, its server, the server attribute the connection points at)
    "woocommerce": (FakeShop, FakeShopServer, "url"),
    "shopify": (FakeShopify, FakeShopifyServer, "url"),
    "jumpseller": (FakeJumpseller, FakeJumpsellerServer, "api_url"),
}


@dataclass
class Wired:
    case: Case
    engagement: Engagement
    odoo: FakeOdoo
    shop: object
    token: str

    def set_secret(self, secret: str) -> None:
        connection = ShopConnection.objects.get(engagement=self.engagement)
        connection.webhook_secret = secret
        connection.save(update_fields=["webhook_secret"])


def _wired(case: Case, engagement, carla, odoo: FakeOdoo | None = None):
    """A generator: the engagement wired to a fake Odoo and the case's fake shop, orders flow on,
    the connection's webhook secret being the one the case's fixture was signed with."""
    fake, server, attribute = FAKES[case.platform]
    odoo, shop = odoo or FakeOdoo(), fake()
    with FakeOdooServer(odoo) as odoo_server, server(shop) as shop_server:
        wire(
            engagement,
            carla,
            odoo_url=odoo_server.url,
            shop_url=getattr(shop_server, attribute),
            platform=case.platform,
        )
        FlowSettings.objects.create(engagement=engagement, flow="orders", enabled=True, options=ORDER_OPTIONS)
        token = ShopConnection.objects.get(engagement=engagement).webhook_token
        wired = Wired(case, engagement, odoo, shop, token)
        wired.set_secret(case.secret)
        yield wired


@pytest.fixture(params=sorted(CASES))
def shop(request, engagement, carla):
    yield from _wired(CASES[request.param], engagement, carla)


@pytest.fixture
def woo(engagement, carla):
    yield from _wired(CASES["woocommerce"], engagement, carla)


@pytest.fixture
def jumpseller(engagement, carla):
    yield from _wired(CASES["jumpseller"], engagement, carla)


def _post(client, token: str, body: bytes | str, headers: dict):
    body = body.encode() if isinstance(body, str) else body
    headers = {name: value for name, value in headers.items() if name.lower() != "content-type"}
    url = reverse("integration:webhook", args=[token])
    return client.post(url, data=body, content_type="application/json", headers=headers)


def _deliver(client, wired: Wired, body: bytes | str | None = None, **changed):
    """Post the case's fixture delivery: its raw body and headers unless told otherwise
    (a header set to None is left out)."""
    headers = {**wired.case.delivery["headers"], **changed}
    headers = {name: value for name, value in headers.items() if value is not None}
    return _post(client, wired.token, wired.case.delivery["raw_body"] if body is None else body, headers)


def _signed(client, wired: Wired, body: str, key: str | None = None, **headers):
    """A delivery of `body` with the case's headers, signed with `key` (default: the case's secret)."""
    signature = _sign(wired.case.secret if key is None else key, body.encode())
    return _deliver(client, wired, body, **{wired.case.header: signature, **headers})


pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- signatures, without a database


WORKED_EXAMPLES = [  # the README's table: (platform, stored secret, body, header value)
    (
        "woocommerce",
        "wc_hook_secret_2026",
        '{"id":2001,"status":"processing"}',
        "nXWlSEq44WWmsGuUuEoX+TyqqLSOjBVs3HR2tC/RdQ4=",
    ),
    (
        "woocommerce",
        "k&amp;y&lt;1&gt;",
        '{"id":2001,"status":"processing"}',
        "AlYeWKsFfa5UuZYgy1tLs8SvfDbgBAcqAM0ng0Dx/P0=",
    ),
    (
        "shopify",
        "shpss_test_client_secret_0001",
        '{"id":6100000000002,"name":"#1002"}',
        "Y74QdmAPlztvcdbOuQ73U3fAjnWoB8JQHuuGbtVSW9M=",
    ),
    (
        "jumpseller",
        "js_hooks_token_demo_2026",
        '{"order":{"id":10501,"status":"Paid"}}',
        "x1ppmsMCurG50g2AdDTuMypLCb3AdIhDOTIGnvC+EUw=",
    ),
    (
        "jumpseller",
        "js_hooks_token_demo_2026",
        '{"order":{"id":10501,"status":"Paid"}}',
        "c75a699ac302bab1b9d20d807434ee332a4b09bdc07488433932069ef0be114c",  # the hex form
    ),
]


@pytest.mark.parametrize("platform, secret, body, signature", WORKED_EXAMPLES)
def test_it_accepts_the_readme_worked_examples(platform, secret, body, signature):
    headers = {webhooks.SIGNATURE_HEADERS[platform]: signature}
    webhooks.verify_signature(platform=platform, secret=secret, headers=headers, body=body.encode())
    with pytest.raises(webhooks.Refused) as refused:  # one byte more and it is refused
        webhooks.verify_signature(platform=platform, secret=secret, headers=headers, body=body.encode() + b" ")
    assert refused.value.reason == "signature_mismatch" and refused.value.status == 401


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_it_accepts_the_full_size_fixtures_exactly_as_stored(case):
    delivery = _fixture(case.fixture)
    body = delivery["raw_body"].encode()
    webhooks.verify_signature(platform=case.platform, secret=case.secret, headers=delivery["headers"], body=body)
    assert delivery["headers"][case.header] == _sign(case.secret, body)


def test_the_woocommerce_key_is_the_secret_with_html_entities_decoded():
    special = _fixture("woocommerce/built_webhook_secret_special_chars.json")
    assert webhooks.wp_specialchars_decode(special["secret_as_stored"]) == special["hmac_key_used"]
    body = special["raw_body"].encode()
    webhooks.verify_signature(
        platform="woocommerce", secret=special["secret_as_stored"], headers=special["headers"], body=body
    )
    undecoded = {"X-WC-Webhook-Signature": special["signature_if_key_not_decoded"]}
    with pytest.raises(webhooks.Refused):
        webhooks.verify_signature(
            platform="woocommerce", secret=special["secret_as_stored"], headers=undecoded, body=body
        )


@pytest.mark.parametrize(
    "stored, key",
    [
        ("a&amp;b&lt;c&gt;d&quot;e&#039;f", "a&b<c>d\"e'f"),
        ("plain-secret", "plain-secret"),
        ("k&y<1>\"'", "k&y<1>\"'"),  # pasted already decoded: unchanged
        ("&amp;lt;", "&lt;"),  # one pass, as PHP's strtr
        ("&#0039;&#x0027;&#38;", "''&"),  # zero-padded and hex forms
    ],
)
def test_wp_specialchars_decode_follows_wordpress(stored, key):
    assert webhooks.wp_specialchars_decode(stored) == key


def test_it_never_accepts_an_unsigned_delivery_even_without_a_secret():
    with pytest.raises(webhooks.Refused) as refused:
        webhooks.verify_signature(platform="shopify", secret="", headers={}, body=b"{}")
    assert refused.value.reason == "no_webhook_secret"


# ---------------------------------------------------------------- the intake, per shop


def test_it_stores_a_signed_order_delivery_and_queues_the_drain(client, shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        response = _deliver(client, shop)
    assert response.status_code == 200 and len(queued) == 1
    event = InboxEvent.objects.get()
    raw = shop.case.delivery["raw_body"].encode()
    assert (event.source, event.resource_kind, event.external_id, event.status) == (
        shop.case.platform,
        "order",
        shop.case.external_id,
        InboxEvent.Status.NEW,
    )
    assert event.delivery_key == shop.case.delivery_key.format(sha=hashlib.sha256(raw).hexdigest())
    assert event.external_updated_at == shop.case.updated_at
    # Small, and nothing personal or secret in it: the processor re-fetches the order anyway.
    assert str(event.payload["id"]) == shop.case.external_id and len(json.dumps(event.payload)) < 200
    stored = json.dumps(event.payload)
    assert "@" not in stored and shop.case.secret not in stored
    assert not SyncRun.objects.exists() and not sale_orders(shop.odoo)  # nothing called in the request


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda wired: {wired.case.header: _sign(wired.case.secret, b"another body")}, id="wrong"),
        pytest.param(lambda wired: {wired.case.header: "not-a-signature"}, id="garbage"),
        pytest.param(lambda wired: {wired.case.header: None}, id="missing"),
        pytest.param(lambda wired: {wired.case.header: ""}, id="empty"),
    ],
)
def test_it_refuses_a_bad_or_missing_signature_and_stores_nothing(
    client, shop, spoil, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        response = _deliver(client, shop, **spoil(shop))
    assert response.status_code == 401 and not response.content
    assert not InboxEvent.objects.exists() and not queued


def test_it_refuses_a_delivery_signed_with_another_secret(client, shop):
    shop.set_secret("the-secret-we-were-given-is-another")
    assert _deliver(client, shop).status_code == 401
    assert not InboxEvent.objects.exists()


def test_it_refuses_a_re_serialised_body(client, shop):
    raw = shop.case.delivery["raw_body"]
    reserialised = json.dumps(json.loads(raw))
    assert reserialised != raw and json.loads(reserialised) == json.loads(raw)  # same data, other bytes
    assert _deliver(client, shop, reserialised).status_code == 401
    assert not InboxEvent.objects.exists()


def test_a_connection_without_a_webhook_secret_refuses_everything(client, shop):
    shop.set_secret("")
    assert _deliver(client, shop).status_code == 401
    assert not InboxEvent.objects.exists()


SPECIAL = {  # platform: (the secret as stored, the key the shop signs with)
    "woocommerce": ("k&amp;y&lt;1&gt;&quot;&#039;", "k&y<1>\"'"),  # WooCommerce decodes entities
    "shopify": ("k&y<1>\"'", "k&y<1>\"'"),  # verbatim
    "jumpseller": ("k&y<1>\"'", "k&y<1>\"'"),
}


def test_a_secret_with_html_special_characters(client, shop):
    stored, key = SPECIAL[shop.case.platform]
    shop.set_secret(stored)
    other = "k&amp;y&lt;1&gt;&quot;&#039;" if stored == key else stored  # the key the shop does not use
    assert _signed(client, shop, shop.case.delivery["raw_body"], key=other).status_code == 401
    assert _signed(client, shop, shop.case.delivery["raw_body"], key=key).status_code == 200
    assert InboxEvent.objects.get().external_id == shop.case.external_id


def test_the_woocommerce_special_characters_fixture_is_accepted(client, woo):
    special = _fixture("woocommerce/built_webhook_secret_special_chars.json")
    woo.set_secret(special["secret_as_stored"])
    response = _post(client, woo.token, special["raw_body"], special["headers"])
    assert response.status_code == 200
    event = InboxEvent.objects.get()
    assert (event.topic, event.delivery_key) == ("order.updated", "order:2001:2026-03-10T14:05:10")


def test_the_same_delivery_twice_is_stored_and_processed_once(client, shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as queued:  # the drain runs inline (Q sync)
        first, again = _deliver(client, shop), _deliver(client, shop)
    assert first.status_code == again.status_code == 200 and len(queued) == 1
    with django_capture_on_commit_callbacks(execute=True) as queued:  # and once more after processing
        assert _deliver(client, shop).status_code == 200
    assert not queued
    event = InboxEvent.objects.get()
    assert event.status == InboxEvent.Status.PROCESSED
    assert SyncRun.objects.filter(trigger=SyncRun.Trigger.WEBHOOK).count() == 1
    assert len(sale_orders(shop.odoo, shop.case.marker)) == 1


@pytest.fixture
def shopify(engagement, carla):
    yield from _wired(CASES["shopify"], engagement, carla)


def test_a_captured_shopify_body_sent_again_with_new_ids_is_stored_once_and_run_once(
    client, shopify, django_capture_on_commit_callbacks
):
    """X-Shopify-Webhook-Id and X-Shopify-Topic are not signed: a replay may change them at will."""
    replays = [
        {"X-Shopify-Webhook-Id": "11111111-2222-4333-8444-555555555555"},
        {"X-Shopify-Webhook-Id": "66666666-7777-4888-9999-000000000000", "X-Shopify-Topic": "orders/updated"},
        {"X-Shopify-Webhook-Id": None, "X-Shopify-Triggered-At": datetime.now(UTC).isoformat()},
    ]
    with django_capture_on_commit_callbacks(execute=True) as queued:  # the drain runs inline (Q sync)
        assert _deliver(client, shopify).status_code == 200
        for headers in replays:
            assert _deliver(client, shopify, **headers).status_code == 200  # nothing told to the sender
    assert len(queued) == 1
    assert InboxEvent.objects.get().status == InboxEvent.Status.PROCESSED
    assert SyncRun.objects.filter(trigger=SyncRun.Trigger.WEBHOOK).count() == 1
    assert len(sale_orders(shopify.odoo, shopify.case.marker)) == 1


def _shopify_body(updated: datetime) -> str:
    stored, _recent = CASES["shopify"].redate
    return _fixture(CASES["shopify"].fixture)["raw_body"].replace(stored, f'"updated_at":"{updated.isoformat()}"')


def test_a_stale_shopify_delivery_is_refused(client, shopify, django_capture_on_commit_callbacks):
    """Older than two days, or older than a version of the order the inbox has: not stored, not run."""
    with django_capture_on_commit_callbacks(execute=True) as queued:
        old = _signed(client, shopify, _shopify_body(SHOPIFY_RECENT - timedelta(days=3)))
        newer = _signed(client, shopify, _shopify_body(SHOPIFY_RECENT))
        older = _signed(client, shopify, _shopify_body(SHOPIFY_RECENT - timedelta(minutes=5)))
    assert old.status_code == newer.status_code == older.status_code == 200  # no retries asked for
    assert list(InboxEvent.objects.values_list("external_updated_at", flat=True)) == [SHOPIFY_RECENT]
    assert len(queued) == 1 and SyncRun.objects.filter(trigger=SyncRun.Trigger.WEBHOOK).count() == 1


def test_an_order_webhook_imports_the_order_into_odoo(client, shop):
    assert _deliver(client, shop).status_code == 200
    assert not sale_orders(shop.odoo)
    result = tasks.inbox_drain(shop.engagement.pk)  # what the worker runs
    assert "processed" in result
    [order] = sale_orders(shop.odoo, shop.case.marker)
    run = SyncRun.objects.get()
    assert (run.trigger, run.dry_run, run.counts["listed"]) == (SyncRun.Trigger.WEBHOOK, False, 1)
    assert run.api_usage["shop_calls"] > 0  # re-fetched from the shop: the payload is only a hint
    assert run.items.get(external_id=shop.case.external_id).odoo_id == order["id"]
    assert InboxEvent.objects.get().status == InboxEvent.Status.PROCESSED
    assert not shop.engagement.cursors.exists()  # a webhook run leaves the poll's cursor alone
    assert tasks.inbox_drain(shop.engagement.pk) == "{}"  # nothing left to do


def test_a_refused_delivery_is_logged_with_its_reason_and_without_body_or_secret(client, shop, caplog):
    with caplog.at_level("INFO", logger="engagements.integration.webhooks"):
        _deliver(client, shop, **{shop.case.header: _sign(shop.case.secret, b"x")})
    [record] = [r for r in caplog.records if r.name == "engagements.integration.webhooks"]
    logged = record.getMessage()
    assert "signature_mismatch" in logged and shop.engagement.code in logged
    assert shop.case.secret not in logged and shop.case.external_id not in logged


# ---------------------------------------------------------------- the rest of the intake


def test_the_woocommerce_ping_gets_200_and_stores_nothing(client, woo, django_capture_on_commit_callbacks):
    ping = _fixture("woocommerce/built_webhook_ping.json")
    woo.set_secret("")  # the ping comes when the hook is created, maybe before we store its secret
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(
            reverse("integration:webhook", args=[woo.token]),
            data=ping["raw_body"],
            content_type=ping["headers"]["Content-Type"],
            headers={"User-Agent": ping["headers"]["User-Agent"]},
        )
    assert response.status_code == ping["expected_response_status"] == 200
    assert not InboxEvent.objects.exists() and not queued


def test_an_unknown_token_is_404_and_the_url_takes_only_post(client, woo):
    assert (
        _post(client, "no-such-token", woo.case.delivery["raw_body"], woo.case.delivery["headers"]).status_code == 404
    )
    assert client.get(reverse("integration:webhook", args=[woo.token])).status_code == 405
    assert not InboxEvent.objects.exists()


def test_a_signed_body_that_is_not_json_is_400(client, woo):
    assert _signed(client, woo, "webhook_id=12&x=1").status_code == 400
    assert not InboxEvent.objects.exists()


def test_topics_we_do_not_act_on_are_stored_as_ignored_and_not_queued(client, woo, django_capture_on_commit_callbacks):
    capture = _fixture("woocommerce/real_webhook_product_created_capture.json")  # real headers, unknown secret
    headers = {**capture["headers"], "x-wc-webhook-signature": _sign(woo.case.secret, capture["raw_body"].encode())}
    deleted = '{"id":2001}'
    with django_capture_on_commit_callbacks() as queued:
        assert _post(client, woo.token, capture["raw_body"], headers).status_code == 200
        assert _signed(client, woo, deleted, **{"X-WC-Webhook-Topic": "order.deleted"}).status_code == 200
    assert not queued
    events = {event.topic: event for event in InboxEvent.objects.all()}
    assert set(events) == {"product.created", "order.deleted"}
    assert {event.status for event in events.values()} == {InboxEvent.Status.IGNORED}
    assert events["product.created"].resource_kind == "product" and events["product.created"].external_id == "74"
    assert events["order.deleted"].delivery_key.startswith("delivery:")  # no date: its Delivery-ID


# ---------------------------------------------------------------- the drain


def test_an_older_payload_after_a_newer_one_is_ignored(client, woo):
    assert _deliver(client, woo).status_code == 200  # the order as of 14:05:10
    tasks.inbox_drain(woo.engagement.pk)
    older = '{"id":2001,"status":"pending","date_modified_gmt":"2026-03-10T14:00:00"}'
    assert _signed(client, woo, older, **{"X-WC-Webhook-Topic": "order.updated"}).status_code == 200
    tasks.inbox_drain(woo.engagement.pk)
    statuses = dict(InboxEvent.objects.values_list("external_updated_at__minute", "status"))
    assert statuses == {5: InboxEvent.Status.PROCESSED, 0: InboxEvent.Status.IGNORED}
    assert SyncRun.objects.count() == 1  # the older one cost no run and no shop call
    newer = '{"id":2001,"status":"processing","date_modified_gmt":"2026-03-10T14:20:00"}'
    assert _signed(client, woo, newer).status_code == 200
    tasks.inbox_drain(woo.engagement.pk)  # a newer one is looked at (the shop says: unchanged)
    assert InboxEvent.objects.filter(status=InboxEvent.Status.PROCESSED).count() == 2
    assert SyncRun.objects.count() == 2 and len(sale_orders(woo.odoo, "WOO-2001")) == 1


def test_while_a_run_of_the_orders_flow_goes_on_the_events_wait(client, woo):
    running = SyncRun.objects.create(engagement=woo.engagement, flow="orders")  # a poll, say
    assert _deliver(client, woo).status_code == 200
    counts = webhooks.inbox_drain(engagement=woo.engagement)
    assert counts == {"deferred": 1}
    assert InboxEvent.objects.get().status == InboxEvent.Status.NEW and not sale_orders(woo.odoo)
    retry = Schedule.objects.get(name=webhooks.drain_schedule_name(woo.engagement))
    assert (retry.func, retry.schedule_type, retry.args) == (webhooks.TASK, Schedule.ONCE, f"{woo.engagement.pk},")
    webhooks.inbox_drain(engagement=woo.engagement)  # still running: one retry, not two
    assert Schedule.objects.filter(name=retry.name).count() == 1
    SyncRun.objects.filter(pk=running.pk).update(status=SyncRun.Status.SUCCEEDED)
    assert webhooks.inbox_drain(engagement=woo.engagement) == {"processed": 1}
    assert len(sale_orders(woo.odoo, "WOO-2001")) == 1


def test_a_paused_flow_leaves_the_events_new(client, woo):
    ShopConnection.objects.filter(engagement=woo.engagement).update(health=Health.FAILING)
    assert _deliver(client, woo).status_code == 200
    assert webhooks.inbox_drain(engagement=woo.engagement) == {"deferred": 1}
    assert InboxEvent.objects.get().status == InboxEvent.Status.NEW and not SyncRun.objects.exists()


def test_events_left_waiting_are_drained_by_the_retry_schedule(client, woo):
    ShopConnection.objects.filter(engagement=woo.engagement).update(health=Health.FAILING)
    assert _deliver(client, woo).status_code == 200
    assert webhooks.inbox_drain(engagement=woo.engagement) == {"deferred": 1}
    ShopConnection.objects.filter(engagement=woo.engagement).update(health=Health.OK)  # a passing test
    assert "{}" in tasks.retry_due()  # not stale yet: left for the drain already queued
    InboxEvent.objects.update(received_at=timezone.now() - timedelta(minutes=2))
    assert "'processed': 1" in tasks.retry_due()
    assert InboxEvent.objects.get().status == InboxEvent.Status.PROCESSED
    assert len(sale_orders(woo.odoo, "WOO-2001")) == 1


def test_an_order_the_shop_does_not_have_ends_failed(client, jumpseller):
    assert _signed(client, jumpseller, '{"order":{"id":999,"status":"Paid"}}').status_code == 200
    assert webhooks.inbox_drain(engagement=jumpseller.engagement) == {"failed": 1}
    assert InboxEvent.objects.get().status == InboxEvent.Status.FAILED
    assert SyncRun.objects.get().items.get().reason_code == "jumpseller_not_found"


# ---------------------------------------------------------------- concurrency and a real worker


@pytest.mark.django_db(transaction=True)
def test_the_same_order_by_webhook_and_by_poll_at_once_makes_one_sale_order(client, engagement, carla, monkeypatch):
    """Whichever starts first, the other waits or finds the order done."""
    assert db_connection.vendor == "postgresql"
    monkeypatch.setattr(django_q.conf.Conf, "SYNC", False)  # keep the queued drain for the threads below
    wired_gen = _wired(CASES["woocommerce"], engagement, carla, odoo=FakeOdoo(latency=0.03))
    woo = next(wired_gen)
    try:
        queued_before = OrmQ.objects.count()
        assert _deliver(client, woo).status_code == 200
        assert OrmQ.objects.count() == queued_before + 1  # the drain was queued, not run
        start, outcomes = threading.Barrier(2), {}

        def race(name, work):
            start.wait()
            try:
                outcomes[name] = work()
            except DomainError as refused:
                outcomes[name] = refused
            finally:
                db_connection.close()

        threads = [
            threading.Thread(target=race, args=("poll", lambda: runner.run_flow(engagement=engagement, flow="orders"))),
            threading.Thread(target=race, args=("webhook", lambda: webhooks.inbox_drain(engagement=engagement))),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert set(outcomes) == {"poll", "webhook"}, outcomes
        webhooks.inbox_drain(engagement=engagement)  # what the retry schedule does if the webhook had to wait
    finally:
        wired_gen.close()
    assert len(sale_orders(woo.odoo, "WOO-2001")) == 1
    assert SyncItem.objects.filter(external_id="2001", outcome="created").count() == 1
    assert InboxEvent.objects.get().status == InboxEvent.Status.PROCESSED


@pytest.mark.django_db(transaction=True)
def test_a_real_django_q2_cluster_imports_the_order_of_a_webhook(client, engagement, carla, monkeypatch):
    assert db_connection.vendor == "postgresql"
    monkeypatch.setattr(django_q.conf.Conf, "SYNC", False)  # enqueue for the real cluster
    wired_gen = _wired(CASES["shopify"], engagement, carla)
    shopify = next(wired_gen)
    try:
        queued_before = OrmQ.objects.count()
        assert _deliver(client, shopify).status_code == 200
        assert _deliver(client, shopify).status_code == 200  # a Shopify retry: same Webhook-Id
        assert OrmQ.objects.count() == queued_before + 1
        worker = _cluster()
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and InboxEvent.objects.get().status == InboxEvent.Status.NEW:
                time.sleep(0.2)
        finally:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
    finally:
        wired_gen.close()
    assert InboxEvent.objects.get().status == InboxEvent.Status.PROCESSED
    assert len(sale_orders(shopify.odoo, shopify.case.marker)) == 1
    assert SyncRun.objects.get().trigger == SyncRun.Trigger.WEBHOOK
