"""django-q2 entry points of billing: take ids, call one service, safe to re-run."""

from django.utils import timezone

from billing import ledger, services
from billing.webpay import services as webpay
from portal import clock


def invoice_pdf_render(invoice_id: int) -> str:
    return services.invoice_render_pdf(invoice_id=invoice_id).pdf.name


def quote_expire_sweep() -> int:
    return services.quote_expire_sweep(today=clock.today())


def credit_expire_sweep() -> int:
    return ledger.credit_expire_sweep(today=clock.today())


def invoice_reminder_sweep() -> int:
    return ledger.invoice_reminder_sweep(now=timezone.now())


def webpay_reconcile_sweep() -> int:
    return webpay.reconcile_sweep(now=timezone.now())
