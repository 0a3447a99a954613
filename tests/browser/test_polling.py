"""No page reloads itself: the integration page, a run's page and the matching page poll the part that
changes (htmx, under the strict CSP), stop once nothing runs, and say what changed in an aria-live line.
What a person is typing meanwhile stays where it is."""

import pytest
from django.utils import timezone

from engagements.integration.models import SyncItem, SyncRun
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WAIT = 10_000  # ms: a poll comes every 3 s


@pytest.fixture
def violations(page):
    seen: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and seen.append(message.text))
    return seen


def _finish(run: SyncRun, **counts) -> None:
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.SUCCEEDED, finished_at=timezone.now(), counts=counts)


def _no_reload(page) -> None:
    page.evaluate("() => { window.notReloaded = true; }")  # a reload would forget it


def test_the_runs_table_follows_a_run_without_reloading_the_half_typed_form(
    live_server, page, violations, engagement, carla
):
    run = SyncRun.objects.create(engagement=engagement, flow="orders")  # running
    sign_in(page, live_server.url, carla.email, totp=True)
    page.goto(f"{live_server.url}/portal/e/{engagement.code}/integration/")
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    assert page.get_attribute("#runs", "hx-trigger") == "every 3s"
    assert page.get_attribute("#runs-status", "aria-live") == "polite"
    _no_reload(page)
    page.fill("#odoo_url", "https://nuevo.odoo.com")
    page.fill("#odoo_api_key", "clave-a-medio-escri")
    _finish(run, listed=3, created=3)
    page.locator("#runs .badge.run-succeeded").wait_for(timeout=WAIT)
    assert page.evaluate("() => window.notReloaded") is True
    assert page.input_value("#odoo_api_key") == "clave-a-medio-escri" and page.input_value("#odoo_url").startswith(
        "https://nuevo"
    )
    assert "creados 3" in page.inner_text("#runs")
    assert page.inner_text("#runs-status") == "Ninguna ejecución en curso."  # read out once
    assert page.get_attribute("#runs", "hx-trigger") is None  # nothing runs: the polling stopped
    assert violations == []


def test_a_run_page_and_the_matching_page_follow_their_run_without_reloading(
    live_server, page, violations, engagement, carla
):
    run = SyncRun.objects.create(engagement=engagement, flow="stock")
    sign_in(page, live_server.url, carla.email, totp=True)
    page.goto(f"{live_server.url}/portal/runs/{run.public_id}/")
    _no_reload(page)
    SyncItem.objects.create(run=run, kind="product_variant", external_id="501", outcome="updated", action="updated")
    _finish(run, listed=1, updated=1)
    page.locator("#run-report .badge.run-succeeded").wait_for(timeout=WAIT)
    assert page.evaluate("() => window.notReloaded") is True
    assert "501" in page.inner_text("#run-report") and page.get_attribute("#run-report", "hx-trigger") is None
    assert "terminó" in page.inner_text("#run-status")

    matching = SyncRun.objects.create(engagement=engagement, flow="matching", dry_run=True)
    page.goto(f"{live_server.url}/portal/e/{engagement.code}/integration/products/")
    _no_reload(page)
    assert page.is_disabled("#matching button")  # no second proposal while one runs
    _finish(matching, listed=0)
    page.locator("#matching .badge.run-succeeded").wait_for(timeout=WAIT)
    assert page.evaluate("() => window.notReloaded") is True and page.is_enabled("#matching button")
    assert page.get_attribute("#matching", "hx-trigger") is None
    assert violations == []
