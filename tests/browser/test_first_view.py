"""What each person sees first (issue 15), in headless Chromium on the demo data (`seed_demo`).

Per role: the answers the first page must give (the client's four, the consultant's flags, staff's
money), and on every key page axe-core (vendored, run in the page) finds no serious or critical
violation, no English word is left in the Spanish page, and screenshots at 1366 and 390 px are
saved under test-artifacts/first-view/.
"""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from billing.models import Invoice, InvoiceStatus, Quote, QuoteStatus
from engagements.integration.models import SyncRun
from engagements.models import Engagement, Session
from tests.browser.a11y import check_page
from tests.conftest import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Portal.Demo-2026"
TOTP = {"staff@demo.test": "JBSWY3DPEHPK3PXP", "consultor@demo.test": "KRSXG5CTMVRXEZLU"}  # seed_demo's
FOLDER = "first-view"


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--i-know-this-is-not-production", stdout=StringIO())


def _person(browser, base: str, email: str):
    """A Chilean browser signed in as `email` (staff and consultants answer the TOTP step)."""
    page = browser.new_context(locale="es-CL", timezone_id="America/Santiago").new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    if email in TOTP:
        page.wait_for_url(f"{base}/accounts/2fa/authenticate/")
        page.fill("#id_code", totp_code(TOTP[email]))
        page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/portal/")
    return page


def _code(title: str) -> str:
    return Engagement.objects.get(title=title).code


def test_a_visitor_reads_the_service_page_and_the_sign_in(live_server, browser, demo):
    page = browser.new_context(locale="es-CL").new_page()
    page.goto(f"{live_server.url}/servicio/")
    expect(page).to_have_title("Integración Odoo Tienda Online · AsesórateYa")
    for heading in ("¿Es para usted?", "El alcance", "5 sesiones con usted, incluidas", "Estructura de pago"):
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.locator(".hero-facts")).to_contain_text("4 a 6 semanas")
    expect(page.get_by_role("img", name="Estructura de pago")).to_be_visible()  # the 40/30/30 bar, an SVG
    expect(page.get_by_role("button", name="Enviar consulta")).to_be_visible()
    check_page(page, FOLDER, "01-service-page")
    page.goto(f"{live_server.url}/accounts/login/")
    check_page(page, FOLDER, "02-sign-in")
    assert page.request.get(f"{live_server.url}/favicon.ico").status == 200


def test_a_client_gets_the_four_answers_on_the_home_page(live_server, browser, demo):
    """Ana (Tienda Andina): what she owes, what is needed from her (the hour-bank quote, the open
    requests), when each engagement is done, and her next session with its .ics."""
    owed = Invoice.objects.get(company__legal_name="Tienda Andina SpA", status=InvoiceStatus.ISSUED)
    quote = Quote.objects.get(engagement__title="Tienda Andina · Pagos", status=QuoteStatus.SENT)
    session = Session.objects.get(engagement__title="Tienda Andina · WooCommerce", status="scheduled")
    page = _person(browser, live_server.url, "ana@andina.demo.test")
    page.set_viewport_size({"width": 1366, "height": 768})
    answers = page.locator("#answers")

    owe = answers.locator("#owe")
    expect(owe).to_contain_text("CLP 1.309.000")
    expect(owe.get_by_role("link", name=owed.display_number)).to_be_visible()
    expect(owe.get_by_role("link", name="Pagar por transferencia")).to_be_visible()  # Webpay is off here

    needs = answers.locator("#needs")
    expect(needs.locator(".figure")).to_have_text(re.compile(r"^\d+ pendientes$"))
    expect(page.locator("#all-needs")).to_contain_text(f"Cotización v{quote.version}")
    expect(page.locator("#all-needs")).to_contain_text("Acceso de administrador a la tienda")

    when = answers.locator("#when")
    expect(when).to_contain_text("Tienda Andina · WooCommerce")
    expect(when.get_by_text(re.compile(r"entre el \d\d-\d\d-\d{4} y el \d\d-\d\d-\d{4}")).first).to_be_visible()

    upcoming = answers.locator("#next")
    expect(upcoming).to_contain_text(f"Sesión {session.number}: {session.title_es}")
    with page.expect_download() as download:
        upcoming.get_by_role("link", name="Agregar al calendario (.ics)").click()
    ics = download.value.path().read_text()
    assert "METHOD:PUBLISH" in ics and f"UID:session-{session.public_id}@portal" in ics

    # All four are above the fold on a laptop.
    for answer in ("#owe", "#needs", "#when", "#next"):
        box = page.locator(answer).bounding_box()
        assert box["y"] < 768, answer
    check_page(page, FOLDER, "03-client-home")

    page.goto(f"{live_server.url}{reverse('engagements:detail', args=[_code('Tienda Andina · WooCommerce')])}")
    expect(page.get_by_role("img", name=re.compile("^Línea de tiempo de Tienda Andina"))).to_be_visible()
    check_page(page, FOLDER, "04-client-engagement")
    page.goto(f"{live_server.url}{reverse('billing:quote', args=[quote.public_id])}")
    expect(page.get_by_role("heading", name="Aceptar la cotización")).to_be_visible()
    check_page(page, FOLDER, "05-client-quote")
    page.goto(f"{live_server.url}{reverse('billing:finance')}")
    expect(page.locator("table tfoot")).to_contain_text("Total en CLP")
    expect(page.locator("table")).to_contain_text("Tienda Andina · Pagos")  # the engagement column
    check_page(page, FOLDER, "06-client-payment-requests")
    page.goto(f"{live_server.url}{reverse('billing:invoice', args=[owed.public_id])}")
    expect(page.get_by_role("heading", name="Pagar por transferencia")).to_be_visible()
    check_page(page, FOLDER, "07-client-payment-request")


def test_a_consultant_sees_what_needs_action_first(live_server, browser, demo):
    page = _person(browser, live_server.url, "consultor@demo.test")
    expect(page.locator("nav .nav-count")).to_have_text(re.compile(r"^\d+"))
    rows = page.locator("table tbody tr")
    jumpseller = rows.filter(has_text="Café Austral · Jumpseller")
    for flag in ("connection", "runs", "r2"):
        expect(jumpseller.locator(f"[data-flag={flag}]")).to_be_visible()
    marketplace = rows.filter(has_text="Tienda Andina · Marketplace B2B")
    expect(marketplace.locator("[data-flag=logs]")).to_contain_text("1 sesión realizada sin registro")
    expect(marketplace.locator("[data-flag=answers]")).to_contain_text("1 respuesta nueva del cliente")
    # What needs most action comes first: the flagged rows before the others.
    flagged = [rows.nth(i).locator("[data-flag]").count() > 0 for i in range(rows.count())]
    assert flagged == sorted(flagged, reverse=True)
    check_page(page, FOLDER, "08-consultant-worklist")

    marketplace.get_by_role("link", name="Tienda Andina · Marketplace B2B").click()
    expect(page.get_by_text("Respuesta nueva")).to_be_visible()
    check_page(page, FOLDER, "09-consultant-engagement")
    unlogged = Session.objects.get(engagement__title="Tienda Andina · Marketplace B2B", number=4)
    page.goto(f"{live_server.url}{reverse('engagements:session_log', args=[unlogged.public_id])}")
    page.get_by_role("button", name="Publicar registro").click()  # empty: errors next to the fields
    objective = page.get_by_label("Objetivo de la sesión")
    expect(objective).to_have_attribute("aria-invalid", "true")
    described = objective.get_attribute("aria-describedby")
    assert described and page.locator(f"#{described}").is_visible()
    check_page(page, FOLDER, "10-session-log-form")

    jumpseller_code = _code("Café Austral · Jumpseller")
    page.goto(f"{live_server.url}{reverse('integration:page', args=[jumpseller_code])}")
    expect(page.get_by_role("img", name="Sincronizaciones por día")).to_be_visible()
    check_page(page, FOLDER, "11-integration-page")
    run = SyncRun.objects.filter(engagement__code=jumpseller_code, status="partial").first()
    page.goto(f"{live_server.url}{reverse('integration:run', args=[run.public_id])}")
    expect(page.locator("#run-report")).to_contain_text("creados 3")
    check_page(page, FOLDER, "12-run-report")


def test_staff_see_the_pipeline_and_the_money_at_a_glance(live_server, browser, demo):
    page = _person(browser, live_server.url, "staff@demo.test")
    expect(page.locator("table tbody tr").first.locator("[data-flag]").first).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^Prospecto"))).to_be_visible()
    check_page(page, FOLDER, "13-staff-pipeline")
    page.goto(f"{live_server.url}{reverse('billing:finance')}")
    expect(page.get_by_role("img", name="Por cobrar según antigüedad, CLP")).to_be_visible()
    expect(page.get_by_role("img", name="Emitido y cobrado por mes, CLP")).to_be_visible()
    expect(page.locator("table tfoot")).to_contain_text("Total en CLP")
    check_page(page, FOLDER, "14-staff-finance")
