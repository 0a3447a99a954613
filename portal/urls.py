from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from portal import assets, health, views

# The admin uses the portal's login (rate limits, MFA) instead of its own form.
admin.site.login = secure_admin_login(admin.site.login)

portal_patterns = [
    path("", views.home, name="home"),
    path("portal/companies/", views.company_list, name="company_list"),
    path("portal/companies/new/", views.company_create, name="company_create"),
    path("portal/companies/<uuid:public_id>/", views.company_detail, name="company_detail"),
    path("portal/companies/<uuid:public_id>/edit/", views.company_edit, name="company_edit"),
    path("portal/invitations/<uuid:public_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("portal/invitations/<uuid:public_id>/resend/", views.invitation_resend, name="invitation_resend"),
    path("portal/members/<uuid:public_id>/remove/", views.membership_remove, name="membership_remove"),
    path("portal/team/", views.team, name="team"),
    path("portal/team/<uuid:public_id>/role/", views.user_role, name="user_role"),
    path("invitation/<str:token>/", views.invitation_accept, name="invitation_accept"),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),  # public by design: see portal/health.py
    path("brand.css", assets.brand_stylesheet, name="brand_css"),
    path("favicon.ico", assets.favicon, name="favicon"),
    path("", include((portal_patterns, "portal"))),
    path("", include("engagements.urls")),
    path("", include("billing.urls")),
    path("", include("engagements.integration.urls")),
    path("", include("books.urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
