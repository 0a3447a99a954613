"""Shop webhooks: one unguessable URL per engagement and shop; verified, stored once, drained later.

A webhook is a hint, never the truth. The request only
checks the HMAC over the raw body, stores a small `InboxEvent` once per delivery key and queues
`tasks.inbox_drain`; the drain names the orders to the orders flow, which re-fetches each one
from the shop. No shop or Odoo call happens in the request: the shop gets its answer in
milliseconds (Shopify allows 5 s; WooCommerce disables a hook after 5 failures in a row).

Signatures (tests/fakes/data/SHOPS-README.md, "Webhooks" and the worked examples), keyed with
`ShopConnection.webhook_secret`; a connection without one refuses every delivery:
- WooCommerce `X-WC-Webhook-Signature` = base64(HMAC-SHA256(body, wp_specialchars_decode(secret)));
- Shopify `X-Shopify-Hmac-Sha256` = base64(HMAC-SHA256(body, the app's client secret));
- Jumpseller `Jumpseller-Hmac-Sha256` = base64(HMAC-SHA256(body, the store's hooks token)).

Delivery keys (unique per engagement and source, so a re-delivery is stored once):
- Shopify: `<resource>:<id>:<updated_at>:<sha256 of the body>`. Its `X-Shopify-Webhook-Id` (the same
  on retries) is not covered by the signature, so a captured body re-sent with new ids would pass
  as new deliveries. A body older than SHOPIFY_MAX_AGE, or than a version of the same record the
  inbox has, is stale: not stored, not run.
- WooCommerce: `<resource>:<id>:<date_modified_gmt>`. Its Delivery-ID is
  `wp_hash(id . time())`, new on every delivery, so one saved version sent twice (order.created
  and order.updated for one save, or a hook re-sent by hand) would pass as two. Bodies without
  `date_modified_gmt` (`order.deleted` sends `{"id": N}`; `action.*`) use the Delivery-ID:
  WooCommerce has no retry queue, so each such delivery is one event.
- Jumpseller: `<event>:<id>:<sha256 of the body>`. It sends no delivery id, and an order body
  has no modification time (created_at and completed_at do not move on a status change), so
  neither an id nor a date tells a retry from a change. A retry re-sends the signed bytes and
  gets the same key; a real change changes the body and so the key. Jumpseller-Triggered-At is
  left out of the key (nothing says a retry keeps it) and serves as the event's time instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from engagements.integration import runner
from engagements.integration.errors import FlowPaused, RunInProgress
from engagements.integration.models import Flow, InboxEvent, ShopConnection, SyncRun
from engagements.models import Engagement

logger = logging.getLogger(__name__)

TASK = "engagements.integration.tasks.inbox_drain"
SIGNATURE_HEADERS = {
    "woocommerce": "X-WC-Webhook-Signature",
    "shopify": "X-Shopify-Hmac-Sha256",
    "jumpseller": "Jumpseller-Hmac-Sha256",
}
WOO_PING = re.compile(rb"webhook_id=\d+")
# What the inbox keeps of a body: enough to read the event in the admin, no personal data.
KEPT_FIELDS = ("id", "number", "name", "status", "status_enum", "financial_status", "date_modified_gmt", "updated_at")
MAX_PASSES = 5  # a drain takes what arrived during its run too, but stays short (django-q2 timeout)
RETRY_AFTER = timedelta(minutes=1)
SHOPIFY_MAX_AGE = timedelta(days=2)

New, Processed, Ignored, Failed = (
    InboxEvent.Status.NEW.value,
    InboxEvent.Status.PROCESSED.value,
    InboxEvent.Status.IGNORED.value,
    InboxEvent.Status.FAILED.value,
)


class Refused(Exception):
    """A delivery we do not take: `reason` goes to the log (never the body), `status` to the shop."""

    def __init__(self, reason: str, status: int = 401):
        super().__init__(reason)
        self.reason, self.status = reason, status


@dataclass(frozen=True)
class Delivery:
    topic: str
    resource_kind: str
    external_id: str
    external_updated_at: datetime | None
    delivery_key: str
    payload: dict


# ---------------------------------------------------------------- signatures

# WordPress `wp_specialchars_decode($text, ENT_QUOTES)`: zero-padded numeric entities are
# normalised first, then one pass of replacements (so "&amp;lt;" gives "&lt;", not "<").
_WP_PADDED = [
    (re.compile(r"&#0*39;"), "&#039;"),
    (re.compile(r"&#x0*27;", re.IGNORECASE), "&#x27;"),
    (re.compile(r"&#0*34;"), "&#034;"),
    (re.compile(r"&#x0*22;", re.IGNORECASE), "&#x22;"),
    (re.compile(r"&#0*60;"), "&#060;"),
    (re.compile(r"&#0*62;"), "&#062;"),
    (re.compile(r"&#0*38;"), "&#038;"),
    (re.compile(r"&#x0*26;", re.IGNORECASE), "&#x26;"),
]
_WP_ENTITIES = {
    "&#039;": "'",
    "&#x27;": "'",
    "&quot;": '"',
    "&#034;": '"',
    "&#x22;": '"',
    "&lt;": "<",
    "&#060;": "<",
    "&gt;": ">",
    "&#062;": ">",
    "&amp;": "&",
    "&#038;": "&",
    "&#x26;": "&",
}
_WP_ENTITY = re.compile("|".join(re.escape(entity) for entity in _WP_ENTITIES))


def wp_specialchars_decode(text: str) -> str:
    """The key WooCommerce signs with: its stored secret with `&amp; &lt; &gt; &quot; &#039;` decoded."""
    if "&" not in text:
        return text
    for pattern, replacement in _WP_PADDED:
        text = pattern.sub(replacement, text)
    return _WP_ENTITY.sub(lambda match: _WP_ENTITIES[match.group(0)], text)


def verify_signature(*, platform: str, secret: str, headers: Mapping[str, str], body: bytes) -> None:
    """Raise Refused unless the platform's signature header is the HMAC of these exact bytes."""
    header = SIGNATURE_HEADERS.get(platform)
    if header is None:
        raise Refused("platform_unsupported")
    if not secret:
        raise Refused("no_webhook_secret")  # never accept an unsigned delivery
    given = (headers.get(header) or "").strip()
    if not given:
        raise Refused("signature_missing")
    key = wp_specialchars_decode(secret) if platform == "woocommerce" else secret
    digest = hmac.new(key.encode(), body, hashlib.sha256).digest()
    if hmac.compare_digest(given.encode(), base64.b64encode(digest)):
        return
    # Jumpseller documents base64; some integrations compare a hex digest. Both spell the same
    # 256-bit HMAC, so taking either is no weaker.
    if platform == "jumpseller" and hmac.compare_digest(given.lower().encode(), digest.hex().encode()):
        return
    raise Refused("signature_mismatch")


# ---------------------------------------------------------------- parsing


def _moment(text) -> datetime | None:
    """Woo `…_gmt` (naive UTC), Shopify ISO with an offset, Jumpseller "2026-03-10 14:05:11.482 UTC"."""
    if not isinstance(text, str) or not text.strip():
        return None
    text = text.strip().removesuffix(" UTC")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _kept(resource: dict) -> dict:
    return {
        key: resource[key]
        for key in KEPT_FIELDS
        if key in resource and isinstance(resource[key], str | int | float | bool | type(None))
    }


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _woocommerce(headers: Mapping[str, str], body: bytes, data: dict) -> Delivery:
    topic = headers.get("X-WC-Webhook-Topic") or ""
    kind = headers.get("X-WC-Webhook-Resource") or topic.partition(".")[0]
    external_id, modified = str(data.get("id") or ""), data.get("date_modified_gmt")
    if external_id and modified:
        key = f"{kind}:{external_id}:{modified}"
    else:
        key = "delivery:" + (headers.get("X-WC-Webhook-Delivery-ID") or _digest(body))
    return Delivery(topic, kind, external_id, _moment(modified), key, _kept(data))


def _shopify(headers: Mapping[str, str], body: bytes, data: dict) -> Delivery:
    topic = headers.get("X-Shopify-Topic") or ""
    kind = topic.partition("/")[0].removesuffix("s")  # "orders/create" → order
    external_id, updated = str(data.get("id") or ""), data.get("updated_at")
    # Only the body is signed: X-Shopify-Webhook-Id and X-Shopify-Topic are not. The key is the body's
    # digest (the resource, id and updated_at are there for people reading the inbox), so one captured
    # body sent again with new ids, or under another order topic, is the same delivery.
    key = f"{kind}:{external_id}:{updated or ''}:{_digest(body)}"
    return Delivery(topic, kind, external_id, _moment(updated), key, _kept(data))


def _jumpseller(headers: Mapping[str, str], body: bytes, data: dict) -> Delivery:
    topic = headers.get("Jumpseller-Event") or ""
    kind = topic.partition("_")[0]  # "order_paid" → order, "product_stock_updated" → product
    nested = data.get(kind)
    resource: dict[str, Any] = nested if isinstance(nested, dict) else data  # {"order": {…}}
    external_id = str(resource.get("id") or "")
    key = f"{topic}:{external_id}:{_digest(body)}"
    return Delivery(topic, kind, external_id, _moment(headers.get("Jumpseller-Triggered-At")), key, _kept(resource))


PARSERS = {"woocommerce": _woocommerce, "shopify": _shopify, "jumpseller": _jumpseller}


def parse_delivery(platform: str, headers: Mapping[str, str], body: bytes) -> Delivery:
    """Only after the signature passed: a signed body is the shop's, so parsing it is safe."""
    try:
        data = json.loads(body)
    except ValueError as exc:  # UnicodeDecodeError is a ValueError
        raise Refused("not_json", status=400) from exc
    if not isinstance(data, dict):
        raise Refused("not_json", status=400)
    return PARSERS[platform](headers, body, data)


def acted_on(topic: str, resource_kind: str, external_id: str) -> bool:
    """Orders only, for now: product, customer, stock and other topics are stored as IGNORED (the
    catalogue and customer flows are not built yet; the stock flow reads Odoo, not the shop). A
    deleted shop order never deletes an Odoo sale order: the team decides, so it is IGNORED too."""
    deleted = topic.endswith((".deleted", "/delete", "_deleted"))
    return resource_kind == "order" and bool(external_id) and not deleted


# ---------------------------------------------------------------- intake


def webhook_receive(*, connection: ShopConnection, headers: Mapping[str, str], body: bytes) -> str:
    """Take one delivery: "ping", "stored", "ignored" (stored, nothing to do), "duplicate" or "stale"
    (Shopify: not stored; answered 200 all the same, so the shop does not send it again).
    Raises Refused, logged with its reason (never the body). Calls neither the shop nor Odoo."""
    platform, code = connection.platform, connection.engagement.code
    if platform == "woocommerce" and _is_woo_ping(headers, body):
        logger.info("webhook ping accepted: engagement %s, woocommerce", code)
        return "ping"
    secret = connection.webhook_secret.reveal() if connection.webhook_secret else ""
    try:
        verify_signature(platform=platform, secret=secret, headers=headers, body=body)
        delivery = parse_delivery(platform, headers, body)
    except Refused as refused:
        logger.warning("webhook refused: engagement %s, %s, reason %s", code, platform, refused.reason)
        raise
    if platform == "shopify" and _stale(connection, delivery):
        logger.warning("webhook stale, not taken: engagement %s, shopify %s", code, delivery.external_id)
        return "stale"
    event = _store(connection, delivery)
    if event is None:
        return "duplicate"
    if event.status == Ignored:
        return "ignored"
    engagement_id = connection.engagement_id
    transaction.on_commit(lambda: async_task(TASK, engagement_id))
    return "stored"


def _stale(connection: ShopConnection, delivery: Delivery) -> bool:
    """A Shopify body older than SHOPIFY_MAX_AGE (Shopify's retries end within hours), or older than a
    version of the same record already in the inbox: a replay, or news we have. Its signed `updated_at`
    is the only time an attacker cannot change."""
    updated = delivery.external_updated_at
    if updated is None or not delivery.external_id:
        return False
    if updated < timezone.now() - SHOPIFY_MAX_AGE:
        return True
    newer = InboxEvent.objects.filter(
        engagement_id=connection.engagement_id,
        source=connection.platform,
        resource_kind=delivery.resource_kind,
        external_id=delivery.external_id,
        external_updated_at__gt=updated,
    )
    return newer.exists()


def _is_woo_ping(headers: Mapping[str, str], body: bytes) -> bool:
    """Sent once when a hook is created: form-encoded `webhook_id=N`, unsigned, and it must get a 200."""
    return not headers.get(SIGNATURE_HEADERS["woocommerce"]) and WOO_PING.fullmatch(body.strip()) is not None


def _store(connection: ShopConnection, delivery: Delivery) -> InboxEvent | None:
    """The event, or None when its delivery key is already in the inbox (the database decides)."""
    status = New if acted_on(delivery.topic, delivery.resource_kind, delivery.external_id) else Ignored
    try:
        with transaction.atomic():
            return InboxEvent.objects.create(
                engagement_id=connection.engagement_id,
                source=connection.platform,
                topic=delivery.topic[:64],
                delivery_key=delivery.delivery_key[:200],
                resource_kind=delivery.resource_kind[:30],
                external_id=delivery.external_id[:100],
                external_updated_at=delivery.external_updated_at,
                payload=delivery.payload,
                status=status,
            )
    except IntegrityError:
        return None


# ---------------------------------------------------------------- draining


def inbox_drain(*, engagement: Engagement) -> Counter:
    """Process every NEW event of the engagement: the task after each stored webhook calls it, and
    so can a schedule or the reconciliation job. Safe to run twice or at once with itself: the
    orders flow runs one at a time and re-fetches every order it is given. Never a dry run:
    a webhook is about real orders, and a dry run would leave nothing to mark as processed."""
    counts: Counter = Counter()
    for _ in range(MAX_PASSES):  # events stored while a run went on are taken by the next pass
        events = list(InboxEvent.objects.filter(engagement=engagement, status=New).order_by("id"))
        if not events:
            break
        orders = _triage(engagement, events, counts)
        if orders and not _run_orders(engagement, orders, counts):
            break
    return counts


def drain_stale() -> Counter:
    """Events still NEW a while after they arrived (their flow was paused or busy): drained from the
    retry schedule, so a webhook never waits for the next one to be looked at."""
    stale = InboxEvent.objects.filter(status=New, received_at__lt=timezone.now() - RETRY_AFTER)
    counts: Counter = Counter()
    for engagement in Engagement.objects.filter(pk__in=stale.values("engagement_id")):
        counts.update(inbox_drain(engagement=engagement))
    return counts


def _triage(engagement: Engagement, events: list[InboxEvent], counts: Counter) -> list[InboxEvent]:
    """IGNORED: topics we do not act on, and payloads older than a version already processed for the
    same order (webhooks come out of order). The rest is returned, to be run."""
    latest = dict(
        ((row["source"], row["external_id"]), row["latest"])
        for row in InboxEvent.objects.filter(
            engagement=engagement,
            status=Processed,
            resource_kind="order",
            external_id__in={event.external_id for event in events},
            external_updated_at__isnull=False,
        )
        .values("source", "external_id")
        .annotate(latest=Max("external_updated_at"))
    )
    ignored: list[InboxEvent] = []
    orders: list[InboxEvent] = []
    for event in events:
        seen = latest.get((event.source, event.external_id))
        older = bool(seen and event.external_updated_at and event.external_updated_at < seen)
        acted = acted_on(event.topic, event.resource_kind, event.external_id)
        (orders if acted and not older else ignored).append(event)
    _mark([event.pk for event in ignored], Ignored, counts)
    return orders


def _run_orders(engagement: Engagement, events: list[InboxEvent], counts: Counter) -> bool:
    """One webhook run of the orders flow for the named orders; False when it could not start."""
    try:
        run = runner.run_flow(
            engagement=engagement,
            flow=Flow.ORDERS,
            trigger=SyncRun.Trigger.WEBHOOK,
            external_ids=[event.external_id for event in events],
        )
    except RunInProgress:  # a poll or another drain: drained again once it is over
        counts["deferred"] += len(events)  # they stay NEW
        _drain_later(engagement)
        return False
    except FlowPaused:  # the retry schedule drains them once a connection check passes
        counts["deferred"] += len(events)
        return False
    # Marked only now, after the run. An order that failed leaves its event FAILED: the run report
    # says why, and the flow's own retries and the next poll take it from there (a webhook run
    # leaves the cursor alone).
    troubled = set(run.items.filter(outcome__in=("failed", "ambiguous")).values_list("external_id", flat=True))
    failed = {event.pk for event in events if run.status == SyncRun.Status.FAILED or event.external_id in troubled}
    _mark(sorted(failed), Failed, counts)
    _mark([event.pk for event in events if event.pk not in failed], Processed, counts)
    return True


def _mark(pks: list[int], status: str, counts: Counter) -> None:
    if pks:  # only NEW ones: a concurrent drain may have settled some already
        counts[status] += InboxEvent.objects.filter(pk__in=pks, status=New).update(status=status)


def drain_schedule_name(engagement: Engagement) -> str:
    # Not under "integration.<code>.": schedules.sync_schedules owns (and prunes) those names.
    return f"webhooks.{engagement.code}.drain"


def _drain_later(engagement: Engagement) -> None:
    """One drain a minute from now (a django-q2 ONCE schedule, deleted once it ran), not one per event;
    the run in progress may be a poll, which does not look at the inbox."""
    Schedule.objects.get_or_create(
        name=drain_schedule_name(engagement),
        defaults={
            "func": TASK,
            "args": f"{engagement.pk},",
            "schedule_type": Schedule.ONCE,
            "repeats": -1,
            "next_run": timezone.now() + RETRY_AFTER,
        },
    )
