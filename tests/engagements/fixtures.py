"""Engagement fixtures built through the real services."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from engagements import rules, services
from engagements.models import Engagement, FormalRequest, Session
from engagements.services.lifecycle import business_tz

DIAGNOSIS = {
    "as_is_order_flow": "Pedidos copiados a mano.",
    "as_is_product_flow": "Productos creados dos veces.",
    "validation_owner_name": "Operaciones",
    "flows": {"orders": "shop_to_odoo", "stock": "odoo_to_shop"},
    "odoo_hosting": "odoo_sh",
    "external_api": "yes",
}
INQUIRY = {
    "name": "Nina",
    "company_name": "Andes SpA",
    "email": "nina@andes.test",
    "phone": "",
    "shop_platform": "woocommerce",
    "odoo_version": "17",
    "odoo_hosting": "odoo_sh",
    "message": "Hola",
}


@pytest.fixture
def service(db):
    return services.service_publish_catalogue()


@pytest.fixture
def make_engagement(service, sam, carla):
    """make_engagement(company, status) -> an engagement brought to `status` the normal way."""

    def build(company, status=rules.ACTIVE, consultant=None):
        engagement = services.inquiry_submit(service=service, data=dict(INQUIRY), request=None)
        if status == rules.LEAD:
            return engagement
        services.lead_convert(
            actor=sam,
            request=None,
            engagement=engagement,
            consultant=consultant or carla,
            company=company,
            invite_contact=False,
        )
        if status in (rules.CANCELLED,):
            return services.engagement_cancel(actor=sam, engagement=engagement, reason="x")
        if status == rules.DIAGNOSIS:
            return Engagement.objects.get(pk=engagement.pk)
        services.diagnosis_save(actor=carla, engagement=engagement, values=DIAGNOSIS, complete=True)
        services.engagement_mark_quoted(actor=sam, engagement=engagement)
        if status == rules.QUOTED:
            return Engagement.objects.get(pk=engagement.pk)
        services.engagement_confirm_scope(actor=sam, engagement=engagement)
        if status == rules.WAITING:
            services.engagement_transition(engagement=engagement, target=rules.WAITING, actor=None, reason="R1")
        if status == rules.CLOSED:
            for phase in rules.PHASES[:-1]:
                services.phase_complete(actor=carla, engagement=engagement, phase=phase, reason="fixture")
            services.engagement_close(actor=carla, engagement=engagement, reason="ok")
        if status == rules.ADMIN_CLOSED:
            services.engagement_transition(engagement=engagement, target=rules.WAITING, actor=None, reason="R1")
            wait_for_days(engagement, 90)
            services.engagement_admin_close(actor=sam, engagement=engagement, reason="90 días")
        return Engagement.objects.get(pk=engagement.pk)

    return build


@pytest.fixture
def engagement(make_engagement, andes, alice):
    """alice's company's active engagement, consultant carla."""
    return make_engagement(andes)


def send_request(engagement, actor, days_ago: int = 0, subject: str = "Accesos") -> FormalRequest:
    request = services.formal_request_send(
        actor=actor, engagement=engagement, kind="access", subject=subject, body="Necesitamos acceso.", due_date=None
    )
    FormalRequest.objects.filter(pk=request.pk).update(sent_at=timezone.now() - timedelta(days=days_ago))
    request.refresh_from_db()
    return request


def wait_for_days(engagement, days: int) -> None:
    """The engagement has been waiting on the client for `days` calendar days (since noon that day)."""
    since = datetime.combine(timezone.localdate() - timedelta(days=days), time(12), tzinfo=business_tz())
    Engagement.objects.filter(pk=engagement.pk).update(waiting_since=since)
    engagement.refresh_from_db()


def hold_session(session, actor, *, hours_ago: int = 2) -> Session:
    """Schedule a session the normal way (only future times are accepted), then let its time pass."""
    services.session_schedule(
        actor=actor, session=session, scheduled_at=timezone.now() + timedelta(days=1), video_link="https://meet.x/s"
    )
    Session.objects.filter(pk=session.pk).update(scheduled_at=timezone.now() - timedelta(hours=hours_ago))
    session.refresh_from_db()
    return session


LOG = {"objective": "Obj", "activity": "Act", "minutes_used": 60, "progress_status": "on_track"}


def log_session(session, actor, *, minutes: int = 60, steps: list[dict] | None = None) -> Session:
    """Hold a session and publish its log with one next step for the client."""
    hold_session(session, actor)
    steps = steps or [{"description": "Paso", "owner": "client", "due_date": timezone.localdate()}]
    return services.session_log_publish(
        actor=actor, session=session, values={**LOG, "minutes_used": minutes}, next_steps=steps
    )
