"""Quote and invoice PDFs (WeasyPrint), rendered from templates with no network.

The URL fetcher serves only our own static files and `data:` URIs: a
`file://` path, a cloud metadata address or a remote stylesheet in a
document is refused, never fetched. Rendering is a pure function of the
stored document: the same invoice gives the same bytes.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

BASE_URL = "http://portal.invalid/static/"
logger = logging.getLogger(__name__)


class StaticOnlyFetcher(URLFetcher):
    def fetch(self, url: str, headers=None):
        if url.startswith(BASE_URL):
            path = finders.find(url[len(BASE_URL) :].split("?")[0])
            if path:
                with open(path, "rb") as handle:
                    mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, body=handle.read(), headers={"Content-Type": mime})
        if url.startswith("data:"):
            return super().fetch(url, headers)
        raise ValueError(f"blocked URL in PDF: {url[:80]}")


def layout(template: str, context: dict):
    """The laid-out WeasyPrint document. Always Spanish: the documents are the Chilean paper trail."""
    with translation.override("es"):
        html = render_to_string(template, {**context, "consultancy": settings.CONSULTANCY, "static": BASE_URL})
    return HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnlyFetcher()).render()


def render(template: str, context: dict) -> bytes:
    return layout(template, context).write_pdf()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
