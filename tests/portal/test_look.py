"""A product, not a scaffold: the brand from settings, one title pattern, one date format, pictures
drawn as accessible SVG, and workers that start warm."""

import runpy
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from portal import branding, charts, warmup
from portal.links import link

BASE_DIR = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def test_the_brand_stylesheet_carries_the_configured_colours_and_is_cached(client, settings, alice):
    settings.CONSULTANCY = {**settings.CONSULTANCY, "color": "#123456", "accent": "#abcdef"}
    branding.brand_css.cache_clear()
    branding.css_version.cache_clear()
    try:
        client.force_login(alice)  # signed-in answers are no-store, but not this one
        response = client.get(reverse("brand_css"))
        css = response.content.decode()
        assert response["Content-Type"].startswith("text/css") and "--brand:#123456" in css
        assert "--bs-primary-rgb:18,52,86" in css and "--brand-accent:#abcdef" in css
        assert "public" in response["Cache-Control"] and "no-store" not in response["Cache-Control"]
        page = client.get(reverse("billing:finance")).content.decode()
        assert f"/brand.css?v={branding.css_version()}" in page
    finally:
        branding.brand_css.cache_clear()
        branding.css_version.cache_clear()


def test_every_page_has_one_title_a_skip_link_a_favicon_and_the_brand(client, service):
    page = client.get(reverse("engagements:service_default")).content.decode()
    head = page.split("</head>", 1)[0]  # the pictures' own <title>s are in the body
    assert head.count("<title>") == 1 and "<title>Integración Odoo Tienda Online · AsesórateYa</title>" in head
    assert 'href="#content"' in page and 'id="content"' in page
    assert 'rel="icon"' in page and "img/logo.svg" in page and "hola@asesorateya.cl" in page
    assert client.get("/favicon.ico").status_code == 302


@pytest.mark.parametrize("language", ["es", "en"])
def test_dates_are_dd_mm_yyyy_in_both_languages(language):
    with translation.override(language):
        text = Template('{{ d|date:"SHORT_DATE_FORMAT" }} {{ t|date:"SHORT_DATETIME_FORMAT" }}').render(
            Context({"d": date(2026, 3, 9), "t": datetime(2026, 3, 9, 17, 5, tzinfo=UTC)})
        )
    assert text == "09-03-2026 09-03-2026 14:05"  # 17:05 UTC is 14:05 in Santiago (summer time)


def test_a_moment_stored_as_text_is_shown_in_the_business_time_zone():
    template = Template("{% load portal_tags %}{{ v|local_datetime }}")
    assert template.render(Context({"v": "2026-07-01T16:00:00Z"})) == "01-07-2026 12:00"
    assert template.render(Context({"v": "cursor-42"})) == "cursor-42"


def test_charts_are_accessible_svg_without_script_or_style():
    svg = charts.bars(
        [("01-2026", [Decimal(10), Decimal(5)]), ("<b>02</b>", [Decimal(0), Decimal(3)])],
        [charts.Series("Emitido", "bar-main"), charts.Series("Cobrado", "bar-second")],
        title="Emitido y cobrado",
        desc="Dos meses",
    )
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
    assert "<script" not in svg and "style=" not in svg and "<b>" not in svg and "&lt;b&gt;" in svg
    line = charts.timeline(
        [charts.Lane("Fase", [charts.Span("Planificación", date(2026, 1, 1), date(2026, 1, 9), "phase-done")])],
        today=date(2026, 1, 5),
        title="Línea",
        desc="d",
        fmt=str,
    )
    assert 'class="today"' in line and "style=" not in line


def test_links_in_lists_are_the_addresses_reverse_gives():
    assert link("engagements:detail", "E-ABC") == reverse("engagements:detail", args=["E-ABC"])


def test_the_master_warms_up_without_touching_the_database():
    with CaptureQueriesContext(connection) as queries:
        assert warmup.warm() > 40
    assert len(queries) == 0
    config = runpy.run_path(str(BASE_DIR / "deploy" / "gunicorn.conf.py"))
    assert config["preload_app"] is True and callable(config["when_ready"])
