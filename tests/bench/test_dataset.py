"""bench/dataset.py at a tiny size: counts, relations, and constant dashboard queries."""

import pytest
from django.db import connection, transaction
from django.db.models import Count, F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench.dataset import EMAIL_DOMAIN, PASSWORD, DatasetError, build_dataset
from billing.models import Invoice, InvoiceCounter
from engagements.models import Engagement, NextStep, Session
from portal.models import ClientCompany, Membership, User

TINY = {"companies": 3, "engagements": 12, "sessions": 60, "invoices": 10}


def build(factor: int = 1) -> str:
    return build_dataset(**{name: n * factor for name, n in TINY.items()})


def clients():
    return User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}", role="client").annotate(
        n=Count("membership__company__engagements")
    )


@pytest.mark.django_db
def test_tiny_dataset_counts_and_relations():
    build()
    companies = ClientCompany.objects.filter(billing_email__endswith=EMAIL_DOMAIN)
    assert companies.count() == 3
    assert Membership.objects.filter(company__in=companies).count() == 3
    engagements = Engagement.objects.filter(company__in=companies)
    assert engagements.count() == 12
    assert Session.objects.filter(engagement__in=engagements).count() == 60
    assert Invoice.objects.filter(engagement__in=engagements).count() == 10
    # Relations agree with each other.
    assert not Invoice.objects.exclude(company=F("engagement__company")).exists()
    assert not NextStep.objects.exclude(engagement=F("session__engagement")).exists()
    assert not Session.objects.filter(engagement__in=engagements, log_published_at__isnull=True).exists()
    numbers = sorted(Invoice.objects.filter(series="C").values_list("number", flat=True))
    assert numbers == list(range(1, 11))
    assert InvoiceCounter.objects.get(series="C").last_number == 10
    # Uneven on purpose: a light and a heavy client.
    sizes = sorted(clients().values_list("n", flat=True))
    assert sizes[0] < sizes[-1]
    # The client logs in with the known password and sees their engagements.
    user = clients().order_by("pk").first()
    browser = Client()
    assert browser.login(email=user.email, password=PASSWORD)
    response = browser.get(reverse("engagements:home"))
    assert response.status_code == 200
    page = response.content.decode()
    engagements = Engagement.objects.filter(company__memberships__user=user).exclude(status="lead")
    assert engagements.count() == user.n
    assert all(reverse("engagements:detail", args=[e.code]) in page for e in engagements)
    with pytest.raises(DatasetError, match="already"):
        build()


def dashboard_queries() -> set[int]:
    """Queries of the client dashboard for the lightest and the heaviest client."""
    counts = set()
    for user in (clients().order_by("n", "pk").first(), clients().order_by("-n", "pk").first()):
        browser = Client()
        browser.force_login(user)
        browser.get(reverse("engagements:home"))  # first request stamps the session
        with CaptureQueriesContext(connection) as queries:
            assert browser.get(reverse("engagements:home")).status_code == 200
        counts.add(len(queries.captured_queries))
    return counts


class Rollback(Exception):
    pass


@pytest.mark.django_db
def test_dashboard_queries_do_not_grow_with_the_data():
    measured = []
    for factor in (1, 4):
        try:
            with transaction.atomic():
                build(factor)
                measured.append(dashboard_queries())
                raise Rollback
        except Rollback:
            pass
    assert len(measured[0]) == 1, measured  # light and heavy client alike
    assert measured[0] == measured[1], measured  # and the same on the 4x dataset
