"""The portal's URLs plus one that fails, for the error-report tests (a 500 on a token path)."""

from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns

CANARY = "Zq7boom9Xv"


def boom(request, token):
    raise ValueError(f"refused: password={CANARY} while opening /invitation/{token}/")


urlpatterns = [path("invitation/<str:token>/boom/", boom), *portal_urlpatterns]
