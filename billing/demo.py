"""Demo quotes (seed_demo, after the engagements' demo): idempotent.

- "Librería del Sur · WooCommerce" (quoted) gets a sent quote that the demo
  client diego@ can accept in the portal;
- "Tienda Andina · Pagos" is quoted and accepted through the real flow, so
  its 40% payment request exists with its PDF.
"""

from decimal import Decimal
from typing import TextIO

from billing import ledger, services
from billing.models import Credit, CreditStatus, Quote, QuoteStatus
from engagements import services as lifecycle
from engagements.demo import DIAGNOSIS
from engagements.models import Engagement
from portal.models import ClientCompany, User

LINES = [
    services.LineInput("Integración Odoo ↔ tienda online (alcance según diagnóstico)", Decimal(1), Decimal(2400000)),
    services.LineInput("Configuración de impuestos y despacho", Decimal(1), Decimal(350000)),
]


def _sent_quote(engagement: Engagement, staff: User) -> Quote:
    quote = services.quote_create(actor=staff, engagement=engagement, lines=LINES)
    return services.quote_send(actor=staff, quote=quote)


def seed(out: TextIO) -> list[str]:
    staff = User.objects.get(email="staff@demo.test")
    consultant = User.objects.get(email="consultor@demo.test")
    quoted = Engagement.objects.filter(title="Librería del Sur · WooCommerce").first()
    if quoted and not Quote.objects.filter(engagement=quoted).exists():
        _sent_quote(quoted, staff)
    if not Engagement.objects.filter(title="Tienda Andina · Pagos").exists():
        service = lifecycle.service_publish_catalogue()
        lead = lifecycle.inquiry_submit(
            service=service,
            request=None,
            data={
                "name": "Ana Andina",
                "company_name": "Tienda Andina SpA",
                "email": "ana@andina.demo.test",
                "phone": "",
                "shop_platform": "woocommerce",
                "odoo_version": "17",
                "odoo_hosting": "odoo_sh",
                "message": "Pagos.",
            },
        )
        Engagement.objects.filter(pk=lead.pk).update(title="Tienda Andina · Pagos")
        company = ClientCompany.objects.get(rut="765432103")
        lifecycle.lead_convert(
            actor=staff, request=None, engagement=lead, consultant=consultant, company=company, invite_contact=False
        )
        lifecycle.diagnosis_save(actor=consultant, engagement=lead, values=DIAGNOSIS, complete=True)
        quote = _sent_quote(lead, staff)
        services.quote_accept(
            user=User.objects.get(email="ana@andina.demo.test"),
            quote=quote,
            full_name="Ana Andina",
            accepted_policy=True,
            shown_sha256=quote.pdf_sha256,
            request=None,
        )
    closed = Engagement.objects.filter(title="Café Austral · Tienda antigua").first()
    proposal = Credit.objects.filter(engagement=closed, status=CreditStatus.PROPOSED).first() if closed else None
    if proposal is not None:
        ledger.credit_confirm(
            actor=staff,
            credit=proposal,
            amount=Decimal(450000),
            reason="Anticipo pagado fuera del portal; trabajo ejecutado menor al hito",
        )
    sent = Quote.objects.filter(status=QuoteStatus.SENT).count()
    out.write(f"Quotes: {Quote.objects.count()} ({sent} waiting for the client).\n")
    return [f"{'client':<10} diego@delsur.demo.test can accept a sent quote; ana@ has a 40% payment request"]
