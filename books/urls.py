from django.urls import path

from books import views

app_name = "books"

urlpatterns = [
    path("portal/books/", views.page, name="page"),
    path("portal/books/check/", views.check, name="check"),
    path("portal/books/pull/", views.pull, name="pull"),
    path("portal/books/runs/<uuid:public_id>/", views.run_detail, name="run"),
    path("portal/books/pushes/<uuid:public_id>/retry/", views.push_retry, name="push_retry"),
    path("portal/books/pushes/<uuid:public_id>/handled/", views.push_handled, name="push_handled"),
    path("portal/invoices/<uuid:public_id>/odoo/send/", views.document_send, name="document_send"),
    path("portal/invoices/<uuid:public_id>/odoo/pdf/", views.document_pdf, name="document_pdf"),
]
