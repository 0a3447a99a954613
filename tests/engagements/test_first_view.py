"""What each person sees first: the client's four answers, the worklists' flags, reasons read in
Spanish, forms that keep what was typed, and lists that do not grow in queries with the data."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing import services as billing
from billing.models import Invoice
from engagements import rules, services
from engagements.integration.models import Health, ShopConnection, SyncRun
from engagements.models import ChecklistItem, ChecklistStatus, FormalRequest
from engagements.selectors import client_home, consultant_worklist
from engagements.selectors.worklist import action_count
from tests.billing.fixtures import accept
from tests.engagements.fixtures import hold_session, send_request, wait_for_days

pytestmark = pytest.mark.django_db


def _quote(engagement, sam, carla, amount="1000000"):
    from tests.engagements.fixtures import DIAGNOSIS

    services.diagnosis_save(actor=carla, engagement=engagement, values=DIAGNOSIS, complete=True)
    quote = billing.quote_create(
        actor=sam, engagement=engagement, lines=[billing.LineInput("Integración", Decimal(1), Decimal(amount))]
    )
    return billing.quote_send(actor=sam, quote=quote)


# ---------------------------------------------------------------- the client's home


def test_the_home_answers_what_i_owe_what_you_need_when_and_what_next(make_engagement, andes, alice, sam, carla, otra):
    active = make_engagement(andes)
    send_request(active, carla, days_ago=12, subject="Usuario API")
    session = active.sessions.get(number=1)
    start = timezone.now() + timedelta(days=2)
    services.session_schedule(actor=carla, session=session, scheduled_at=start, video_link="https://meet.x/s")
    quoted = make_engagement(andes, rules.DIAGNOSIS)
    accept(_quote(quoted, sam, carla), alice)  # the 40 % payment request: owed
    waiting_quote = _quote(make_engagement(andes, rules.DIAGNOSIS), sam, carla, "500000")
    make_engagement(otra)  # another company's: nothing of it

    home = client_home(alice)
    owe = home.owe[0].context
    first = Invoice.objects.get(engagement=quoted)
    assert owe["totals"] == [{"currency": "CLP", "due": first.total, "overdue": Decimal(0), "n": 1}]
    assert owe["documents"] == [first]
    kinds = {(need.kind, need.engagement.pk) for need in home.needs}
    assert ("request", active.pk) in kinds and ("quote", waiting_quote.engagement.pk) in kinds
    assert ("deliverable", active.pk) in kinds  # the checklist is not delivered yet
    assert home.needs == sorted(home.needs, key=lambda n: -n.days) and home.needs[0].days >= 12
    assert home.next_session == session and {row.engagement.pk for row in home.running} >= {active.pk, quoted.pk}
    assert all(row.engagement.company_id == andes.pk for row in home.running)


def test_a_paused_engagement_says_since_when_for_what_and_when_it_may_be_closed(make_engagement, andes, alice, carla):
    engagement = make_engagement(andes)
    request = send_request(engagement, carla, days_ago=70, subject="Credenciales de la tienda")
    services.engagement_transition(
        engagement=engagement, target=rules.WAITING, actor=None, reason="R1", waiting_for=request
    )
    wait_for_days(engagement, 20)
    when = next(row.when for row in client_home(alice).running if row.engagement.pk == engagement.pk)
    assert when.health == rules.PAUSED and when.waiting_for == "Credenciales de la tienda"
    assert when.waiting_since == timezone.localdate() - timedelta(days=20)
    assert when.admin_close_from == services.admin_close_first_day(engagement)


def test_the_home_page_shows_the_four_answers_in_spanish(client, make_engagement, andes, alice, carla):
    engagement = make_engagement(andes)
    send_request(engagement, carla, days_ago=3, subject="Usuario API")
    client.force_login(alice)
    page = client.get(reverse("engagements:home")).content.decode()
    for title in ("Lo que debe", "Lo que necesitamos de usted", "Cuándo estará listo", "Qué sigue"):
        assert title in page
    assert "Usuario API" in page and "espera hace 3 días" in page


def test_the_home_runs_the_same_queries_with_four_times_the_data(client, make_engagement, andes, alice, carla, sam):
    def grow(n):
        for _ in range(n):
            engagement = make_engagement(andes)
            send_request(engagement, carla, subject="R")
            hold_session(engagement.sessions.get(number=1), carla)

    def count():
        client.get(reverse("engagements:home"))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("engagements:home")).status_code == 200
        return len(queries)

    grow(1)
    accept(_quote(make_engagement(andes, rules.DIAGNOSIS), sam, carla), alice)
    client.force_login(alice)
    one = count()
    grow(3)
    accept(_quote(make_engagement(andes, rules.DIAGNOSIS), sam, carla), alice)
    assert count() == one <= 10


# ---------------------------------------------------------------- worklists


def test_the_worklist_flags_what_needs_action_and_puts_it_first(make_engagement, andes, otra, alice, carla):
    quiet, busy = make_engagement(otra), make_engagement(andes)
    request = send_request(busy, carla, subject="Validación")
    services.formal_request_answer(actor=alice, request=request, text="Validado", files=[])
    item = ChecklistItem.objects.filter(engagement=busy).first()
    services.checklist_deliver(actor=alice, item=item, note="Enviado")
    hold_session(busy.sessions.get(number=1), carla, hours_ago=24 * 6)  # held 6 days ago, no log
    ShopConnection.objects.create(
        engagement=busy, platform="woocommerce", base_url="https://t.example", health=Health.FAILING
    )
    SyncRun.objects.create(engagement=busy, flow="orders", status=SyncRun.Status.FAILED)

    rows = consultant_worklist(carla)
    assert [row.engagement.pk for row in rows][:1] == [busy.pk]
    kinds = {flag.kind for flag in rows[0].flags}
    assert {"answers", "deliverables", "logs", "connection", "runs"} <= kinds
    assert not next(row for row in rows if row.engagement.pk == quiet.pk).flags
    assert action_count(carla) == 1


def test_the_sixty_day_mark_is_flagged_three_weeks_ahead(make_engagement, andes, carla):
    engagement = make_engagement(andes)
    send_request(engagement, carla, days_ago=45)
    row = next(r for r in consultant_worklist(carla) if r.engagement.pk == engagement.pk)
    assert row.r1_on == timezone.localdate() + timedelta(days=16)
    assert [f.kind for f in row.flags] == ["r1"]


def test_a_waiting_engagement_shows_since_when_on_the_worklist(client, make_engagement, andes, carla):
    engagement = make_engagement(andes, rules.WAITING)
    wait_for_days(engagement, 5)
    client.force_login(carla)
    page = client.get(reverse("engagements:home")).content.decode()
    since = (timezone.localdate() - timedelta(days=5)).strftime("%d-%m-%Y")
    assert f"En espera por cliente desde el {since}" in page


# ---------------------------------------------------------------- one voice


def test_reasons_the_portal_wrote_are_read_in_spanish(client, make_engagement, andes, carla):
    engagement = make_engagement(andes, rules.DIAGNOSIS)  # converted by staff: "lead converted"
    client.force_login(carla)
    page = client.get(reverse("engagements:history", args=[engagement.code])).content.decode()
    assert "prospecto convertido" in page and "lead converted" not in page


# ---------------------------------------------------------------- forms


def test_a_refused_formal_request_comes_back_with_its_errors_and_what_was_typed(client, engagement, carla):
    client.force_login(carla)
    url = reverse("engagements:request_send", args=[engagement.code])
    page = client.post(url, {"kind": "access", "subject": "", "body": "Necesitamos el usuario API"})
    html = page.content.decode()
    assert page.status_code == 200 and "Necesitamos el usuario API" in html
    assert 'aria-describedby="request_subject_error"' in html and 'id="request_subject_error"' in html
    assert 'class="form-control is-invalid"' in html or "is-invalid" in html
    assert not FormalRequest.objects.filter(engagement=engagement).exists()


def test_a_new_quote_is_not_offered_before_the_diagnosis_is_complete(client, make_engagement, andes, sam):
    engagement = make_engagement(andes, rules.DIAGNOSIS)
    client.force_login(sam)
    page = client.get(reverse("engagements:detail", args=[engagement.code])).content.decode()
    new_quote = reverse("billing:quote_new", args=[engagement.code])
    assert new_quote not in page, page[page.find(new_quote) - 400 : page.find(new_quote) + 50]
    assert 'id="quote-not-yet"' in page
    response = client.get(reverse("billing:quote_new", args=[engagement.code]))
    assert response.status_code == 302  # back to the engagement, saying why: never a form that fails


def test_the_history_is_paginated(client, engagement, alice, carla):
    for n in range(30):
        services.internal_note_add(actor=carla, engagement=engagement, body=f"n{n}")  # not for clients
        send_request(engagement, carla, subject=f"Solicitud {n}")
    client.force_login(alice)
    url = reverse("engagements:history", args=[engagement.code])
    first = client.get(url).content.decode()
    assert "Solicitud 29" in first and "Página 1 de" in first and "Solicitud 0<" not in first
    detail = client.get(reverse("engagements:detail", args=[engagement.code])).content.decode()
    assert url in detail  # "Ver todo el historial"


def test_deliverables_verified_leave_the_home(make_engagement, andes, alice, carla):
    engagement = make_engagement(andes)
    ChecklistItem.objects.filter(engagement=engagement).update(
        status=ChecklistStatus.VERIFIED, delivered_at=timezone.now()
    )
    assert not [n for n in client_home(alice).needs if n.kind == "deliverable"]
