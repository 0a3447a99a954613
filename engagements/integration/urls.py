from django.urls import path

from engagements.integration import views

app_name = "integration"

urlpatterns = [
    path("portal/e/<str:code>/integration/", views.integration, name="page"),
    path("portal/e/<str:code>/integration/odoo/check/", views.odoo_check, name="odoo_check"),
    path("portal/e/<str:code>/integration/shop/check/", views.shop_check, name="shop_check"),
    path("portal/e/<str:code>/integration/part/<slug:part>/", views.integration_part, name="part"),
    path("portal/e/<str:code>/integration/run/<slug:flow>/", views.run_now, name="run_now"),
    path("portal/runs/<uuid:public_id>/", views.run_detail, name="run"),
    path("portal/runs/<uuid:public_id>/progress/", views.run_progress, name="run_progress"),
    path("portal/e/<str:code>/integration/settings/<slug:flow>/", views.flow_settings, name="flow_settings"),
    path("portal/e/<str:code>/integration/products/", views.bindings, name="bindings"),
    path("portal/e/<str:code>/integration/products/state/", views.bindings_state, name="bindings_state"),
    path("portal/e/<str:code>/integration/products/propose/", views.bindings_propose, name="bindings_propose"),
    path("portal/e/<str:code>/integration/products/approve/", views.bindings_approve, name="bindings_approve"),
    path("integration/webhooks/<str:token>/", views.webhook, name="webhook"),
]
