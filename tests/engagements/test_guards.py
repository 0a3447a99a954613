"""The guards of issue 13 on the services and the pages: R2 before day 90, phase completion with
what is not done, logs only for held sessions, next steps marked by their side, the estimate
paused while waiting and no health once ended."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import formats, timezone

from billing.models import Credit
from engagements import rules, services
from engagements.errors import AdminCloseTooEarly, PhaseIncomplete, SessionNotHeld, StepNotYours
from engagements.models import ChecklistItem, ChecklistStatus, Engagement, NextStep, Session
from engagements.services.lifecycle import business_tz
from tests.conftest import login_with_mfa
from tests.engagements.fixtures import hold_session, log_session, send_request, wait_for_days

pytestmark = pytest.mark.django_db


class TestAdministrativeClose:
    def test_refused_on_day_89_naming_the_first_allowed_day_and_allowed_on_day_90(self, engagement, sam):
        services.engagement_transition(engagement=engagement, target=rules.WAITING, actor=None, reason="R1")
        wait_for_days(engagement, 89)
        with pytest.raises(AdminCloseTooEarly) as refused:
            services.engagement_admin_close(actor=sam, engagement=engagement, reason="Sin respuesta")
        assert refused.value.first_allowed == timezone.localdate() + timedelta(days=1)
        assert formats.date_format(refused.value.first_allowed, "SHORT_DATE_FORMAT") in str(refused.value.message)
        engagement.refresh_from_db()
        assert engagement.status == rules.WAITING and not Credit.objects.exists()
        wait_for_days(engagement, 90)
        services.engagement_admin_close(actor=sam, engagement=engagement, reason="Sin respuesta")
        engagement.refresh_from_db()
        assert engagement.status == rules.ADMIN_CLOSED

    def test_a_hold_of_day_one_can_only_be_cancelled_and_is_recorded_as_such(self, engagement, sam):
        services.engagement_hold(actor=sam, engagement=engagement, reason="El cliente pidió pausar")
        with pytest.raises(AdminCloseTooEarly):
            services.engagement_admin_close(actor=sam, engagement=engagement, reason="Cerrar ya")
        services.engagement_cancel(actor=sam, engagement=engagement, reason="El cliente desiste")
        engagement.refresh_from_db()
        event = engagement.events.filter(kind="engagement.status_changed").first()
        assert engagement.status == rules.CANCELLED and (event.new_status, event.reason) == (
            rules.CANCELLED,
            "El cliente desiste",
        )
        assert not Credit.objects.exists()  # a cancellation is not an administrative close: no credit

    def test_the_page_shows_the_first_day_instead_of_the_button_and_the_refusal_is_translated(
        self, client, engagement, sam
    ):
        services.engagement_hold(actor=sam, engagement=engagement, reason="Pausa")
        wait_for_days(engagement, 10)
        login_with_mfa(client, sam)
        page = client.get(reverse("engagements:detail", args=[engagement.code])).content.decode()
        first = formats.date_format(timezone.localdate() + timedelta(days=80), "SHORT_DATE_FORMAT")
        assert f"Cierre administrativo posible desde el {first}" in page and 'data-action="admin_close"' not in page
        assert 'data-action="cancel"' in page
        url = reverse("engagements:action", args=[engagement.code, "admin_close"])
        response = client.post(url, {"reason": "Sin respuesta"}, follow=True)
        assert f"El cierre administrativo es posible desde el {first}" in response.content.decode()
        engagement.refresh_from_db()
        assert engagement.status == rules.WAITING


def _finish_planning(engagement, carla, alice) -> None:
    """Everything planning asks for: its two sessions held and logged, the required items verified."""
    for number in (1, 2):
        log_session(engagement.sessions.get(number=number), carla)
    for item in engagement.checklist.filter(required_for_access=True):
        services.checklist_deliver(actor=alice, item=item, note="ok")
        services.checklist_review(actor=carla, item=item, accept=True)


class TestPhaseCompletion:
    def test_nothing_done_is_refused_without_a_reason_and_nothing_moves(self, engagement, carla):
        send_request(engagement, carla, subject="Usuario API")
        with pytest.raises(PhaseIncomplete) as refused:
            services.phase_complete(actor=carla, engagement=engagement, phase=rules.PLANNING)
        gaps = refused.value.gaps
        assert gaps.sessions_not_held == [1, 2] and gaps.open_requests == ["Usuario API"]
        assert gaps.deliverables_pending == ["shop_access", "channel", "current_flow", "validation_owner"]
        engagement.refresh_from_db()
        assert (engagement.phase, engagement.progress_percent) == (rules.PLANNING, 0)

    def test_completing_anyway_keeps_the_reason_and_what_was_missing(self, engagement, carla):
        services.phase_complete(actor=carla, engagement=engagement, phase=rules.PLANNING, reason="Cliente apurado")
        engagement.refresh_from_db()
        event = engagement.events.get(kind="engagement.phase_completed")
        assert engagement.phase == rules.CONFIGURATION and event.reason == "Cliente apurado"
        assert event.data["overridden"]["sessions_not_held"] == [1, 2]

    def test_a_phase_done_needs_no_reason_and_progress_follows_the_terms_weights(self, engagement, carla, alice):
        engagement.terms.phase_weights = {**rules.DEFAULT_PHASE_WEIGHTS, rules.PLANNING: 20}
        engagement.terms.save(update_fields=["phase_weights"])
        _finish_planning(engagement, carla, alice)
        services.phase_complete(actor=carla, engagement=engagement, phase=rules.PLANNING)
        engagement.refresh_from_db()
        assert (engagement.phase, engagement.progress_percent) == (rules.CONFIGURATION, 20)

    def test_a_held_session_without_its_log_is_listed(self, engagement, carla):
        hold_session(engagement.sessions.get(number=1), carla)
        gaps = services.phase_gaps_of(engagement, rules.PLANNING)
        assert (gaps.sessions_not_held, gaps.sessions_not_logged) == ([2], [1])

    def test_the_confirmation_page_lists_the_gaps_and_needs_a_reason(self, client, engagement, carla, alice):
        send_request(engagement, carla, subject="Usuario API")
        login_with_mfa(client, carla)
        url = reverse("engagements:phase_complete", args=[engagement.code])
        page = client.get(url).content.decode()
        for text in ("La sesión 1 no se ha realizado", "Accesos y credenciales", "“Usuario API”"):
            assert text in page, text
        response = client.post(url, {"phase": rules.PLANNING, "reason": ""})
        assert response.status_code == 200 and "Indique un motivo" in response.content.decode()
        engagement.refresh_from_db()
        assert engagement.phase == rules.PLANNING
        client.post(url, {"phase": rules.PLANNING, "reason": "Se acordó seguir"})
        engagement.refresh_from_db()
        assert engagement.phase == rules.CONFIGURATION and engagement.progress_percent == 15
        client.force_login(alice)
        detail = client.get(reverse("engagements:detail", args=[engagement.code])).content.decode()
        assert "Fase completada con puntos pendientes" in detail

    def test_a_second_submit_does_not_complete_the_next_phase(self, client, engagement, carla):
        login_with_mfa(client, carla)
        url = reverse("engagements:phase_complete", args=[engagement.code])
        client.post(url, {"phase": rules.PLANNING, "reason": "x"})
        client.post(url, {"phase": rules.PLANNING, "reason": "x"})  # the same form again
        engagement.refresh_from_db()
        assert engagement.phase == rules.CONFIGURATION

    def test_the_one_click_action_is_gone(self, client, engagement, carla):
        login_with_mfa(client, carla)
        response = client.post(reverse("engagements:action", args=[engagement.code, "complete_phase"]))
        assert response.status_code == 403
        engagement.refresh_from_db()
        assert engagement.phase == rules.PLANNING


class TestSessionLogs:
    def test_a_session_never_scheduled_cannot_be_logged(self, engagement, carla):
        session = engagement.sessions.get(number=1)
        with pytest.raises(SessionNotHeld):
            log = {"objective": "o", "activity": "a", "minutes_used": 60, "progress_status": "on_track"}
            steps = [{"description": "s", "owner": "client", "due_date": timezone.localdate()}]
            services.session_log_publish(actor=carla, session=session, values=log, next_steps=steps)
        session.refresh_from_db()
        assert session.log_published_at is None

    def test_a_session_scheduled_later_today_cannot_be_logged_yet_and_can_once_held(self, engagement, carla):
        session = engagement.sessions.get(number=1)
        log = {"objective": "o", "activity": "a", "minutes_used": 60, "progress_status": "on_track"}
        steps = [{"description": "s", "owner": "client", "due_date": timezone.localdate()}]
        services.session_schedule(
            actor=carla, session=session, scheduled_at=timezone.now() + timedelta(minutes=5), video_link="https://m.x"
        )
        with pytest.raises(SessionNotHeld):
            services.session_log_publish(actor=carla, session=session, values=log, next_steps=steps)
        Session.objects.filter(pk=session.pk).update(scheduled_at=timezone.now() - timedelta(minutes=1))
        services.session_log_publish(actor=carla, session=session, values=log, next_steps=steps)

    def test_held_sessions_without_a_log_after_two_business_days_are_listed(self, client, engagement, carla, sam):
        tz = business_tz()
        cutoff = rules.day_starts(rules.log_overdue_before(timezone.localdate()), tz)
        late, in_time = (hold_session(engagement.sessions.get(number=n), carla) for n in (1, 2))
        Session.objects.filter(pk=late.pk).update(scheduled_at=cutoff - timedelta(minutes=1))
        Session.objects.filter(pk=in_time.pk).update(scheduled_at=cutoff + timedelta(hours=9))
        for user in (carla, sam):
            client.logout()
            login_with_mfa(client, user)
            page = client.get(reverse("engagements:home")).content.decode()
            section = page[page.index('id="logs-overdue"') :]
            assert "sesión 1:" in section and "sesión 2:" not in section, user

    def test_the_log_button_appears_once_the_session_is_held(self, client, engagement, carla):
        session = engagement.sessions.get(number=1)
        services.session_schedule(
            actor=carla, session=session, scheduled_at=timezone.now() + timedelta(days=2), video_link="https://m.x"
        )
        login_with_mfa(client, carla)
        url = reverse("engagements:detail", args=[engagement.code])
        log_url = reverse("engagements:session_log", args=[session.public_id])
        assert log_url not in client.get(url).content.decode()
        Session.objects.filter(pk=session.pk).update(scheduled_at=timezone.now() - timedelta(hours=1))
        assert log_url in client.get(url).content.decode()


class TestNextSteps:
    @pytest.fixture
    def steps(self, engagement, carla):
        log_session(
            engagement.sessions.get(number=1),
            carla,
            steps=[
                {"description": "Enviar SKU", "owner": "client", "due_date": timezone.localdate()},
                {"description": "Configurar impuestos", "owner": "consultant", "due_date": timezone.localdate()},
            ],
        )
        return engagement.next_steps.get(owner="client"), engagement.next_steps.get(owner="consultant")

    def test_the_client_marks_their_own_step_but_not_the_consultancys(self, steps, alice):
        own, theirs = steps
        services.next_step_set_done(actor=alice, step=own, done=True)
        with pytest.raises(StepNotYours):
            services.next_step_set_done(actor=alice, step=theirs, done=True)
        assert NextStep.objects.get(pk=own.pk).done_at and not NextStep.objects.get(pk=theirs.pk).done_at

    def test_the_consultancy_marks_either(self, steps, carla):
        for step in steps:
            services.next_step_set_done(actor=carla, step=step, done=True)
        assert not NextStep.objects.filter(done_at__isnull=True).exists()

    def test_the_page_offers_the_action_only_where_allowed(self, client, steps, alice):
        own, theirs = steps
        client.force_login(alice)
        url = reverse("engagements:detail", args=[own.engagement.code])
        page = client.get(url).content.decode()
        assert "Marcar como hecho" in page and ">Completado<" not in page
        assert reverse("engagements:step_toggle", args=[own.public_id]) in page
        assert reverse("engagements:step_toggle", args=[theirs.public_id]) not in page
        response = client.post(reverse("engagements:step_toggle", args=[theirs.public_id]), {"done": "1"}, follow=True)
        assert "Solo la consultora o la parte responsable" in response.content.decode()
        assert not NextStep.objects.get(pk=theirs.pk).done_at


class TestHealthOnThePage:
    def _access_complete(self, engagement, days_ago: int) -> None:
        ChecklistItem.objects.filter(engagement=engagement, required_for_access=True).update(
            status=ChecklistStatus.VERIFIED, delivered_at=timezone.now() - timedelta(days=days_ago)
        )
        Engagement.objects.filter(pk=engagement.pk).update(scope_confirmed_at=timezone.now() - timedelta(days=days_ago))

    def test_waiting_on_the_client_shows_paused_with_what_and_since_when_never_late(
        self, client, engagement, carla, alice
    ):
        self._access_complete(engagement, 100)  # far past the 6 weeks: "late" if it were active
        request = send_request(engagement, carla, subject="Usuario API")
        _sent = datetime.combine(timezone.localdate() - timedelta(days=70), time(10), tzinfo=business_tz())
        type(request).objects.filter(pk=request.pk).update(sent_at=_sent)
        services.client_wait_sweep(now=timezone.now())
        client.force_login(alice)
        url = reverse("engagements:detail", args=[engagement.code])
        page = client.get(url).content.decode()
        assert "health-paused" in page and "health-late" not in page and "Atrasado" not in page
        assert "Esperamos la respuesta a la solicitud formal “Usuario API”" in page
        assert f"En pausa desde el {formats.date_format(timezone.localdate(), 'SHORT_DATE_FORMAT')}" in page

    def test_an_ended_engagement_shows_no_health(self, client, engagement, carla, sam, alice):
        self._access_complete(engagement, 100)
        client.force_login(alice)
        url = reverse("engagements:detail", args=[engagement.code])
        assert "Atrasado" in client.get(url).content.decode()  # active and past the window: late
        services.engagement_hold(actor=sam, engagement=engagement, reason="x")
        wait_for_days(engagement, 90)
        services.engagement_admin_close(actor=sam, engagement=engagement, reason="90 días")
        page = client.get(url).content.decode()
        assert "Atrasado" not in page and "health-" not in page
