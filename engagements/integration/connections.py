"""The client's connections: saving them (write-only secrets bound to their destination), checking
them (in the worker, within a deadline, the page following its state), and the order webhooks a
passing shop check registers."""

from __future__ import annotations

import logging
from dataclasses import asdict

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_q.tasks import async_task

from engagements.integration import clients, labels, schedules
from engagements.integration.calls import Deadline
from engagements.integration.destinations import Destination
from engagements.integration.errors import IntegrationError, PermanentError
from engagements.integration.gateway.base import OdooGateway, version_major
from engagements.integration.gateway.json2 import JSON2_FROM, Json2Gateway, probe_version
from engagements.integration.gateway.odoo import OdoorpcGateway
from engagements.integration.models import CheckState, Health, OdooConnection, ShopConnection
from engagements.integration.shops.base import PLATFORM_LABELS, ShopAuthError, ShopClient
from engagements.models import Engagement
from engagements.services import event_record
from portal.audit import Code, audit_record
from portal.errors import DomainError
from portal.models import User

logger = logging.getLogger(__name__)
AnyConnection = OdooConnection | ShopConnection
CHECK_TIMEOUT = 10.0  # seconds a check's call may take (the check as a whole: INTEGRATION_CHECK_SECONDS)
CHECK_TASK = "engagements.integration.tasks.connection_check"
RIGHTS = ("res.partner", "product.product", "sale.order", "stock.move")
SUPPORTED_MAJORS = (16, 17, 18, 19)
SECRET_PAIRS = ("woocommerce", "jumpseller")  # platforms whose API needs a key and a secret
KEYS_AGAIN = gettext_lazy(
    "The address changed, so the stored keys were not kept: enter them again. "
    "Keys are only ever sent to the address they were saved for."
)
KEY_REQUIRED = gettext_lazy("Enter it: there is none stored.")
CHECK_GOING_ON = gettext_lazy("This connection is being checked already; the result appears on the page.")
NO_KEYS = "keys_missing"
NOT_CONTACTED = (NO_KEYS, "odoo_https_required", "odoo_local_address")  # refused before any call


# ---------------------------------------------------------------- saving


class SecretsRequired(DomainError):
    """Secrets a save needs and did not get: the page shows the message next to each of `fields`."""

    def __init__(self, message: str | Promise, fields: list[str]) -> None:
        super().__init__(message, field=fields[0])
        self.fields = fields


def _bind_secrets(
    connection: AnyConnection, new: Destination, typed: dict[str, str], required: tuple[str, ...]
) -> bool:
    """Keep the typed secrets. When the destination moved, the stored ones are cleared first: keys
    saved for one address never follow the connection to another. A required secret still missing
    is refused next to its field. Returns whether the stored secrets were cleared."""
    cleared = moved(destination(connection) if connection.pk else None, new)
    for name, value in typed.items():
        if value or cleared:
            setattr(connection, name, value)
    missing = [name for name in required if not getattr(connection, name)]
    if missing:
        raise SecretsRequired(KEYS_AGAIN if cleared else KEY_REQUIRED, missing)
    if cleared:
        connection.last_check, connection.last_check_at = {}, None
    connection.health, connection.revision = Health.UNKNOWN, connection.revision + 1
    return cleared


def moved(saved: Destination | None, new: Destination) -> bool:
    """True when keys saved for `saved` must not follow the connection to `new`."""
    return saved is not None and saved != new


def destination(connection: AnyConnection) -> Destination:
    """Where the connection's keys may go: its URL's scheme, host and port, and its database or platform."""
    if isinstance(connection, OdooConnection):
        return Destination.of(connection.url, connection.database)
    return Destination.of(connection.base_url, connection.platform)


def _typed(secrets: dict[str, str]) -> list[str]:
    """The names of the secrets typed in a save (for the audit trail; never their values)."""
    return sorted(name for name, value in secrets.items() if value)


def _kind(connection: AnyConnection) -> str:
    return "odoo" if isinstance(connection, OdooConnection) else "shop"


def _audit(
    code: str, connection: AnyConnection, *, actor: User | None, request: HttpRequest | None = None, **data: object
) -> None:
    """One audit event about a connection: where its keys go (never a key), and `data`."""
    where = destination(connection)
    where_data = {"connection": _kind(connection), "host": where.host, "port": where.port, "scope": where.scope}
    target = connection.engagement.code
    audit_record(code=code, request=request, actor=actor, target=target, data={**where_data, **data})


@transaction.atomic
def odoo_connection_save(
    *,
    actor: User,
    engagement: Engagement,
    url: str,
    database: str,
    login: str,
    api_key: str = "",
    request: HttpRequest | None = None,
) -> OdooConnection:
    """Create or update the client's Odoo connection. A blank key keeps the stored one, unless the
    address or the database changed: then a new key is required (DomainError on `api_key`)."""
    connection = OdooConnection.objects.select_for_update().filter(engagement=engagement).first()
    connection = connection or OdooConnection(engagement=engagement)
    url, database = url.strip().rstrip("/"), database.strip()
    typed = {"api_key": api_key}
    cleared = _bind_secrets(connection, Destination.of(url, database), typed, ("api_key",))
    connection.url, connection.database, connection.login = url, database, login.strip()
    if cleared:
        connection.odoo_major = None  # learnt again by the next check
    connection.save()
    event_record(
        engagement,
        "integration.odoo_connection_saved",
        actor=actor,
        client_visible=False,
        data={"url": connection.url, "database": connection.database, "key_changed": bool(api_key)},
    )
    _audit(
        Code.CONNECTION_SAVED, connection, actor=actor, request=request, secrets_cleared=cleared, typed=_typed(typed)
    )
    return connection


@transaction.atomic
def shop_connection_save(
    *,
    actor: User,
    engagement: Engagement,
    platform: str,
    base_url: str,
    api_key: str = "",
    api_secret: str = "",
    webhook_secret: str = "",
    request: HttpRequest | None = None,
) -> ShopConnection:
    """Create or update the shop connection. Blank secrets keep the stored ones, unless the address or
    the platform changed: then they are cleared and a new key (and secret, where the platform needs
    one) is required (DomainError on that field)."""
    connection = ShopConnection.objects.select_for_update().filter(engagement=engagement).first()
    connection = connection or ShopConnection(engagement=engagement)
    base_url = base_url.strip().rstrip("/")
    typed = {"api_key": api_key, "api_secret": api_secret, "webhook_secret": webhook_secret}
    required = ("api_key", "api_secret") if platform in SECRET_PAIRS else ("api_key",)
    cleared = _bind_secrets(connection, Destination.of(base_url, platform), typed, required)
    connection.platform, connection.base_url = platform, base_url
    if cleared:
        connection.adapter_state = {}  # what the adapter learnt was about the other shop
    connection.save()
    event_record(
        engagement,
        "integration.shop_connection_saved",
        actor=actor,
        client_visible=False,
        data={"platform": platform, "url": connection.base_url},
    )
    _audit(
        Code.CONNECTION_SAVED, connection, actor=actor, request=request, secrets_cleared=cleared, typed=_typed(typed)
    )
    return connection


# ---------------------------------------------------------------- checking


def connection_check_request(*, actor: User, connection: AnyConnection, request: HttpRequest | None = None) -> None:
    """Queue a check of the connection for the worker (a person waits on the page, which polls
    `check_state`). Refused while one is going on."""
    model = type(connection)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=connection.pk)
        if locked.check_going_on():
            raise DomainError(CHECK_GOING_ON)
        locked.check_state, locked.check_requested_at = CheckState.QUEUED, timezone.now()
        locked.save(update_fields=["check_state", "check_requested_at"])
        _audit(Code.CONNECTION_CHECK_REQUESTED, locked, actor=actor, request=request)
        args = (_kind(locked), locked.pk, actor.pk)
        transaction.on_commit(lambda: async_task(CHECK_TASK, *args))


def connection_check(*, kind: str, connection_id: int, actor: User | None = None) -> dict | None:
    """The worker's side: check the saved connection now, with the keys saved for its address."""
    model = OdooConnection if kind == "odoo" else ShopConnection
    connection = model.objects.select_related("engagement").filter(pk=connection_id).first()
    if connection is None:
        return None  # deleted meanwhile
    if isinstance(connection, OdooConnection):
        verdict = odoo_connection_check(connection=connection)
    else:
        verdict = shop_connection_check(connection=connection)
    _audit(Code.CONNECTION_CHECKED, connection, actor=actor, problem=verdict.get("problem", ""))
    return verdict


def _progress(connection: AnyConnection, state: str) -> None:
    type(connection).objects.filter(pk=connection.pk).update(check_state=state)


def _check_finished(connection: AnyConnection, verdict: dict, **fields) -> None:
    """Store the verdict, unless the connection was saved again while the check ran (its verdict would
    be about keys or an address it no longer has); the check is over either way."""
    model = type(connection)
    model.objects.filter(pk=connection.pk, revision=connection.revision).update(
        health=Health.FAILING if verdict.get("problem") else Health.OK,
        last_check_at=timezone.now(),
        last_check=verdict,
        **fields,
    )
    model.objects.filter(pk=connection.pk).update(check_state=CheckState.IDLE)
    schedules.sync_schedules(connection.engagement)  # a failing connection pauses them, a passing one resumes


def _is_odoo_online(url: str) -> bool:
    return Destination.of(url).host.endswith(".odoo.com")


def _check_gateway(connection: OdooConnection, deadline: Deadline) -> OdooGateway:
    """First GET /web/version, without the key: Odoo 19+ is then checked over JSON-2, as its runs go
    (its JSON-RPC is deprecated). Below 19 (Odoo 16 has no /web/version), the odoorpc login, which
    first asks version_info, without the key too. The key goes only to an address that answered."""
    if not connection.api_key:
        raise PermanentError("No API key is stored.", code=NO_KEYS)
    _progress(connection, CheckState.PROBE)
    version = probe_version(connection.url, timeout=deadline.timeout(CHECK_TIMEOUT))
    _progress(connection, CheckState.AUTH)
    where = {"url": connection.url, "database": connection.database, "api_key": connection.api_key.reveal()}
    if version_major(version) >= JSON2_FROM:
        gateway = Json2Gateway(**where, timeout=CHECK_TIMEOUT, version=version, deadline=deadline)
        try:
            gateway.check_key()  # JSON-2 has no login: the key and the database are proven by a first call
        except IntegrationError:
            gateway.close()
            raise
        return gateway
    return OdoorpcGateway(**where, login=connection.login, timeout=CHECK_TIMEOUT, deadline=deadline)


def _verdict(connection: OdooConnection) -> dict:
    """Reachable? Version? Login? Rights? For Odoo Online: is the external API available?"""
    verdict: dict = {"reachable": False, "version": "", "login": False, "rights": {}, "external_api": "unknown"}
    try:
        gateway = _check_gateway(connection, Deadline(settings.INTEGRATION_CHECK_SECONDS))
    except PermanentError as error:
        verdict["reachable"] = error.code not in NOT_CONTACTED
        verdict["problem"] = error.code
        if error.code == "odoo_auth" and _is_odoo_online(connection.url):
            verdict["external_api"] = "unavailable_or_wrong_key"
        return verdict
    except IntegrationError as error:
        verdict["problem"] = error.code
        return verdict
    verdict.update(reachable=True, version=str(gateway.version), login=True, external_api="ok")
    _progress(connection, CheckState.RIGHTS)
    with gateway:
        try:
            for model in RIGHTS:
                try:
                    gateway.search_count(model, [["id", "=", 0]])
                    verdict["rights"][model] = True
                except PermanentError:
                    verdict["rights"][model] = False
        except IntegrationError as error:  # out of time, or Odoo went away: no verdict on the rights
            verdict["problem"] = error.code
            return verdict
    if gateway.major not in SUPPORTED_MAJORS:
        verdict["problem"] = "odoo_version_unsupported"
    elif not all(verdict["rights"].values()):
        verdict["problem"] = "odoo_rights"
    return verdict


def odoo_connection_check(*, connection: OdooConnection) -> dict:
    """Test the connection now and store the verdict (never a secret) on it."""
    verdict = _verdict(connection)
    problem = verdict.get("problem")
    if verdict["external_api"] == "unavailable_or_wrong_key":
        verdict["message"] = _(
            "Odoo Online refused the key: check it, and that the plan includes external API access "
            "(only Custom plans do)."
        )
    elif problem:
        verdict["message"] = labels.problem_text(problem)
    else:
        verdict["message"] = _("Connected to Odoo %(version)s with the rights the integration needs.") % {
            "version": verdict["version"]
        }
    major = int(verdict["version"].split(".")[0]) if verdict["version"][:2].isdigit() else None
    _check_finished(connection, verdict, odoo_major=major)
    return verdict


def webhook_url(connection: ShopConnection) -> str:
    return settings.SITE_URL + reverse("integration:webhook", args=[connection.webhook_token])


def _ensure_webhooks(connection: ShopConnection, client: ShopClient, verdict: dict) -> None:
    """Our order webhooks exist and are active in the shop (a shop disables or deletes a hook whose
    deliveries keep failing). A refusal here leaves the connection healthy (polling goes on) and is told
    in `webhooks_problem`."""
    if not connection.webhook_secret:  # every delivery would be refused: registering them is pointless
        verdict["webhooks"] = {"skipped": "no_secret"}
        verdict["message"] += " " + _("Webhooks not configured (no secret).")
        return
    secret = connection.webhook_secret.reveal()
    # A keyed digest of the secret the hooks were last given (the shop never shows it back): when
    # the stored secret changes, the hooks are sent the new one. It reveals nothing of the secret.
    secret_sig = salted_hmac("integration.webhook_secret", secret).hexdigest()[:16]
    changed = connection.last_check.get("webhook_secret_sig") != secret_sig
    try:
        report = client.ensure_webhooks(webhook_url(connection), secret, secret_changed=changed)
    except IntegrationError as error:
        # The keys just passed the status check: an auth refusal here is a missing right (a read-only key).
        code = "shop_webhooks_forbidden" if isinstance(error, ShopAuthError) else error.code
        logger.warning("webhooks not registered: engagement %s, %s", connection.engagement.code, code)
        verdict["webhooks_problem"] = code
        verdict["message"] += " " + _("The webhooks could not be registered (%(code)s); orders are still polled.") % {
            "code": code
        }
        return
    verdict["webhooks"], verdict["webhook_secret_sig"] = asdict(report), secret_sig
    verdict["message"] += " " + _("Webhooks: %(created)s created, %(reactivated)s reactivated, %(ok)s in place.") % {
        "created": len(report.created),
        "reactivated": len(report.reactivated),
        "ok": len(report.ok),
    }
    if report.updated:
        verdict["message"] += " " + _("%(updated)s given the new secret.") % {"updated": len(report.updated)}


def shop_connection_check(*, connection: ShopConnection) -> dict:
    """Reach the shop and store the verdict (never a secret) on the connection: first without the keys
    (`probe`: does the address answer as the platform's API?), then with them."""
    verdict: dict = {"reachable": False, "version": ""}
    try:
        if not connection.api_key:
            raise PermanentError("No key is stored.", code=NO_KEYS)
        with clients.shop_client_from(connection, deadline=Deadline(settings.INTEGRATION_CHECK_SECONDS)) as client:
            _progress(connection, CheckState.PROBE)
            client.probe()
            _progress(connection, CheckState.AUTH)
            verdict.update(reachable=True, version=client.status()["version"])
            verdict["message"] = _("Connected to the shop (%(platform)s %(version)s).") % {
                "platform": PLATFORM_LABELS.get(client.platform, client.platform),
                "version": verdict["version"],
            }
            _progress(connection, CheckState.RIGHTS)
            _ensure_webhooks(connection, client, verdict)
    except IntegrationError as error:
        verdict["problem"] = error.code
        verdict["message"] = labels.problem_text(error.code)
    _check_finished(connection, verdict)
    return verdict
