"""The brand's stylesheet and the favicon address browsers ask for by themselves."""

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from portal.branding import brand_css

YEAR = 365 * 24 * 3600


@require_GET
def brand_stylesheet(request: HttpRequest) -> HttpResponse:
    """The same for everyone and versioned by its content (`?v=`): cached by browsers for a year."""
    response = HttpResponse(brand_css(), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    response.public_asset = True  # portal.middleware.PrivateCacheMiddleware leaves it cacheable
    return response


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which some browsers request whatever the page's <link rel="icon"> says."""
    response = HttpResponseRedirect(static("img/favicon.ico"))
    response["Cache-Control"] = "public, max-age=86400"
    response.public_asset = True
    return response
