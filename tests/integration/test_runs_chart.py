"""The integration page's runs per day: the engagement's real runs of the last 14 days, failures apart;
dry runs, product matching, runs still going, older runs and other engagements' runs left out."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from engagements.integration.models import SyncRun

pytestmark = pytest.mark.django_db


def _run(engagement, status, *, days_ago=0, flow="orders", dry_run=False) -> None:
    run = SyncRun.objects.create(engagement=engagement, flow=flow, dry_run=dry_run, status=status)
    SyncRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(days=days_ago))


def test_the_chart_counts_this_engagements_real_runs_of_two_weeks(client, make_engagement, engagement, andes, carla):
    other = make_engagement(andes)
    done, partial, failed = SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL, SyncRun.Status.FAILED
    _run(engagement, done)
    _run(engagement, done, days_ago=3)
    _run(engagement, failed, days_ago=3)
    _run(engagement, partial, days_ago=13)
    _run(engagement, done, days_ago=20)  # older than the two weeks
    _run(engagement, done, dry_run=True)
    _run(engagement, done, flow="matching")
    _run(engagement, SyncRun.Status.RUNNING)
    _run(other, failed)
    client.force_login(carla)
    page = client.get(reverse("integration:page", args=[engagement.code])).content.decode()
    chart = page[page.index('id="runs-per-day"') :]
    chart = chart[: chart.index("</details>")]
    assert "En los últimos 14 días: 2 sincronizaciones sin problemas y 2 fallidas o por revisar." in chart
    assert chart.count("<tr>") == 1 + 14  # the header and one row per day
