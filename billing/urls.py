from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("portal/e/<str:code>/quotes/new/", views.quote_new, name="quote_new"),
    path("portal/quotes/<uuid:public_id>/", views.quote_detail, name="quote"),
    path("portal/quotes/<uuid:public_id>/pdf/", views.quote_pdf, name="quote_pdf"),
    path("portal/quotes/<uuid:public_id>/send/", views.quote_send, name="quote_send"),
    path("portal/quotes/<uuid:public_id>/accept/", views.quote_accept, name="quote_accept"),
    path("portal/quotes/<uuid:public_id>/decline/", views.quote_decline, name="quote_decline"),
    path("portal/invoices/<uuid:public_id>/pdf/", views.invoice_pdf, name="invoice_pdf"),
]
