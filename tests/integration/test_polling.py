"""The parts of the integration pages that follow the worker: a part answers 204 while what it shows is
unchanged, itself and its status line when it changed, and stops polling once nothing runs."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from engagements.integration.models import SyncRun

pytestmark = pytest.mark.django_db


def _seen(html: str) -> str:
    return re.search(r"\?seen=(\w+)", html).group(1)


PAGES = {  # flow: (the page, its polled part), from the engagement and the run
    "orders": (
        lambda e, r: reverse("integration:page", args=[e.code]),
        lambda e, r: reverse("integration:part", args=[e.code, "runs"]),
    ),
    "matching": (
        lambda e, r: reverse("integration:bindings", args=[e.code]),
        lambda e, r: reverse("integration:bindings_state", args=[e.code]),
    ),
    "stock": (
        lambda e, r: reverse("integration:run", args=[r.public_id]),
        lambda e, r: reverse("integration:run_progress", args=[r.public_id]),
    ),
}


@pytest.mark.parametrize("flow", sorted(PAGES))
def test_a_part_polls_while_its_run_goes_on_and_stops_after(client, engagement, carla, flow):
    client.force_login(carla)
    run = SyncRun.objects.create(engagement=engagement, flow=flow, dry_run=flow == "matching")
    page_url, part_url = (url(engagement, run) for url in PAGES[flow])
    html = client.get(page_url).content.decode()
    assert 'http-equiv="refresh"' not in html and 'hx-trigger="every 3s"' in html
    assert 'aria-live="polite"' in html and "htmx-2.min.js" in html
    seen = _seen(html)
    assert client.get(part_url, {"seen": seen}).status_code == 204  # nothing changed: nothing swapped
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.FAILED, finished_at=timezone.now())
    answer = client.get(part_url, {"seen": seen})
    body = answer.content.decode()
    assert answer.status_code == 200 and "hx-trigger" not in body  # the part without a trigger: polling stops
    assert 'hx-swap-oob="innerHTML"' in body and "run-failed" in body
