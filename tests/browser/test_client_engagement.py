"""A client in headless Chromium: dashboard, answering a formal request with a file, reading a log."""

from pathlib import Path

import pytest
from django.utils import timezone

from engagements import services
from engagements.models import FormalRequest
from tests.conftest import PASSWORD
from tests.engagements.fixtures import hold_session, send_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_a_client_answers_a_request_with_a_file_and_reads_the_log(
    live_server, page, engagement, alice, carla, tmp_path
):
    ARTIFACTS.mkdir(exist_ok=True)
    request = send_request(engagement, carla, days_ago=12, subject="Usuario API de la tienda")
    session = hold_session(engagement.sessions.first(), carla)
    services.session_log_publish(
        actor=carla,
        session=session,
        values={
            "objective": "Levantar el flujo actual",
            "activity": "Revisamos pedidos y catálogo",
            "minutes_used": 55,
            "progress_status": "on_track",
        },
        next_steps=[{"description": "Compartir planilla de SKU", "owner": "client", "due_date": timezone.localdate()}],
    )

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", alice.email)
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    _open_engagement(page, live_server.url, engagement)
    content = page.content()
    assert "Usuario API de la tienda" in content and "12" in page.locator("#requests .badge").first.inner_text()
    assert "Revisamos pedidos y catálogo" in content and "Compartir planilla de SKU" in content
    page.screenshot(path=str(ARTIFACTS / "client-engagement.png"), full_page=True)

    proof = tmp_path / "credenciales.pdf"
    proof.write_bytes(b"%PDF-1.4\n% credenciales de la tienda\n")
    form = page.locator(f"form[action$='/requests/{request.public_id}/answer/']")
    form.locator("textarea[name=answer]").fill("Usuario creado: api-odoo")
    form.locator("input[type=file]").set_input_files(str(proof))
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".alert-success").count() == 1

    request = FormalRequest.objects.get(pk=request.pk)
    assert request.answer == "Usuario creado: api-odoo"
    assert request.attachments.get().original_name == "credenciales.pdf"
    page.screenshot(path=str(ARTIFACTS / "client-engagement-answered.png"), full_page=True)


def test_a_full_disk_shows_the_reason_by_the_file_field_and_keeps_the_answer(
    live_server, page, engagement, alice, carla, tmp_path, disk_fills_on
):
    request = send_request(engagement, carla, subject="Planilla de productos")
    disk_fills_on(1)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", alice.email)
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    _open_engagement(page, live_server.url, engagement)

    sheet = tmp_path / "productos.pdf"
    sheet.write_bytes(b"%PDF-1.4\n" + b"0" * 200_000)
    form = page.locator(f"form[action$='/requests/{request.public_id}/answer/']")
    form.locator("textarea[name=answer]").fill("Adjunto la planilla con 420 productos")
    form.locator("input[type=file]").set_input_files(str(sheet))
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()

    form = page.locator(f"form[action$='/requests/{request.public_id}/answer/']")
    assert form.locator("textarea[name=answer]").input_value() == "Adjunto la planilla con 420 productos"
    files = form.locator("input[type=file]")
    assert files.get_attribute("aria-invalid") == "true"
    described_by = files.get_attribute("aria-describedby").split()
    assert all(page.locator(f"#{name}").count() == 1 for name in described_by)  # every id it names exists
    error = page.locator(f"#{next(name for name in described_by if name.endswith('-error'))}")
    assert "No se pudo guardar el archivo en el servidor" in error.inner_text() and error.is_visible()
    assert page.locator(".alert-danger").count() >= 1  # and a word at the top of the page
    assert FormalRequest.objects.get(pk=request.pk).answered_at is None
    page.screenshot(path=str(ARTIFACTS / "client-engagement-disk-full.png"), full_page=True)


def _open_engagement(page, base, engagement) -> None:
    """From the sign-in to the engagement as a client goes: the home answers first, the engagement
    is a click away."""
    page.wait_for_url(f"{base}/portal/")
    page.locator(f"main a[href='/portal/e/{engagement.code}/']").first.click()
    page.wait_for_url(f"{base}/portal/e/{engagement.code}/")
