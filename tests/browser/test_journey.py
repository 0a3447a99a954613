"""The whole journey in headless Chromium, one browser context per person (issue 7, item 5).

A prospect asks from the public service page; staff convert the lead and invite her; she sets her
password; the consultant completes the diagnosis; staff quote, she accepts and gets the 40 %; the
consultant runs a session and a formal request; the configuration phase issues the 30 %; the
connections are wired to the fake Odoo and WooCommerce on loopback and an order import succeeds; the
close issues the last 30 %. Everything through real clicks; only the invitation link is read from the
outbox (locmem: the live server runs in this process) and the fake servers are started here.
Screenshots: test-artifacts/journey/NN-step.png.
"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import Invoice
from engagements.models import Session
from tests.browser.helpers import sign_in
from tests.fakes.odoo import FakeOdoo, FakeOdooServer
from tests.fakes.woocommerce import FakeShop, FakeShopServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "journey"
CLIENT_EMAIL = "nina@andes-journey.test"
CLIENT_PASSWORD = "Nina-Andes-2026!"


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _success(page, text: str) -> None:
    expect(page.locator(".alert-success").filter(has_text=text)).to_be_visible()


def _recent_orders(shop: FakeShop) -> None:
    """The fake's orders are from March 2026; a first import looks 30 days back: make them recent."""
    stamp = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    for order in shop.orders.values():
        order.update(date_modified_gmt=stamp, date_modified=stamp, date_created_gmt=stamp, date_created=stamp)


def test_the_whole_journey_from_inquiry_to_close(live_server, browser, service, sam, carla, tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    nina = browser.new_context(accept_downloads=True).new_page()
    staff = browser.new_context().new_page()
    consultant = browser.new_context().new_page()

    # 1. The prospect sends an inquiry from the public service page.
    nina.goto(f"{base}/servicio/")
    form = nina.locator("form", has=nina.get_by_role("button", name="Enviar consulta"))
    form.get_by_label("Nombre").fill("Nina Rojas")
    form.get_by_label("Empresa").fill("Andes Journey SpA")
    form.get_by_label("Correo electrónico").fill(CLIENT_EMAIL)
    form.get_by_label("Teléfono").fill("+56 9 1234 5678")
    form.get_by_label("Plataforma de la tienda").select_option(label="WooCommerce")
    form.get_by_label("Versión de Odoo").fill("17")
    form.get_by_label("Alojamiento de Odoo").select_option(label="Odoo.sh")
    form.get_by_label("Mensaje").fill("Copiamos a mano los pedidos de la tienda a Odoo.")
    _shot(nina, "01-inquiry")
    form.get_by_role("button", name="Enviar consulta").click()
    expect(nina.get_by_role("heading", name="¡Gracias!")).to_be_visible()

    # 2. Staff convert the lead into an engagement of a new company and invite the contact.
    sign_in(staff, base, sam.email, totp=True)
    lead = staff.locator("li", has_text="Andes Journey SpA")
    lead.get_by_role("link", name="Convertir").click()
    staff.get_by_label("Razón social").fill("Andes Journey SpA")
    staff.get_by_label("RUT").fill("76.543.210-3")
    staff.get_by_label("Dirección").fill("Av. Apoquindo 100, Las Condes")
    staff.get_by_label("Correo de facturación").fill("pagos@andes-journey.test")
    staff.get_by_label("Consultor").select_option(value=str(carla.pk))
    expect(staff.get_by_label("Invitar al contacto al portal")).to_be_checked()
    staff.get_by_role("button", name="Convertir").click()
    _success(staff, "Prospecto convertido")
    expect(staff.locator(".badge", has_text="Diagnóstico").first).to_be_visible()
    engagement_url = staff.url.split("#")[0]
    _shot(staff, "02-lead-converted")

    # 3. The client accepts the invitation (the link from the e-mail) and sets her password.
    invitation = next(m for m in mail.outbox if CLIENT_EMAIL in m.to and "/invitation/" in m.body)
    path = re.search(r"/invitation/[^\s/]+/", invitation.body).group(0)
    nina.goto(f"{base}{path}")
    expect(nina.get_by_text("Andes Journey SpA").first).to_be_visible()
    nina.get_by_label("Contraseña", exact=True).fill(CLIENT_PASSWORD)
    nina.get_by_label("Repita la contraseña").fill(CLIENT_PASSWORD)
    nina.get_by_role("button", name="Crear mi cuenta").click()
    _success(nina, "Su cuenta está lista")
    # Her home first (what she owes, what we need, when, what next), her engagement a click away.
    assert nina.url.split("#")[0] == f"{base}/portal/"
    nina.locator(f"main a[href='{engagement_url.removeprefix(base)}']").first.click()
    nina.wait_for_url(engagement_url)
    _shot(nina, "03-invitation-accepted")

    # 4. The consultant completes the diagnosis, as-is flows first.
    sign_in(consultant, base, carla.email, totp=True)
    consultant.goto(engagement_url)
    consultant.locator("#actions").get_by_role("link", name="Diagnóstico").click()
    consultant.get_by_label("Flujo actual de pedidos").fill("Los pedidos de WooCommerce se copian a mano en Odoo.")
    consultant.get_by_label("Flujo actual de productos").fill("Los productos se crean dos veces.")
    consultant.get_by_label("Acceso a la API externa").select_option(value="yes")
    consultant.get_by_label("Responsable de validación", exact=True).fill("Operaciones")
    consultant.get_by_label("Pedidos", exact=True).select_option(value="shop_to_odoo")
    consultant.get_by_label("Stock", exact=True).select_option(value="odoo_to_shop")
    _shot(consultant, "04-diagnosis")
    consultant.get_by_role("button", name="Guardar y marcar como completo").click()
    _success(consultant, "Diagnóstico completado.")

    # 5. Staff issue a quote; the client accepts it; the 40 % payment request and its PDF appear.
    staff.goto(engagement_url)
    staff.get_by_role("link", name="Nueva cotización").click()
    staff.get_by_label("Válida hasta").fill((timezone.localdate() + timedelta(days=30)).isoformat())
    staff.locator("input[name=line_0_description]").fill("Integración Odoo ↔ WooCommerce")
    staff.locator("input[name=line_0_quantity]").fill("1")
    staff.locator("input[name=line_0_unit_price]").fill("2000000")
    staff.get_by_role("button", name="Guardar borrador").click()
    staff.get_by_role("button", name="Enviar al cliente").click()
    _success(staff, "Cotización enviada al cliente.")
    _shot(staff, "05a-quote-sent")

    nina.goto(engagement_url)
    nina.get_by_role("link", name="Cotización v1").click()
    nina.get_by_label("Su nombre completo").fill("Nina Rojas")
    nina.get_by_label("He leído y acepto la política comercial").check()
    nina.get_by_role("button", name="Aceptar", exact=True).click()
    _success(nina, "Cotización aceptada")
    first = Invoice.objects.get(milestone__event="scope_confirmed")
    billing = nina.locator("#billing")
    expect(
        billing.locator("tr", has_text=first.display_number).get_by_role("link", name=first.display_number)
    ).to_be_visible()
    with nina.expect_download() as download:
        billing.locator("tr", has_text=first.display_number).get_by_role("link", name="PDF").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    _shot(nina, "05b-quote-accepted-first-invoice")

    # 6. The consultant schedules the first session and publishes its log; the client reads it.
    consultant.goto(engagement_url)
    first_session = consultant.locator("#sessions .border").first
    when = timezone.localtime() + timedelta(days=1)
    first_session.get_by_label("Fecha y hora").fill(when.strftime("%Y-%m-%dT%H:%M"))
    first_session.get_by_label("Enlace de la videollamada").fill("https://meet.example.test/andes")
    first_session.get_by_role("button", name="Agendar").click()
    _success(consultant, "Sesión agendada")
    expect(consultant.locator("#sessions")).to_contain_text("El registro se puede escribir una vez realizada")
    # The next day: the session has been held (a log needs a held session).
    Session.objects.filter(engagement__code=engagement_url.rstrip("/").rsplit("/", 1)[-1], number=1).update(
        scheduled_at=timezone.now() - timedelta(hours=1)
    )
    consultant.reload()
    consultant.locator("#sessions").get_by_role("link", name="Escribir el registro").first.click()
    consultant.get_by_label("Objetivo de la sesión").fill("Levantar el flujo de pedidos")
    consultant.get_by_label("Actividad realizada").fill("Revisamos pedidos, catálogo e impuestos")
    consultant.get_by_label("Tiempo utilizado (minutos)").fill("55")
    consultant.locator("input[name=step_0_description]").fill("Compartir la planilla de SKU")
    consultant.locator("select[name=step_0_owner]").select_option(value="client")
    consultant.locator("input[name=step_0_due_date]").fill((timezone.localdate() + timedelta(days=7)).isoformat())
    consultant.get_by_role("button", name="Publicar registro").click()
    _success(consultant, "Registro publicado")

    nina.goto(engagement_url)
    expect(nina.locator("#sessions")).to_contain_text("Revisamos pedidos, catálogo e impuestos")
    expect(nina.get_by_text("Compartir la planilla de SKU")).to_be_visible()
    _shot(nina, "06-session-log")

    # 7. A formal request, answered by the client with a file.
    requests = consultant.locator("#requests")
    requests.get_by_text("Nueva solicitud formal").click()
    requests.get_by_label("Tipo").select_option(value="access")
    requests.get_by_label("Asunto").fill("Usuario API de la tienda")
    requests.get_by_label("Lo que se solicita").fill("Cree un usuario API de solo lectura en WooCommerce.")
    requests.get_by_role("button", name="Enviar solicitud").click()
    _success(consultant, "Solicitud formal enviada al cliente.")

    nina.goto(engagement_url)
    asked = nina.locator("#requests .border", has_text="Usuario API de la tienda")
    proof = tmp_path / "credenciales.pdf"
    proof.write_bytes(b"%PDF-1.4\n% credenciales de la tienda\n")
    asked.get_by_label("Su respuesta").fill("Usuario creado: api-odoo")
    asked.get_by_label("Archivos").set_input_files(str(proof))
    asked.get_by_role("button", name="Enviar respuesta").click()
    _success(nina, "su respuesta fue enviada a la consultora")
    nina.get_by_text("Solicitudes respondidas").click()
    expect(nina.get_by_role("link", name="credenciales.pdf")).to_be_visible()
    _shot(nina, "07-request-answered")

    # 8. Planning and configuration completed: the confirmation page lists what is not done (session 2
    # never held, the checklist not delivered), the consultant gives a reason; the 30 % is issued.
    for missing in ("La sesión 2 no se ha realizado", "La sesión 3 no se ha realizado"):
        consultant.goto(engagement_url)
        consultant.get_by_role("link", name="Completar fase actual").click()
        expect(consultant.locator("#phase-gaps")).to_contain_text(missing)
        _shot(consultant, "08a-phase-confirmation")
        consultant.get_by_label("Motivo para completar la fase").fill("Acordado con el cliente en la sesión 1")
        consultant.get_by_role("button", name="Completar la fase de todas formas").click()
        _success(consultant, "Fase completada.")
    second = Invoice.objects.get(milestone__event="phase_completed:configuration")
    nina.goto(engagement_url)
    expect(
        nina.locator("#billing tr", has_text=second.display_number).get_by_role("link", name=second.display_number)
    ).to_be_visible()
    _shot(nina, "08-configuration-done-second-invoice")

    # 9. The connections to the fake Odoo and WooCommerce, the order settings, and an import.
    odoo, shop = FakeOdoo(), FakeShop()
    _recent_orders(shop)
    with FakeOdooServer(odoo) as odoo_server, FakeShopServer(shop) as shop_server:
        consultant.goto(engagement_url)
        consultant.locator("#integration").get_by_role("link", name="Conexiones").click()
        odoo_card = consultant.locator(".card", has=consultant.get_by_role("heading", name="Odoo", exact=True))
        odoo_card.get_by_label("URL de Odoo").fill(odoo_server.url)
        odoo_card.get_by_label("Base de datos").fill("lab")
        odoo_card.get_by_label("Usuario (login)").fill("admin")
        odoo_card.get_by_label("Clave API").fill("admin")
        odoo_card.get_by_role("button", name="Guardar").click()
        _success(consultant, "Conexión guardada")
        shop_card = consultant.locator(".card", has=consultant.get_by_role("heading", name="Tienda", exact=True))
        shop_card.get_by_label("Plataforma").select_option(value="woocommerce")
        shop_card.get_by_label("URL de la tienda").fill(shop_server.url)
        shop_card.get_by_label("Clave API / consumer key").fill("ck_demo")
        shop_card.get_by_label("Secreto API / consumer secret").fill("cs_demo")
        shop_card.get_by_role("button", name="Guardar").click()
        _success(consultant, "Conexión guardada")
        odoo_card.get_by_role("button", name="Probar conexión").click()  # the check's part follows the worker
        expect(consultant.locator("#odoo-check")).to_contain_text("Conectado a Odoo 17.0")
        shop_card.get_by_role("button", name="Probar conexión").click()
        expect(consultant.locator("#shop-check")).to_contain_text("Conectado a la tienda (WooCommerce")

        consultant.get_by_role("link", name="Configuración de pedidos").click()
        consultant.get_by_label("Activo").check()
        consultant.get_by_label("Confirmar el pedido de venta en Odoo").check()
        consultant.get_by_label("Impuesto de Odoo para precios con IVA incluido (id)").fill("4")
        consultant.get_by_label("Producto de Odoo para el despacho (id)").fill("12")
        consultant.get_by_label("Producto de Odoo para recargos y descuentos (id)").fill("13")
        consultant.get_by_label("Producto de Odoo para líneas por revisar (id)").fill("14")
        consultant.get_by_role("button", name="Guardar").click()
        _success(consultant, "Configuración guardada.")

        consultant.get_by_role("button", name="Importar pedidos ahora").click()  # runs inline (Q_SYNC)
        runs = consultant.locator("#runs tbody tr")  # the runs list (the chart above has its own table)
        expect(runs.first.locator(".badge")).to_have_text("Exitosa", timeout=20_000)
        expect(runs.first).to_contain_text("creados 2")
        _shot(consultant, "09a-integration-run")
        runs.first.get_by_role("link").first.click()
        expect(consultant.locator(".badge").first).to_have_text("Exitosa")
        expect(consultant.locator("main")).to_contain_text("creados 2")
        _shot(consultant, "09b-run-report")
    assert len(odoo.data["sale.order"]) == 2

    # 10. Testing completed, then the close: the last 30 % payment request is issued.
    consultant.goto(engagement_url)
    consultant.get_by_role("link", name="Completar fase actual").click()
    consultant.get_by_label("Motivo para completar la fase").fill("Pruebas validadas por Operaciones")
    consultant.get_by_role("button", name="Completar la fase de todas formas").click()
    _success(consultant, "Fase completada.")
    close = consultant.locator("#actions form", has=consultant.get_by_role("button", name="Cerrar: entregado"))
    close.get_by_label("Motivo").fill("Integración validada por Operaciones")
    close.get_by_role("button", name="Cerrar: entregado").click()
    _success(consultant, "El proyecto está cerrado.")
    _shot(consultant, "10a-closed")

    last = Invoice.objects.get(milestone__event="closed")
    nina.goto(engagement_url)
    expect(nina.locator(".badge", has_text="Cerrado").first).to_be_visible()
    billing = nina.locator("#billing")
    for invoice in (first, second, last):
        row = billing.locator("tr", has_text=invoice.display_number)
        expect(row.get_by_role("link", name=invoice.display_number)).to_be_visible()
    expect(billing).to_contain_text("documentos no tributarios")
    _shot(nina, "10b-client-closed-three-invoices")
