"""{% if invoice|webpay_payable %}: whether the page offers "Pagar con Webpay"."""

from django import template

from billing.webpay.services import can_pay

register = template.Library()


@register.filter
def webpay_payable(invoice) -> bool:
    return can_pay(invoice)
