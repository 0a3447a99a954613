"""The access sweep (target S2): every URL of the URL configuration, and who may open it.

The resolver is walked recursively and every pattern must have a rule in
`RULES` (by URL name), `NAMESPACE_RULES` (a whole namespace, e.g. the admin)
or `ROUTE_RULES` (by route, for patterns someone else is adding). A pattern
without a rule fails `test_every_url_has_a_rule`.

Kinds of rule:
  PUBLIC    anyone; the anonymous status is given, with the reason it is public.
  SIGNED_IN any signed-in person, for their own account or their own lists;
            anonymous -> login page; another company's client sees none of
            company A's data.
  OBJECT    an object clients may see: its owner (alice, Andes) gets `owner`,
            charlie (another company) and an unassigned consultant get 404 with
            none of the object's data in the body; a POST changes nothing.
  STAFF / CONSULTANT  role-gated: anonymous -> login page, a client 403, a
            consultant 403 on staff pages; consultant pages are 404 for a consultant
            not assigned to the engagement.
  ADMIN     the Django admin: anonymous and clients are sent to the admin login
            (which sends anonymous people to the portal login and refuses clients).

The data (company A's objects, company B's client) is built once per module
inside a transaction that is rolled back at the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client, TestCase
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone

from billing import services as billing
from billing.models import Credit, Invoice, Payment, WebpayAttempt, WebpayStatus
from books.models import BooksDocument, BooksPush, BooksRun
from engagements import services
from engagements.integration import connections
from engagements.integration.models import SyncRun
from portal.models import ClientCompany, Role
from portal.services import invitation_create
from tests.conftest import make_user
from tests.engagements.fixtures import DIAGNOSIS, INQUIRY, hold_session

pytestmark = pytest.mark.django_db

PUBLIC, SIGNED_IN, OBJECT, STAFF, CONSULTANT, ADMIN = "public", "signed-in", "object", "staff", "consultant", "admin"
GET, POST = "get", "post"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# Distinctive values of company A (Andes) that must never reach company B's client.
A_NAME = "Zafiro Andino SpA"
A_SECRETS = [
    A_NAME,
    "zafiro-pagos@andes.test",
    "Calle Zafiro 742",
    "ZX-SOLICITUD-ACCESOS",
    "ZX-RESPUESTA-ALICE",
    "ZX-CAMBIO-B2B",
    "ZX-OBJETIVO-SESION",
    "ZX-PASO-SIGUIENTE",
    "ZX-LINEA-COTIZACION",
    "ZX-ENTREGA-NOTA",
    "zx-adjunto.pdf",
    "alice@andes.test",
    "ZX-WEBPAY-ORDEN",
]


# ---------------------------------------------------------------- the data, once per module


@dataclass
class World:
    objects: dict[str, object] = field(default_factory=dict)
    users: dict[str, object] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)  # persona -> session key, logged in once
    token: str = ""

    def __getattr__(self, name: str):
        try:
            return self.__dict__["objects"][name]
        except KeyError as exc:
            raise AttributeError(name) from exc


def _engagement(service, company, sam, carla, name: str):
    lead = services.inquiry_submit(service=service, data={**INQUIRY, "company_name": name}, request=None)
    services.lead_convert(
        actor=sam, request=None, engagement=lead, consultant=carla, company=company, invite_contact=False
    )
    services.diagnosis_save(actor=carla, engagement=lead, values=DIAGNOSIS, complete=True)
    return lead


def _build_company_a(w: World, service) -> None:
    sam, carla, alice = w.users["sam"], w.users["carla"], w.users["alice"]
    andes = w.objects["company"]
    engagement = _engagement(service, andes, sam, carla, A_NAME)
    quote = billing.quote_create(
        actor=sam,
        engagement=engagement,
        lines=[billing.LineInput("ZX-LINEA-COTIZACION", Decimal("1"), Decimal("2500000"))],
    )
    quote = billing.quote_send(actor=sam, quote=quote)
    billing.quote_accept(
        user=alice, quote=quote, full_name="Alice", accepted_policy=True, shown_sha256=quote.pdf_sha256, request=None
    )
    engagement.refresh_from_db()
    request = services.formal_request_send(
        actor=carla, engagement=engagement, kind="access", subject="ZX-SOLICITUD-ACCESOS", body="b", due_date=None
    )
    upload = SimpleUploadedFile("zx-adjunto.pdf", PDF, content_type="application/pdf")
    services.formal_request_answer(actor=alice, request=request, text="ZX-RESPUESTA-ALICE", files=[upload])
    session = hold_session(engagement.sessions.order_by("number").first(), carla)
    services.session_log_publish(
        actor=carla,
        session=session,
        values={"objective": "ZX-OBJETIVO-SESION", "activity": "a", "minutes_used": 60, "progress_status": "on_track"},
        next_steps=[{"description": "ZX-PASO-SIGUIENTE", "owner": "client", "due_date": timezone.localdate()}],
    )
    item = engagement.checklist.order_by("order").first()
    delivered = SimpleUploadedFile("zx-entrega.pdf", PDF, content_type="application/pdf")
    services.checklist_deliver(actor=alice, item=item, note="ZX-ENTREGA-NOTA", file=delivered)
    change = services.change_request_raise(actor=alice, engagement=engagement, title="ZX-CAMBIO-B2B", description="d")
    invitation, w.token = invitation_create(actor=sam, request=None, email="nueva@andes.test", company=andes)
    shop = connections.shop_connection_save(
        actor=carla,
        engagement=engagement,
        platform="woocommerce",
        base_url="http://127.0.0.1:9",
        api_key="ck",
        api_secret="cs",
    )
    invoice = Invoice.objects.get(engagement=engagement)
    BooksDocument.objects.create(  # its legal invoice, as the books' worker left it after Odoo posted it
        invoice=invoice, odoo_id=1, name="FAC 000001", state="posted", pdf=SimpleUploadedFile("fac.pdf", PDF)
    )
    payment = Payment.objects.create(
        invoice=invoice, paid_on=timezone.localdate(), amount=Decimal(1000), method="webpay", recorded_by=sam
    )
    w.objects.update(
        engagement=_fresh(engagement),
        quote=quote,
        invoice=invoice,
        payment=payment,
        attempt=WebpayAttempt.objects.create(  # ended: its page shows the outcome with the buy order
            invoice=invoice,
            user=alice,
            buy_order="ZX-WEBPAY-ORDEN",
            session_id="s",
            token="z" * 64,
            redirect_url="http://127.0.0.1:9/webpayserver/initTransaction",
            amount=Decimal(1000),
            status=WebpayStatus.PAID,
            payment=payment,
        ),
        request=request,
        attachment=request.attachments.get(),
        session=session,
        step=session.next_steps.get(),
        item=item,
        change=change,
        invitation=invitation,
        shop=shop,
        run=SyncRun.objects.create(engagement=engagement, flow="orders"),  # still running: no counts yet
        books_run=BooksRun.objects.create(kind="push", trigger="event"),
        books_push=BooksPush.objects.create(kind="invoice", invoice=invoice, state="attention"),
        credit=Credit.objects.create(
            company=andes, engagement=engagement, currency="CLP", proposed_amount=Decimal(12345)
        ),
        lead=services.inquiry_submit(service=service, data=dict(INQUIRY), request=None),
    )


def _fresh(engagement):  # the services moved it on
    engagement.refresh_from_db()
    return engagement


def _build() -> World:
    andes = ClientCompany.objects.create(
        legal_name=A_NAME, rut="765432103", address="Calle Zafiro 742", billing_email="zafiro-pagos@andes.test"
    )
    otra = ClientCompany.objects.create(
        legal_name="Otra Empresa Ltda.", rut="771234569", address="Calle 2", billing_email="pagos@otra.test"
    )
    w = World(objects={"company": andes, "other_company": otra})
    w.users = {
        "alice": make_user("alice@andes.test", company=andes),
        "charlie": make_user("charlie@otra.test", company=otra),
        "carla": make_user("carla@consultora.test", Role.CONSULTANT),
        "carlos": make_user("carlos@consultora.test", Role.CONSULTANT),  # assigned to nothing of A's
        "sam": make_user("sam@consultora.test", Role.STAFF),
    }
    service = services.service_publish_catalogue()
    w.objects["service"] = service
    _build_company_a(w, service)
    # charlie has an engagement of his own, so his pages are the normal ones.
    theirs = _engagement(service, otra, w.users["sam"], w.users["carlos"], "Otra Empresa Ltda.")
    services.engagement_mark_quoted(actor=w.users["sam"], engagement=theirs)
    services.engagement_confirm_scope(actor=w.users["sam"], engagement=theirs)
    return w


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        with TestCase.captureOnCommitCallbacks(execute=True):
            built = _build()
        for name, user in built.users.items():
            client = Client()
            client.force_login(user)
            built.sessions[name] = client.cookies[settings.SESSION_COOKIE_NAME].value
        yield built
        transaction.set_rollback(True)


# ---------------------------------------------------------------- the rules


@dataclass(frozen=True)
class Rule:
    kind: str
    url: Callable[[World], str] | None = None
    reason: str = ""
    method: str = GET
    expect: tuple[int, ...] = (200,)  # PUBLIC: anonymous; SIGNED_IN/OBJECT: alice; STAFF/CONSULTANT: allowed role
    target: str = ""  # OBJECT/POST: the World object that must stay unchanged
    clients_only: bool = False  # OBJECT: a client action (consultants get the role gate's 403)


def by_name(name: str, /, **kwargs: Callable[[World], object]) -> Callable[[World], str]:
    return lambda w: reverse(name, kwargs={k: str(v(w)) for k, v in kwargs.items()})


def code(w: World) -> str:
    return w.engagement.code


def pid(attr: str) -> Callable[[World], object]:
    return lambda w: getattr(w, attr).public_id


def user_pid(name: str) -> Callable[[World], object]:
    return lambda w: w.users[name].public_id


def const(value: str) -> Callable[[World], str]:
    return lambda w: value


ENG = {"code": code}
LOGIN_FIRST = "login-required allauth page for the person's own account"


def public(name: str, /, reason: str, expect=(200,), **kwargs) -> Rule:
    return Rule(PUBLIC, by_name(name, **kwargs), reason, expect=expect)


def signed_in(name: str, reason: str = LOGIN_FIRST, expect=(200,)) -> Rule:
    return Rule(SIGNED_IN, by_name(name), reason, expect=expect)


def obj(name: str, /, method: str = GET, expect=(200,), target: str = "", clients_only=False, **kwargs) -> Rule:
    return Rule(OBJECT, by_name(name, **kwargs), method=method, expect=expect, target=target, clients_only=clients_only)


def staff(name: str, /, method: str = GET, expect=None, **kwargs) -> Rule:
    return Rule(STAFF, by_name(name, **kwargs), method=method, expect=expect or _gate(method))


def consultant(name: str, /, method: str = GET, expect=None, **kwargs) -> Rule:
    return Rule(CONSULTANT, by_name(name, **kwargs), method=method, expect=expect or _gate(method))


def _gate(method: str) -> tuple[int, ...]:
    # What the allowed role gets on a GET: the page, or 405 on a POST-only view.
    return (200,) if method == GET else (405,)


RULES: dict[str, Rule] = {
    # portal
    "brand_css": public("brand_css", "the brand's colours, the same stylesheet for everyone"),
    "favicon": public("favicon", "browsers ask for /favicon.ico by themselves", expect=(302,)),
    "portal:home": public("portal:home", "visitors are sent to the public service page", expect=(302,)),
    "portal:company_list": staff("portal:company_list"),
    "portal:company_create": staff("portal:company_create"),
    "portal:company_detail": obj("portal:company_detail", public_id=pid("company")),
    "portal:company_edit": staff("portal:company_edit", public_id=pid("company")),
    "portal:invitation_revoke": staff("portal:invitation_revoke", POST, public_id=pid("invitation")),
    "portal:invitation_resend": staff("portal:invitation_resend", POST, public_id=pid("invitation")),
    "portal:membership_remove": staff("portal:membership_remove", POST, public_id=user_pid("alice")),
    "portal:team": staff("portal:team"),
    "portal:user_role": staff("portal:user_role", POST, public_id=user_pid("carla")),
    "portal:invitation_accept": public(
        "portal:invitation_accept", "the emailed token is the credential", token=lambda w: w.token
    ),
    # engagements
    "engagements:service_page": public(
        "engagements:service_page", "public service sheet", slug=lambda w: w.service.slug
    ),
    "engagements:service_default": public("engagements:service_default", "public service sheet + inquiry form"),
    "engagements:inquiry_thanks": public("engagements:inquiry_thanks", "thank-you page after the inquiry form"),
    "engagements:home": signed_in("engagements:home", "each role's own home: the client's four answers"),
    "engagements:detail": obj("engagements:detail", **ENG),
    "engagements:history": obj("engagements:history", **ENG),
    "engagements:sessions": obj("engagements:sessions", **ENG),
    "engagements:session_ics": obj("engagements:session_ics", public_id=pid("session")),
    "engagements:lead_convert": staff("engagements:lead_convert", code=lambda w: w.lead.code),
    "engagements:assign": staff("engagements:assign", POST, **ENG),
    "engagements:action": consultant("engagements:action", POST, name=const("close"), **ENG),
    "engagements:diagnosis": consultant("engagements:diagnosis", **ENG),
    "engagements:phase_complete": consultant("engagements:phase_complete", **ENG),
    "engagements:request_send": consultant("engagements:request_send", POST, **ENG),
    "engagements:note_add": consultant("engagements:note_add", POST, **ENG),
    "engagements:change_raise": obj(  # an empty change request: the page again, with the errors by the fields
        "engagements:change_raise", POST, (200,), "engagement", **ENG
    ),
    "engagements:request_answer": obj(
        "engagements:request_answer", POST, (302,), "request", clients_only=True, public_id=pid("request")
    ),
    "engagements:request_record": consultant("engagements:request_record", POST, public_id=pid("request")),
    "engagements:attachment": obj("engagements:attachment", public_id=pid("attachment")),
    "engagements:session_schedule": consultant("engagements:session_schedule", POST, public_id=pid("session")),
    "engagements:session_log": consultant("engagements:session_log", public_id=pid("session")),
    "engagements:step_toggle": obj("engagements:step_toggle", POST, (302,), "step", public_id=pid("step")),
    "engagements:checklist_deliver": obj(  # an empty delivery: the page again, with the error by the form
        "engagements:checklist_deliver", POST, (200,), "item", clients_only=True, public_id=pid("item")
    ),
    "engagements:checklist_review": consultant("engagements:checklist_review", POST, public_id=pid("item")),
    "engagements:checklist_file": obj("engagements:checklist_file", public_id=pid("item")),
    "engagements:change_classify": staff("engagements:change_classify", POST, public_id=pid("change")),
    # billing
    "billing:quote_new": staff("billing:quote_new", **ENG),
    "billing:quote": obj("billing:quote", public_id=pid("quote")),
    "billing:quote_pdf": obj("billing:quote_pdf", public_id=pid("quote")),
    "billing:quote_send": staff("billing:quote_send", POST, public_id=pid("quote")),
    "billing:quote_accept": obj(  # an empty acceptance: the quote again, with the errors by the fields
        "billing:quote_accept", POST, (200,), "quote", clients_only=True, public_id=pid("quote")
    ),
    "billing:quote_decline": obj(
        "billing:quote_decline", POST, (302,), "quote", clients_only=True, public_id=pid("quote")
    ),
    "billing:invoice_pdf": obj("billing:invoice_pdf", expect=(200, 302), public_id=pid("invoice")),
    "billing:invoice": obj("billing:invoice", public_id=pid("invoice")),
    "billing:payment_new": staff("billing:payment_new", POST, public_id=pid("invoice")),
    "billing:invoice_issue": staff("billing:invoice_issue", POST, public_id=pid("invoice")),
    "billing:invoice_void": staff("billing:invoice_void", POST, public_id=pid("invoice")),
    "billing:credit_apply": staff("billing:credit_apply", POST, public_id=pid("invoice")),
    "billing:webpay_start": obj(
        "billing:webpay_start", POST, (302,), "invoice", clients_only=True, public_id=pid("invoice")
    ),
    "billing:webpay_attempt": obj("billing:webpay_attempt", public_id=pid("attempt")),
    "billing:webpay_return": public(
        "billing:webpay_return",
        "Transbank sends the browser back here (maybe by a cross-site POST, without a session): only the "
        "token counts, committed server-side; nothing known -> 400 (see tests/billing/test_webpay.py)",
        expect=(400,),
    ),
    "billing:payment_refund": staff("billing:payment_refund", POST, public_id=pid("payment")),
    "billing:credit_confirm": staff("billing:credit_confirm", POST, public_id=pid("credit")),
    "billing:finance": signed_in("billing:finance", "each person's own invoices and credits"),
    "billing:invoices_csv": staff("billing:invoices_csv"),
    "billing:payments_csv": staff("billing:payments_csv"),
    # the consultancy's books in Odoo (staff; a client downloads the legal PDF of their own document)
    "books:page": staff("books:page"),
    "books:check": staff("books:check", POST),
    "books:pull": staff("books:pull", POST),
    "books:run": staff("books:run", public_id=pid("books_run")),
    "books:push_retry": staff("books:push_retry", POST, public_id=pid("books_push")),
    "books:push_handled": staff("books:push_handled", POST, public_id=pid("books_push")),
    "books:document_send": staff("books:document_send", POST, public_id=pid("invoice")),
    "books:document_pdf": obj("books:document_pdf", public_id=pid("invoice")),
    # integration (consultants and staff only; clients never see connection settings)
    "integration:page": consultant("integration:page", **ENG),
    "integration:odoo_check": consultant("integration:odoo_check", POST, **ENG),
    "integration:shop_check": consultant("integration:shop_check", POST, **ENG),
    "integration:run_now": consultant("integration:run_now", POST, flow=const("orders"), **ENG),
    "integration:part": consultant("integration:part", part=const("runs"), **ENG),
    "integration:run": consultant("integration:run", public_id=pid("run")),
    "integration:run_progress": consultant("integration:run_progress", public_id=pid("run")),
    "integration:flow_settings": consultant("integration:flow_settings", flow=const("orders"), **ENG),
    "integration:bindings": consultant("integration:bindings", **ENG),
    "integration:bindings_state": consultant("integration:bindings_state", **ENG),
    "integration:bindings_propose": consultant("integration:bindings_propose", POST, **ENG),
    "integration:bindings_approve": consultant("integration:bindings_approve", POST, **ENG),
    "integration:webhook": public(
        "integration:webhook",
        "shops post here; the HMAC over the body authenticates (GET is 405, see test_the_webhook_*)",
        expect=(405,),
        token=lambda w: w.shop.webhook_token,
    ),
    # allauth: the sign-in flow is public; account and MFA pages are the person's own
    "account_login": public("account_login", "the login page"),
    "account_logout": public("account_logout", "nothing to end: sends visitors to the login page", (302,)),
    "account_inactive": public("account_inactive", "tells a disabled account why it cannot sign in"),
    "account_signup": public("account_signup", "the 'sign-up is closed' page (invite-only)"),
    "account_email_verification_sent": public("account_email_verification_sent", "step of the sign-in flow"),
    "account_reset_password": public("account_reset_password", "password reset request form"),
    "account_reset_password_done": public("account_reset_password_done", "password reset: mail sent"),
    "account_reset_password_from_key": public(
        "account_reset_password_from_key",
        "the emailed key is the credential (a bad one shows the 'invalid link' page)",
        uidb36=const("zz"),
        key=const("bad-key"),
    ),
    "account_reset_password_from_key_done": public("account_reset_password_from_key_done", "password reset: done"),
    "account_confirm_email": public("account_confirm_email", "the emailed key is the credential", key=const("bad-key")),
    "account_confirm_login_code": public(
        "account_confirm_login_code", "login-by-code step; without a pending login it goes to the login page", (302,)
    ),
    "mfa_authenticate": public(
        "mfa_authenticate", "second step of the login; without a pending login it goes to the login page", (302,)
    ),
    "set_language": public("set_language", "language switch (a cookie); GET changes nothing", (302,)),
    "account_reauthenticate": signed_in("account_reauthenticate"),
    # Re-authentication by an e-mailed code (allauth 65.22) is switched off (settings): refused.
    "account_request_reauthentication_code": signed_in("account_request_reauthentication_code", expect=(403,)),
    "account_confirm_reauthentication_code": signed_in("account_confirm_reauthentication_code", expect=(403,)),
    "account_email": signed_in("account_email"),
    "account_change_password": signed_in("account_change_password"),
    "account_set_password": signed_in("account_set_password", expect=(302,)),
    "mfa_index": signed_in("mfa_index"),
    "usersessions_list": signed_in("usersessions_list"),
    "mfa_reauthenticate": signed_in("mfa_reauthenticate", expect=(200, 302)),
    "mfa_activate_totp": signed_in("mfa_activate_totp", expect=(200, 302)),
    "mfa_deactivate_totp": signed_in("mfa_deactivate_totp", expect=(302, 404)),
    "mfa_view_recovery_codes": signed_in("mfa_view_recovery_codes", expect=(302, 404)),
    "mfa_generate_recovery_codes": signed_in("mfa_generate_recovery_codes", expect=(302, 404)),
    "mfa_download_recovery_codes": signed_in("mfa_download_recovery_codes", expect=(302, 404)),
}

# Whole namespaces: every admin page goes through AdminSite.admin_view (is_staff)
# or secure_admin_login; new ModelAdmins are swept without a new rule.
NAMESPACE_RULES: dict[str, Rule] = {"admin": Rule(ADMIN, reason="Django admin, staff only")}

# By route.
ROUTE_RULES: dict[str, Rule] = {
    r"^healthz/?$": Rule(
        PUBLIC,
        lambda w: "/" + _route_of(r"^healthz/?$"),
        "load balancer / uptime probe: says up or down and nothing else",
        expect=(200, 503),
    ),
}


# ---------------------------------------------------------------- the URL configuration


@dataclass(frozen=True)
class Entry:
    key: str  # "namespace:name", or the route for an unnamed pattern
    route: str
    namespace: str

    def __str__(self) -> str:
        return self.key


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace])) if pattern.namespace else namespace
            yield from _walk(pattern, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            key = f"{namespace}:{pattern.name}" if namespace and pattern.name else (pattern.name or route)
            yield Entry(key, route, namespace)


def url_entries() -> list[Entry]:
    return list(_walk(get_resolver()))


def _route_of(regex: str) -> str:
    return next(e.route for e in url_entries() if re.match(regex, e.route.lstrip("^")))


def rule_for(entry: Entry) -> Rule | None:
    if entry.key in RULES:
        return RULES[entry.key]
    for regex, rule in ROUTE_RULES.items():
        if re.match(regex, entry.route.lstrip("^")):
            return rule
    return NAMESPACE_RULES.get(entry.namespace.split(":")[0]) if entry.namespace else None


ENTRIES = url_entries()
SWEPT = [e for e in ENTRIES if rule_for(e) is not None]


def _of(*kinds: str, method: str | None = None) -> list:
    return [
        pytest.param(e, id=e.key)
        for e in SWEPT
        if rule_for(e).kind in kinds and (method is None or rule_for(e).method == method)
    ]


def _admin_url(entry: Entry, w: World) -> str:
    """A concrete address for an admin route (company A's row where it takes an id)."""
    if entry.key == "admin:app_list":
        return reverse("admin:app_list", kwargs={"app_label": "portal"})
    route = entry.route.replace("(?P<url>.*)$", "zz-nothing/")
    route = re.sub(r"<path:object_id>", str(w.company.pk), route)
    route = re.sub(r"<path:content_type_id>", "1", route)
    return "/" + route


def url_of(entry: Entry, w: World) -> str:
    rule = rule_for(entry)
    return _admin_url(entry, w) if rule.kind == ADMIN else rule.url(w)


# ---------------------------------------------------------------- helpers


def as_user(w: World, name: str) -> Client:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = w.sessions[name]
    return client


def call(client: Client, rule: Rule, url: str):
    return client.post(url) if rule.method == POST else client.get(url)


def is_login_redirect(response, *, admin: bool = False) -> bool:
    """A redirect to the portal login; for admin pages also to the admin login (which sends
    anonymous people on to the portal login and refuses clients, see the test below) or, for
    the admin logout, to the admin index that does the same."""
    if response.status_code != 302:
        return False
    path = urlsplit(response["Location"]).path
    return path == reverse("account_login") or (admin and path in (reverse("admin:login"), reverse("admin:index")))


def body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def leaked(response) -> list[str]:
    text = body(response)
    return [secret for secret in A_SECRETS if secret in text]


def _count_sql() -> str:
    tables = [
        model._meta.db_table
        for label in ("portal", "engagements", "integration", "billing", "books")
        for model in apps.get_app_config(label).get_models()
        if model.__name__ != "AuditEvent"  # a refused attempt may well be audited
    ]
    return "SELECT " + ", ".join(f'(SELECT count(*) FROM "{table}")' for table in tables)


def snapshot(w: World, target: str) -> tuple:
    """Row counts of every project table (one query) plus the target row and the outbox."""
    with connection.cursor() as cursor:
        cursor.execute(_count_sql())
        counts = cursor.fetchone()
    row = ()
    if target:
        instance = getattr(w, target)
        row = tuple(sorted(type(instance).objects.filter(pk=instance.pk).values().get().items(), key=str))
    return counts, row, len(mail.outbox)


# ---------------------------------------------------------------- completeness


def test_every_url_has_a_rule():
    missing = [e for e in ENTRIES if rule_for(e) is None]
    assert not missing, (
        "URLs without an access rule in tests/portal/test_access_sweep.py: "
        + ", ".join(f"{e.key} (/{e.route})" for e in missing)
        + ". Add each to RULES with public(name, reason) / signed_in(name) / obj(name, ...) for objects "
        "clients may see (and a factory in _build for company A's object) / staff(name, ...) / consultant(name, ...)."
    )


def test_no_rule_is_stale():
    keys = {e.key for e in ENTRIES}
    assert not [k for k in RULES if k not in keys], "rules for URLs that no longer exist: remove them"
    routes = [e.route.lstrip("^") for e in ENTRIES]
    stale = [r for r, rule in ROUTE_RULES.items() if not any(re.match(r, x) for x in routes)]
    assert not stale


def test_the_sweep_covers_the_whole_configuration():
    assert len(SWEPT) == len(ENTRIES) > 100


# ---------------------------------------------------------------- anonymous people


@pytest.mark.parametrize("entry", _of(SIGNED_IN, OBJECT, STAFF, CONSULTANT, ADMIN))
def test_anonymous_people_get_the_login_page(world, entry):
    rule = rule_for(entry)
    response = call(Client(), rule, url_of(entry, world))
    assert is_login_redirect(response, admin=rule.kind == ADMIN), (response.status_code, response.get("Location"))


@pytest.mark.parametrize("entry", _of(PUBLIC))
def test_public_urls_answer_anonymous_people(world, entry):
    rule = rule_for(entry)
    response = Client().get(url_of(entry, world))
    assert response.status_code in rule.expect, (rule.reason, response.status_code, response.get("Location"))
    if rule.expect != (302,):
        assert not is_login_redirect(response)


def test_the_admin_login_sends_anonymous_people_to_the_portal_login_and_refuses_clients(world):
    assert is_login_redirect(Client().get(reverse("admin:login")))
    assert as_user(world, "alice").get(reverse("admin:login")).status_code == 403


# ---------------------------------------------------------------- clients on internal URLs


@pytest.mark.parametrize("entry", _of(STAFF, CONSULTANT, ADMIN))
def test_a_client_gets_403_or_the_login_page_on_internal_urls(world, entry):
    rule = rule_for(entry)
    before = snapshot(world, "") if rule.method == POST else None
    response = call(as_user(world, "alice"), rule, url_of(entry, world))  # even on their own engagement
    assert response.status_code == 403 or is_login_redirect(response, admin=rule.kind == ADMIN), response.status_code
    if rule.method == POST:
        assert snapshot(world, "") == before


@pytest.mark.parametrize("entry", _of(STAFF))
def test_a_consultant_gets_403_on_staff_urls(world, entry):
    rule = rule_for(entry)
    assert call(as_user(world, "carla"), rule, url_of(entry, world)).status_code == 403


@pytest.mark.parametrize("entry", _of(CONSULTANT))
def test_an_unassigned_consultant_gets_404(world, entry):
    rule = rule_for(entry)
    before = snapshot(world, "") if rule.method == POST else None
    response = call(as_user(world, "carlos"), rule, url_of(entry, world))
    assert response.status_code == 404
    assert not leaked(response)
    if rule.method == POST:
        assert snapshot(world, "") == before


@pytest.mark.parametrize("entry", _of(STAFF, CONSULTANT))
def test_the_allowed_role_reaches_the_view(world, entry):
    """Proves the sweep's addresses are real: the 403s above are the gate, not a bad URL."""
    rule = rule_for(entry)
    who = "sam" if rule.kind == STAFF else "carla"
    response = as_user(world, who).get(url_of(entry, world))
    assert response.status_code in rule.expect


# ---------------------------------------------------------------- objects of another company


@pytest.mark.parametrize("entry", _of(OBJECT))
@pytest.mark.parametrize("intruder", ["charlie", "carlos"])
def test_another_companys_object_is_404_without_its_data(world, entry, intruder):
    rule = rule_for(entry)
    before = snapshot(world, rule.target) if rule.method == POST else None
    response = call(as_user(world, intruder), rule, url_of(entry, world))
    # A consultant on a clients-only action is stopped by the role gate first.
    assert response.status_code in ((403, 404) if intruder == "carlos" and rule.clients_only else (404,))
    assert not leaked(response)
    if rule.method == POST:
        assert snapshot(world, rule.target) == before


@pytest.mark.parametrize("entry", _of(OBJECT))
def test_the_owner_client_reaches_the_object(world, entry):
    rule = rule_for(entry)
    response = call(as_user(world, "alice"), rule, url_of(entry, world))
    assert response.status_code in rule.expect
    if response.status_code == 302:
        assert not is_login_redirect(response)


@pytest.mark.parametrize("entry", _of(OBJECT, method=GET))
def test_the_owner_client_sees_the_data_the_intruder_does_not(world, entry):
    """The secrets checked above are really on the owner's page (else the 404 check proves little)."""
    response = as_user(world, "alice").get(url_of(entry, world))
    if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
        assert leaked(response)


# ---------------------------------------------------------------- signed-in pages


@pytest.mark.parametrize("entry", _of(SIGNED_IN))
def test_signed_in_pages_show_another_client_none_of_company_a(world, entry):
    rule = rule_for(entry)
    response = as_user(world, "charlie").get(url_of(entry, world), follow=True)
    refused_to_all = rule.expect == (403,)  # a switched-off page refuses everyone alike
    assert response.status_code in ((403,) if refused_to_all else (200, 404))
    assert not leaked(response)
    assert as_user(world, "alice").get(url_of(entry, world)).status_code in rule.expect


# ---------------------------------------------------------------- private caching

ALLOWED = {SIGNED_IN: "alice", OBJECT: "alice", STAFF: "sam", CONSULTANT: "carla", ADMIN: "sam"}


def _for_the_allowed_person() -> list:
    """Every authenticated URL as a GET by the person allowed to open it (a POST-only view answers
    405, still to a signed-in person), and the owner's POSTs (not the staff and consultant ones:
    they would change the shared data, e.g. re-send the invitation)."""
    entries = _of(SIGNED_IN, OBJECT, STAFF, CONSULTANT, ADMIN)
    return [pytest.param(p.values[0], GET, id=f"{p.id}-get") for p in entries] + [
        pytest.param(p.values[0], POST, id=f"{p.id}-post") for p in _of(OBJECT, method=POST)
    ]


@pytest.mark.parametrize(("entry", "method"), _for_the_allowed_person())
def test_every_answer_to_a_signed_in_person_is_no_store_private(world, entry, method):
    rule = rule_for(entry)
    client, url = as_user(world, ALLOWED[rule.kind]), url_of(entry, world)
    response = client.post(url) if method == POST else client.get(url)
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    assert {"no-store", "private"} <= directives, (response.status_code, response.get("Cache-Control"))
    assert "public" not in directives and "Cookie" in response.get("Vary", "")


def test_the_sweep_includes_the_downloads(world):
    """PDFs and attachments are among the URLs checked above, and answered with the file."""
    names = {p.values[0].key for p in _for_the_allowed_person() if p.values[1] == GET}
    assert {"billing:quote_pdf", "billing:invoice_pdf", "engagements:attachment"} <= names
    response = as_user(world, "alice").get(reverse("engagements:attachment", args=[world.attachment.public_id]))
    assert response.status_code == 200 and body(response).startswith("%PDF")


# ---------------------------------------------------------------- the special public ones


def test_the_webhook_is_post_only_and_unknown_tokens_are_404(world):
    url = reverse("integration:webhook", args=[world.shop.webhook_token])
    assert Client().get(url).status_code == 405
    unknown = reverse("integration:webhook", args=["not-a-token"])
    assert Client().post(unknown, b"{}", content_type="application/json").status_code == 404
    before = snapshot(world, "shop")
    response = Client().post(url, b'{"id": 1}', content_type="application/json")
    assert response.status_code in (400, 401, 403)  # no signature
    assert snapshot(world, "shop") == before


def test_an_unknown_invitation_token_shows_no_invitation(world):
    response = Client().get(reverse("portal:invitation_accept", args=["not-a-token"]))
    assert response.status_code == 410
    assert "nueva@andes.test" not in body(response)


def test_static_files_are_public(world):
    response = Client().get("/static/css/portal.css")
    assert response.status_code == 200


def test_healthz_is_public(world):
    assert resolve("/healthz").url_name == "healthz"
    response = Client().get("/healthz", follow=True)
    assert response.status_code in (200, 503)
    assert not leaked(response)


def test_a_post_without_a_csrf_token_is_refused(world):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.users["alice"])
    before = snapshot(world, "engagement")
    response = strict.post(reverse("engagements:change_raise", args=[world.engagement.code]), {"title": "t"})
    assert response.status_code == 403
    assert snapshot(world, "engagement") == before
