"""Lifecycle services: each move is one service, evented, guarded; hooks run in the same transaction."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from engagements import hooks, rules, services
from engagements.models import ChecklistItem, Engagement, EngagementEvent, ServiceTerms, Session
from engagements.services.lifecycle import business_tz
from portal.errors import DomainError
from tests.engagements.fixtures import INQUIRY, hold_session, wait_for_days

pytestmark = pytest.mark.django_db


class TestServiceTerms:
    def test_publishing_twice_keeps_one_version(self, service):
        services.service_publish_catalogue()
        assert ServiceTerms.objects.filter(service=service).count() == 1

    def test_changed_terms_make_a_new_version_and_running_engagements_keep_theirs(self, engagement, service):
        old = engagement.terms
        services.service_publish(
            slug=service.slug,
            content={"name_es": service.name_es},
            terms={
                "sessions": old.sessions[:4],
                "milestone_plan": old.milestone_plan,
                "policy_es": "Nueva política",
                "policy_en": "New policy",
            },
        )
        engagement.refresh_from_db()
        assert engagement.terms == old and old.version == 1
        assert services.service_current_terms(service).version == 2
        assert engagement.sessions.count() == 5

    def test_the_catalogue_has_five_one_hour_sessions_and_a_40_30_30_plan(self, service):
        terms = services.service_current_terms(service)
        assert [s["minutes"] for s in terms.sessions] == [60] * 5 and terms.included_minutes == 300
        assert [m["percent"] for m in terms.milestone_plan] == [40, 30, 30]
        assert (terms.wait_after_days, terms.close_after_days, terms.credit_validity_months) == (60, 90, 6)


class TestInquiryAndConversion:
    def test_an_inquiry_becomes_a_lead_and_staff_are_notified(self, service, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            engagement = services.inquiry_submit(service=service, data=dict(INQUIRY), request=None)
        assert engagement.status == rules.LEAD and engagement.company is None
        assert mail.outbox[-1].to == ["office@consultora.test"]

    def test_converting_a_lead_creates_the_company_invites_and_assigns(self, service, sam, carla):
        engagement = services.inquiry_submit(service=service, data=dict(INQUIRY), request=None)
        services.lead_convert(
            actor=sam,
            request=None,
            engagement=engagement,
            consultant=carla,
            new_company={"legal_name": "Andes SpA", "rut": "76.543.210-3", "address": "x", "billing_email": "a@a.cl"},
        )
        engagement.refresh_from_db()
        assert engagement.status == rules.DIAGNOSIS and engagement.consultant == carla
        assert engagement.company.rut == "765432103"
        assert engagement.company.invitations.get().email == "nina@andes.test"

    def test_conversion_needs_a_consultant_and_a_company(self, service, sam, alice):
        engagement = services.inquiry_submit(service=service, data=dict(INQUIRY), request=None)
        with pytest.raises(DomainError):
            services.lead_convert(actor=sam, request=None, engagement=engagement, consultant=None, new_company=None)
        with pytest.raises(DomainError):
            services.lead_convert(actor=sam, request=None, engagement=engagement, consultant=alice, new_company=None)
        engagement.refresh_from_db()
        assert engagement.status == rules.LEAD and engagement.company is None


class TestDiagnosisAndQuote:
    def test_a_quote_needs_a_complete_diagnosis(self, make_engagement, andes, sam):
        engagement = make_engagement(andes, rules.DIAGNOSIS)
        with pytest.raises(DomainError) as refused:
            services.engagement_mark_quoted(actor=sam, engagement=engagement)
        assert refused.value.message == services.DIAGNOSIS_INCOMPLETE

    def test_completing_needs_the_as_is_flow(self, make_engagement, andes, carla):
        engagement = make_engagement(andes, rules.DIAGNOSIS)
        with pytest.raises(DomainError):
            services.diagnosis_save(actor=carla, engagement=engagement, values={"risks": "x"}, complete=True)
        assert not engagement.diagnosis.is_complete

    def test_odoo_online_without_api_cannot_be_completed(self, make_engagement, andes, carla):
        engagement = make_engagement(andes, rules.DIAGNOSIS)
        values = {
            "as_is_order_flow": "a",
            "as_is_product_flow": "b",
            "validation_owner_name": "c",
            "flows": {"orders": "shop_to_odoo"},
            "odoo_hosting": "odoo_online",
            "external_api": "no",
        }
        with pytest.raises(DomainError) as refused:
            services.diagnosis_save(actor=carla, engagement=engagement, values=values, complete=True)
        assert refused.value.message == services.DIAGNOSIS_NO_API


class TestScopeConfirmation:
    def test_it_creates_sessions_checklist_and_plan_and_starts_the_clock(self, engagement):
        assert engagement.status == rules.ACTIVE and engagement.phase == rules.PLANNING
        assert engagement.scope_confirmed_at is not None
        assert list(engagement.sessions.values_list("number", flat=True)) == [1, 2, 3, 4, 5]
        assert engagement.checklist.count() == 5
        assert list(engagement.phases.values_list("phase", flat=True)) == list(rules.PHASES)

    def test_confirming_twice_changes_nothing(self, engagement, sam):
        services.engagement_confirm_scope(actor=sam, engagement=engagement)
        assert engagement.sessions.count() == 5

    def test_the_hook_runs_inside_the_transition(self, make_engagement, andes, sam):
        engagement = make_engagement(andes, rules.QUOTED)
        seen = []

        def subscriber(*, engagement, actor):
            seen.append(engagement.status)
            raise RuntimeError("billing failed")

        hooks.register(hooks.SCOPE_CONFIRMED, subscriber)
        try:
            with pytest.raises(RuntimeError):
                services.engagement_confirm_scope(actor=sam, engagement=engagement)
        finally:
            hooks.unregister(hooks.SCOPE_CONFIRMED, subscriber)
        engagement.refresh_from_db()
        # The subscriber saw the new status, and its failure rolled the whole move back.
        assert seen == [rules.ACTIVE]
        assert engagement.status == rules.QUOTED and not Session.objects.filter(engagement=engagement).exists()


class TestPhasesAndClose:
    def test_completing_configuration_runs_the_phase_hook(self, engagement, carla):
        calls = []
        subscriber = lambda **kw: calls.append(kw["phase"])  # noqa: E731
        hooks.register(hooks.PHASE_COMPLETED, subscriber)
        try:
            services.phase_complete(actor=carla, engagement=engagement, phase=rules.PLANNING, reason="r")
            services.phase_complete(actor=carla, engagement=engagement, phase=rules.CONFIGURATION, reason="r")
        finally:
            hooks.unregister(hooks.PHASE_COMPLETED, subscriber)
        engagement.refresh_from_db()
        assert calls == [rules.PLANNING, rules.CONFIGURATION]
        assert engagement.phase == rules.TESTING and engagement.progress_percent == 60

    def test_only_the_current_phase_can_be_completed(self, engagement, carla):
        with pytest.raises(DomainError):
            services.phase_complete(actor=carla, engagement=engagement, phase=rules.TESTING)

    def test_closing_needs_the_closing_phase(self, engagement, carla):
        with pytest.raises(DomainError) as refused:
            services.engagement_close(actor=carla, engagement=engagement, reason="x")
        assert refused.value.message == services.CLOSE_BEFORE_CLOSING

    def test_a_client_cannot_move_an_engagement(self, engagement, alice):
        with pytest.raises(DomainError) as refused:
            services.engagement_hold(actor=alice, engagement=engagement, reason="x")
        assert "role" in str(refused.value.message).lower() or "rol" in str(refused.value.message).lower()
        engagement.refresh_from_db()
        assert engagement.status == rules.ACTIVE

    def test_every_move_is_an_event_with_actor_and_reason(self, engagement, sam):
        services.engagement_hold(actor=sam, engagement=engagement, reason="Sin respuesta")
        event = EngagementEvent.objects.filter(kind="engagement.status_changed").first()
        assert (event.old_status, event.new_status, event.actor, event.reason) == (
            rules.ACTIVE,
            rules.WAITING,
            sam,
            "Sin respuesta",
        )

    def test_a_hold_needs_a_reason(self, engagement, sam):
        with pytest.raises(DomainError):
            services.engagement_hold(actor=sam, engagement=engagement, reason=" ")


class TestWaitingClock:
    def test_a_hold_is_kept_as_a_period_and_reactivation_restarts_the_clock(self, engagement, sam):
        services.engagement_hold(actor=sam, engagement=engagement, reason="x")
        wait_for_days(engagement, 12)
        services.engagement_reactivate(actor=sam, engagement=engagement, reason="entregó")
        engagement.refresh_from_db()
        today = timezone.localdate()
        assert engagement.past_waits == [(today - timedelta(days=12), today)]
        assert engagement.waiting_since is None and not engagement.held_manually
        assert rules.local_date(engagement.reactivated_at, business_tz()) == today

    def test_a_wait_begun_in_the_repeated_hour_of_the_april_change_starts_that_local_day(self, engagement, sam):
        services.engagement_hold(actor=sam, engagement=engagement, reason="x")
        since = datetime(2026, 4, 4, 23, 30, fold=1, tzinfo=business_tz())  # already 5 April in UTC
        Engagement.objects.filter(pk=engagement.pk).update(waiting_since=since)
        services.engagement_reactivate(actor=sam, engagement=engagement, reason="entregó")
        engagement.refresh_from_db()
        assert engagement.past_waits[0][0] == date(2026, 4, 4)


class TestChecklist:
    def test_deliver_then_verify_or_send_back(self, engagement, alice, carla):
        item = engagement.checklist.first()
        services.checklist_deliver(actor=alice, item=item, note="Clave enviada")
        services.checklist_review(actor=carla, item=item, accept=False, note="Falta el usuario API")
        item.refresh_from_db()
        assert item.status == "returned" and item.consultant_note == "Falta el usuario API"
        with pytest.raises(DomainError):
            services.checklist_review(actor=carla, item=item, accept=False, note="")

    def test_access_complete_is_the_day_the_last_required_item_was_delivered(self, engagement, alice):
        from engagements.selectors import access_complete_on
        from engagements.services.lifecycle import business_tz

        items = list(ChecklistItem.objects.filter(engagement=engagement, required_for_access=True))
        for item in items[:-1]:
            services.checklist_deliver(actor=alice, item=item, note="ok")
        assert access_complete_on(list(engagement.checklist.all()), business_tz()) is None
        services.checklist_deliver(actor=alice, item=items[-1], note="ok")
        for day, item in enumerate(items, start=1):  # the last one delivered on 4 May, late evening
            ChecklistItem.objects.filter(pk=item.pk).update(
                delivered_at=datetime(2026, 5, day, 23, tzinfo=business_tz())
            )
        assert access_complete_on(list(engagement.checklist.all()), business_tz()).isoformat() == "2026-05-04"


def test_a_failed_service_leaves_nothing_half_saved(engagement, carla):
    session = hold_session(engagement.sessions.first(), carla)
    with pytest.raises(DomainError) as refused, transaction.atomic():
        services.session_log_publish(
            actor=carla,
            session=session,
            values={"objective": "o", "activity": "a", "minutes_used": 60, "progress_status": "on_track"},
            next_steps=[],
        )
    assert refused.value.message == services.NEXT_STEPS_REQUIRED
    session.refresh_from_db()
    assert session.log_published_at is None and not session.next_steps.exists()


class TestSessionEmails:
    def test_scheduling_sends_an_ics_invitation(self, engagement, carla, django_capture_on_commit_callbacks):
        session = engagement.sessions.get(number=1)
        start = timezone.now() + timedelta(days=3)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            services.session_schedule(actor=carla, session=session, scheduled_at=start, video_link="https://meet.x/k")
        to_alice = next(m for m in mail.outbox if m.to == ["alice@andes.test"])
        name, content, mimetype = to_alice.attachments[0]
        assert name.endswith(".ics") and mimetype.startswith("text/calendar")
        assert "BEGIN:VEVENT" in content and f"DTSTART:{start.astimezone(UTC):%Y%m%dT%H%M%S}Z" in content
        assert "https://meet.x/k" in to_alice.body

    def test_publishing_a_log_emails_the_client(self, engagement, carla, django_capture_on_commit_callbacks):
        session = hold_session(engagement.sessions.get(number=1), carla)
        with django_capture_on_commit_callbacks(execute=True):
            services.session_log_publish(
                actor=carla,
                session=session,
                values={"objective": "Obj", "activity": "Act", "minutes_used": 70, "progress_status": "on_track"},
                next_steps=[{"description": "Paso", "owner": "client", "due_date": timezone.localdate()}],
            )
        assert any(m.to == ["alice@andes.test"] and "Paso" in m.body for m in mail.outbox)

    def test_a_published_log_cannot_be_published_again(self, engagement, carla):
        session = hold_session(engagement.sessions.get(number=1), carla)
        values = {"objective": "Obj", "activity": "Act", "minutes_used": 70, "progress_status": "on_track"}
        steps = [{"description": "Paso", "owner": "client", "due_date": timezone.localdate()}]
        services.session_log_publish(actor=carla, session=session, values=values, next_steps=steps)
        with pytest.raises(DomainError):
            services.session_log_publish(actor=carla, session=session, values=values, next_steps=steps)
        assert session.next_steps.count() == 1


class TestChangeRequests:
    def test_a_new_service_becomes_a_lead_for_the_same_company(self, engagement, alice, sam):
        change = services.change_request_raise(actor=alice, engagement=engagement, title="Tienda B2B", description="x")
        services.change_request_classify(actor=sam, change=change, classification="new_service")
        lead = Engagement.objects.get(title="Tienda B2B")
        assert lead.status == rules.LEAD and lead.company == engagement.company

    def test_a_change_is_classified_once(self, engagement, alice, sam):
        change = services.change_request_raise(actor=alice, engagement=engagement, title="X", description="x")
        services.change_request_classify(actor=sam, change=change, classification="add_on")
        with pytest.raises(DomainError):
            services.change_request_classify(actor=sam, change=change, classification="in_scope")


class TestReviewFixes:
    def test_converting_with_an_invalid_rut_is_a_clear_error_and_changes_nothing(self, service, sam, carla):
        engagement = services.inquiry_submit(service=service, data=dict(INQUIRY), request=None)
        with pytest.raises(DomainError) as refused:
            services.lead_convert(
                actor=sam,
                request=None,
                engagement=engagement,
                consultant=carla,
                new_company={"legal_name": "X", "rut": "1-2", "address": "y", "billing_email": "a@b.cl"},
            )
        assert refused.value.field == "rut"
        engagement.refresh_from_db()
        assert engagement.status == rules.LEAD

    def test_a_lead_is_converted_once(self, service, sam, carla, andes):
        engagement = services.inquiry_submit(service=service, data=dict(INQUIRY), request=None)
        services.lead_convert(
            actor=sam, request=None, engagement=engagement, consultant=carla, company=andes, invite_contact=False
        )
        with pytest.raises(DomainError):
            services.lead_convert(actor=sam, request=None, engagement=engagement, consultant=carla, company=andes)

    def test_confirming_scope_again_from_waiting_changes_nothing(self, engagement, sam):
        services.engagement_hold(actor=sam, engagement=engagement, reason="x")
        services.engagement_confirm_scope(actor=sam, engagement=engagement)
        assert engagement.sessions.count() == 5

    def test_a_verified_item_cannot_be_delivered_again(self, engagement, alice, carla):
        item = engagement.checklist.first()
        services.checklist_deliver(actor=alice, item=item, note="ok")
        services.checklist_review(actor=carla, item=item, accept=True)
        with pytest.raises(DomainError):
            services.checklist_deliver(actor=alice, item=item, note="otra vez")
