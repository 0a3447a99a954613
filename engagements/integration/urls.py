from django.urls import path

from engagements.integration import views

app_name = "integration"

urlpatterns = [
    path("portal/e/<str:code>/integration/", views.integration, name="page"),
    path("portal/e/<str:code>/integration/odoo/check/", views.odoo_check, name="odoo_check"),
]
