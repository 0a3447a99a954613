"""Demo quotes, payment requests and credits (seed_demo, after the engagements' demo): idempotent.

- "Librería del Sur · WooCommerce" (quoted) gets a sent quote that the demo
  client diego@ can accept in the portal;
- "Tienda Andina · Pagos" is quoted and accepted through the real flow, so
  its 40% payment request exists with its PDF ("40 %", net and IVA allocated
  across the three milestones); an add-on was accepted and its payment request
  voided by an "Anulación";
- two administrative closes after 90+ days waiting on the client, built with
  quotes and payments so R3 has something to compute: "Café Austral · Tienda
  antigua" (40% paid, planning completed: its credit is confirmed and the
  client reads it with the arithmetic) and "Librería del Sur · Tienda B2B"
  (40% paid, stalled in planning: its proposal waits for staff on the finance page).
"""

from datetime import timedelta
from decimal import Decimal
from typing import TextIO

from django.utils import timezone

from billing import ledger, services
from billing.models import Credit, CreditStatus, Invoice, Quote, QuoteKind, QuoteStatus
from engagements import rules
from engagements import services as lifecycle
from engagements.demo import DIAGNOSIS, shift_back
from engagements.models import Engagement, EngagementEvent, FormalRequest
from portal import clock
from portal.models import ClientCompany, User

LINES = [
    services.LineInput("Integración Odoo ↔ tienda online (alcance según diagnóstico)", Decimal(1), Decimal(2400000)),
    services.LineInput("Configuración de impuestos y despacho", Decimal(1), Decimal(350000)),
]


def _sent_quote(engagement: Engagement, staff: User, lines=LINES, **options) -> Quote:
    quote = services.quote_create(actor=staff, engagement=engagement, lines=lines, **options)
    return services.quote_send(actor=staff, quote=quote)


def _accept(quote: Quote, client: User) -> None:
    services.quote_accept(
        user=client,
        quote=quote,
        full_name=client.full_name,
        accepted_policy=True,
        shown_sha256=quote.pdf_sha256,
        request=None,
    )


def _accepted_engagement(title: str, rut: str, client: User, staff: User, consultant: User) -> Engagement:
    """A lead of the company, through diagnosis, quoted and accepted by `client` (the 40% is issued)."""
    lead = lifecycle.inquiry_submit(
        service=lifecycle.service_publish_catalogue(),
        request=None,
        data={
            "name": client.full_name,
            "company_name": title.split(" · ")[0],
            "email": client.email,
            "phone": "",
            "shop_platform": "woocommerce",
            "odoo_version": "17",
            "odoo_hosting": "odoo_sh",
            "message": "Demo.",
        },
    )
    Engagement.objects.filter(pk=lead.pk).update(title=title)
    company = ClientCompany.objects.get(rut=rut)
    lifecycle.lead_convert(
        actor=staff, request=None, engagement=lead, consultant=consultant, company=company, invite_contact=False
    )
    lifecycle.diagnosis_save(actor=consultant, engagement=lead, values=DIAGNOSIS, complete=True)
    _accept(_sent_quote(lead, staff), client)
    return Engagement.objects.get(pk=lead.pk)


def _voided_add_on(engagement: Engagement, client: User, staff: User) -> None:
    """An add-on accepted, then its payment request voided: an "Anulación" with its own number."""
    change = lifecycle.change_request_raise(
        actor=client, engagement=engagement, title="Sincronizar Mercado Libre", description="Un segundo canal."
    )
    lifecycle.change_request_classify(actor=staff, change=change, classification=QuoteKind.ADD_ON)
    lines = [services.LineInput("Complemento: canal Mercado Libre", Decimal(1), Decimal(500000))]
    _accept(_sent_quote(engagement, staff, lines, kind=QuoteKind.ADD_ON, change_request=change), client)
    request = Invoice.objects.get(milestone__quote__change_request=change)
    services.invoice_void(actor=staff, invoice=request, reason="El cliente postergó el complemento")


def _hour_bank_offer(engagement: Engagement, client: User, staff: User) -> None:
    """A change request the consultancy answered with an hour-bank quote, sent and waiting for the
    client: the quote to accept on ana's home page."""
    change = lifecycle.change_request_raise(
        actor=client,
        engagement=engagement,
        title="Apoyo para la campaña de Navidad",
        description="Queremos horas para ajustar precios y stock durante diciembre.",
    )
    lifecycle.change_request_classify(actor=staff, change=change, classification=QuoteKind.HOUR_BANK)
    lines = [services.LineInput("Bolsa de 5 horas de soporte", Decimal(5), Decimal(45000))]
    _sent_quote(engagement, staff, lines, kind=QuoteKind.HOUR_BANK, change_request=change, hours=Decimal(5))


def _admin_closed(engagement: Engagement, staff: User, consultant: User, *, completed: int, days_ago: int) -> Credit:
    """Pay the 40%, complete `completed` phases, go quiet: R1 61 days after a request, 91 days
    waiting, administrative close `days_ago` days ago (R3 proposes the credit). Dated as lived."""
    waited, quiet, worked = days_ago + 91, days_ago + 91 + 61, days_ago + 91 + 61 + 20
    first = Invoice.objects.get(engagement=engagement, milestone__code="scope_confirmed")
    ledger.payment_record(actor=staff, invoice=first, paid_on=clock.today(), amount=first.total, method="transfer")
    for phase in rules.PHASES[:completed]:
        lifecycle.phase_complete(
            actor=consultant, engagement=engagement, phase=phase, reason="Avance con la información entregada"
        )
    shift_back(engagement, worked)
    mark = timezone.now()
    request = lifecycle.formal_request_send(
        actor=consultant,
        engagement=engagement,
        kind="validation",
        subject="Validación de los pedidos de prueba",
        body="Revisen los cinco pedidos de prueba y confirmen.",
        due_date=None,
    )
    _dated(engagement, since=mark, to=_ago(quiet))
    FormalRequest.objects.filter(pk=request.pk).update(sent_at=_ago(quiet))
    mark = timezone.now()
    lifecycle.engagement_transition(
        engagement=engagement, target=rules.WAITING, actor=None, reason="R1", waiting_for=request
    )
    Engagement.objects.filter(pk=engagement.pk).update(waiting_since=_ago(waited))
    _dated(engagement, since=mark, to=_ago(waited))
    mark = timezone.now()
    lifecycle.engagement_admin_close(actor=staff, engagement=engagement, reason="90 días sin respuesta del cliente")
    # The close happened `days_ago` days ago: the credit's 6 months count from then.
    Engagement.objects.filter(pk=engagement.pk).update(status_changed_at=_ago(days_ago))
    _dated(engagement, since=mark, to=_ago(days_ago))
    return Credit.objects.get(engagement=engagement, status=CreditStatus.PROPOSED)


def _ago(days: int):
    return timezone.now() - timedelta(days=days)


def _dated(engagement: Engagement, *, since, to) -> None:
    """The timeline events written since `since` happened at `to`."""
    EngagementEvent.objects.filter(engagement=engagement, created_at__gte=since).update(created_at=to)


def seed(out: TextIO) -> list[str]:
    staff = User.objects.get(email="staff@demo.test")
    consultant = User.objects.get(email="consultor@demo.test")
    ana = User.objects.get(email="ana@andina.demo.test")
    quoted = Engagement.objects.filter(title="Librería del Sur · WooCommerce").first()
    if quoted and not Quote.objects.filter(engagement=quoted).exists():
        _sent_quote(quoted, staff)
    if not Engagement.objects.filter(title="Tienda Andina · Pagos").exists():
        payments = _accepted_engagement("Tienda Andina · Pagos", "765432103", ana, staff, consultant)
        _voided_add_on(payments, ana, staff)
        _hour_bank_offer(payments, ana, staff)
    if not Engagement.objects.filter(title="Café Austral · Tienda antigua").exists():
        camila = User.objects.get(email="camila@austral.demo.test")
        old = _accepted_engagement("Café Austral · Tienda antigua", "771234569", camila, staff, consultant)
        proposal = _admin_closed(old, staff, consultant, completed=1, days_ago=20)
        ledger.credit_confirm(actor=staff, credit=proposal, amount=proposal.proposed_amount)
    if not Engagement.objects.filter(title="Librería del Sur · Tienda B2B").exists():
        diego = User.objects.get(email="diego@delsur.demo.test")
        b2b = _accepted_engagement("Librería del Sur · Tienda B2B", "965554440", diego, staff, consultant)
        _admin_closed(b2b, staff, consultant, completed=0, days_ago=2)  # the proposal waits for staff
    sent = Quote.objects.filter(status=QuoteStatus.SENT).count()
    out.write(f"Quotes: {Quote.objects.count()} ({sent} waiting for the client).\n")
    return [f"{'client':<10} diego@delsur.demo.test can accept a sent quote; ana@ has a 40% payment request"]
