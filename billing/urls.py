from django.urls import path

from billing import views
from billing.webpay import views as webpay

app_name = "billing"

urlpatterns = [
    path("portal/e/<str:code>/quotes/new/", views.quote_new, name="quote_new"),
    path("portal/quotes/<uuid:public_id>/", views.quote_detail, name="quote"),
    path("portal/quotes/<uuid:public_id>/pdf/", views.quote_pdf, name="quote_pdf"),
    path("portal/quotes/<uuid:public_id>/send/", views.quote_send, name="quote_send"),
    path("portal/quotes/<uuid:public_id>/accept/", views.quote_accept, name="quote_accept"),
    path("portal/quotes/<uuid:public_id>/decline/", views.quote_decline, name="quote_decline"),
    path("portal/invoices/<uuid:public_id>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("portal/invoices/<uuid:public_id>/", views.invoice_detail, name="invoice"),
    path("portal/invoices/<uuid:public_id>/payments/", views.payment_new, name="payment_new"),
    path("portal/invoices/<uuid:public_id>/issue/", views.invoice_issue, name="invoice_issue"),
    path("portal/invoices/<uuid:public_id>/void/", views.invoice_void, name="invoice_void"),
    path("portal/invoices/<uuid:public_id>/credit/", views.credit_apply, name="credit_apply"),
    path("portal/invoices/<uuid:public_id>/webpay/", webpay.webpay_start, name="webpay_start"),
    path("portal/webpay/return/", webpay.webpay_return, name="webpay_return"),
    path("portal/webpay/<uuid:public_id>/", webpay.webpay_attempt, name="webpay_attempt"),
    path("portal/payments/<uuid:public_id>/refund/", webpay.payment_refund, name="payment_refund"),
    path("portal/credits/<uuid:public_id>/confirm/", views.credit_confirm, name="credit_confirm"),
    path("portal/finance/", views.finance, name="finance"),
    path("portal/finance/invoices.csv", views.invoices_csv, name="invoices_csv"),
    path("portal/finance/payments.csv", views.payments_csv, name="payments_csv"),
]
