"""Demo engagements in every status and phase (seed_demo; idempotent by title).

They are built through the real services and then moved back in time, so the
dates look lived-in: sessions held weeks ago, a formal request about to cross
the 60-day rule, an engagement about to reach the 90-day one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TextIO

from django.utils import timezone

from engagements import rules, services
from engagements.models import (
    ChecklistItem,
    Engagement,
    EngagementEvent,
    FormalRequest,
    PhasePlan,
    Session,
)
from portal.models import ClientCompany, User

DIAGNOSIS = {
    "as_is_order_flow": "Los pedidos web llegan por correo; una persona los copia a mano en Odoo cada mañana.",
    "as_is_product_flow": "Los productos se crean dos veces: en Odoo y en la tienda, con precios distintos.",
    "shop_platform": "woocommerce",
    "shop_url": "https://tienda.example.cl",
    "monthly_orders": 420,
    "catalogue_size": 850,
    "odoo_version": "17",
    "odoo_edition": "community",
    "odoo_hosting": "odoo_sh",
    "external_api": "yes",
    "installed_apps": ["inventory", "sales", "invoicing"],
    "flows": {
        "products": "odoo_to_shop",
        "prices": "odoo_to_shop",
        "stock": "odoo_to_shop",
        "orders": "shop_to_odoo",
        "customers": "shop_to_odoo",
    },
    "risks": "Catálogo con SKU duplicados en la tienda.",
    "validation_owner_name": "Jefa de operaciones",
    "validation_owner_email": "operaciones@example.cl",
}


def _days_ago(days: int):
    return timezone.now() - timedelta(days=days)


def _shift(engagement: Engagement, days: int) -> None:
    """Move everything the services stamped 'now' back by `days`."""
    delta = timedelta(days=days)
    for model, fields in [
        (Engagement, ["status_changed_at", "scope_confirmed_at", "created_at"]),
        (EngagementEvent, ["created_at"]),
        (PhasePlan, ["started_at", "completed_at"]),
        (ChecklistItem, ["delivered_at", "verified_at"]),
    ]:
        rows = (
            model.objects.filter(pk=engagement.pk)
            if model is Engagement
            else model.objects.filter(engagement=engagement)
        )
        for row in rows:
            for field in fields:
                value = getattr(row, field)
                if value is not None:
                    setattr(row, field, value - delta)
            row.save(update_fields=fields)
    for plan in PhasePlan.objects.filter(engagement=engagement):
        plan.planned_start = plan.planned_start and plan.planned_start - delta
        plan.planned_end = plan.planned_end and plan.planned_end - delta
        plan.save(update_fields=["planned_start", "planned_end"])


def _new(title: str, company: ClientCompany, staff: User, consultant: User, service) -> Engagement:
    engagement = services.inquiry_submit(
        service=service,
        request=None,
        data={
            "name": "Contacto demo",
            "company_name": company.legal_name,
            "email": f"contacto+{company.rut}@demo.test",
            "phone": "+56 9 1234 5678",
            "shop_platform": "woocommerce",
            "odoo_version": "17",
            "odoo_hosting": "odoo_sh",
            "message": "Queremos dejar de copiar pedidos a mano.",
        },
    )
    Engagement.objects.filter(pk=engagement.pk).update(title=title)
    engagement.refresh_from_db()
    return services.lead_convert(
        actor=staff, request=None, engagement=engagement, consultant=consultant, company=company, invite_contact=False
    )


def _to_active(engagement: Engagement, staff: User, consultant: User) -> Engagement:
    services.diagnosis_save(actor=consultant, engagement=engagement, values=DIAGNOSIS, complete=True)
    services.engagement_mark_quoted(actor=staff, engagement=engagement)
    return services.engagement_confirm_scope(actor=staff, engagement=engagement, reason="Cotización aceptada")


def _deliver_checklist(engagement: Engagement, client: User, consultant: User, count: int) -> None:
    for item in ChecklistItem.objects.filter(engagement=engagement).order_by("order")[:count]:
        services.checklist_deliver(actor=client, item=item, note="Entregado por correo seguro.")
        services.checklist_review(actor=consultant, item=item, accept=True)


def _hold_session(session: Session, consultant: User, days_ago: int, number: int) -> None:
    services.session_schedule(
        actor=consultant,
        session=session,
        scheduled_at=timezone.now() + timedelta(days=1),
        video_link="https://meet.example.com/demo",
    )
    services.session_log_publish(
        actor=consultant,
        session=session,
        values={
            "objective": f"Objetivo de la sesión {number}",
            "activity": "Revisamos el flujo de pedidos y el catálogo.",
            "minutes_used": 60 if number != 2 else 75,
            "progress_status": "on_track",
        },
        next_steps=[
            {
                "description": "Enviar listado de SKU actualizados",
                "owner": "client",
                "due_date": (timezone.now() + timedelta(days=7)).date(),
            },
            {
                "description": "Configurar mapeo de impuestos",
                "owner": "consultant",
                "due_date": (timezone.now() + timedelta(days=10)).date(),
            },
        ],
    )
    Session.objects.filter(pk=session.pk).update(scheduled_at=_days_ago(days_ago), log_published_at=_days_ago(days_ago))


def _request(engagement: Engagement, consultant: User, subject: str, days_ago: int) -> FormalRequest:
    request = services.formal_request_send(
        actor=consultant,
        engagement=engagement,
        kind="access",
        subject=subject,
        body="Necesitamos un usuario administrador de la tienda para configurar la API.",
        due_date=None,
    )
    FormalRequest.objects.filter(pk=request.pk).update(sent_at=_days_ago(days_ago))
    return request


def _build(title, company, people, service, *, status, phase=None, age=30, request_age=None, waiting_days=None):
    staff, consultant, client = people
    engagement = _new(title, company, staff, consultant, service)
    if status in (rules.QUOTED, rules.ACTIVE, rules.WAITING, rules.CLOSED, rules.ADMIN_CLOSED):
        services.diagnosis_save(actor=consultant, engagement=engagement, values=DIAGNOSIS, complete=True)
        services.engagement_mark_quoted(actor=staff, engagement=engagement)
    if status in (rules.ACTIVE, rules.WAITING, rules.CLOSED, rules.ADMIN_CLOSED):
        services.engagement_confirm_scope(actor=staff, engagement=engagement, reason="Cotización aceptada")
        _deliver_checklist(engagement, client, consultant, 4 if status != rules.WAITING else 2)
        sessions = list(engagement.sessions.order_by("number"))
        for target_phase in rules.PHASES[: rules.PHASES.index(phase or rules.CLOSING)]:
            if target_phase in (rules.PLANNING, rules.CONFIGURATION):
                index = rules.PHASES.index(target_phase)
                _hold_session(sessions[index], consultant, age - 5 * (index + 1), index + 1)
            services.phase_complete(actor=consultant, engagement=engagement, phase=target_phase)
    if request_age is not None:
        _request(engagement, consultant, "Acceso de administrador a la tienda", request_age)
    if status == rules.WAITING:
        services.engagement_transition(engagement=engagement, target=rules.WAITING, actor=None, reason="R1")
        Engagement.objects.filter(pk=engagement.pk).update(waiting_since=_days_ago(waiting_days))
    if status == rules.CLOSED:
        services.engagement_close(actor=consultant, engagement=engagement, reason="Puesta en marcha validada")
    if status == rules.ADMIN_CLOSED:
        services.engagement_transition(engagement=engagement, target=rules.WAITING, actor=None, reason="R1")
        services.engagement_admin_close(actor=staff, engagement=engagement, reason="90 días sin respuesta")
    if status == rules.CANCELLED:
        services.engagement_cancel(actor=staff, engagement=engagement, reason="El cliente desistió")
    _shift(engagement, age)
    return engagement


def seed(out: TextIO) -> list[str]:
    service = services.service_publish_catalogue()
    staff = User.objects.get(email="staff@demo.test")
    consultant = User.objects.get(email="consultor@demo.test")
    andina = ClientCompany.objects.get(rut="765432103")
    austral = ClientCompany.objects.get(rut="771234569")
    delsur = ClientCompany.objects.get(rut="965554440")
    ana = User.objects.get(email="ana@andina.demo.test")
    camila = User.objects.get(email="camila@austral.demo.test")
    diego = User.objects.get(email="diego@delsur.demo.test")
    plans = [
        (
            "Tienda Andina · WooCommerce",
            andina,
            ana,
            {"status": rules.ACTIVE, "phase": rules.CONFIGURATION, "age": 55, "request_age": 50},
        ),
        ("Tienda Andina · Marketplace B2B", andina, ana, {"status": rules.ACTIVE, "phase": rules.TESTING, "age": 40}),
        ("Café Austral · Shopify", austral, camila, {"status": rules.DIAGNOSIS, "age": 5}),
        (
            "Café Austral · Tienda Shopify",
            austral,
            camila,
            {"status": rules.ACTIVE, "phase": rules.CONFIGURATION, "age": 30},
        ),
        (
            "Café Austral · Jumpseller",
            austral,
            camila,
            {"status": rules.WAITING, "phase": rules.CONFIGURATION, "age": 160, "request_age": 150, "waiting_days": 84},
        ),
        (
            "Café Austral · Tienda antigua",
            austral,
            camila,
            {"status": rules.ADMIN_CLOSED, "phase": rules.CONFIGURATION, "age": 45},
        ),
        ("Librería del Sur · WooCommerce", delsur, diego, {"status": rules.QUOTED, "age": 10}),
        ("Librería del Sur · Catálogo", delsur, diego, {"status": rules.ACTIVE, "phase": rules.PLANNING, "age": 3}),
        ("Librería del Sur · Cierre", delsur, diego, {"status": rules.ACTIVE, "phase": rules.CLOSING, "age": 35}),
        ("Librería del Sur · Primera etapa", delsur, diego, {"status": rules.CLOSED, "age": 90}),
        ("Librería del Sur · Piloto", delsur, diego, {"status": rules.CANCELLED, "age": 120}),
    ]
    created = 0
    for title, company, client, options in plans:
        if Engagement.objects.filter(title=title).exists():
            continue
        _build(title, company, (staff, consultant, client), service, **options)
        created += 1
    if not Engagement.objects.filter(status=rules.LEAD).exists():
        services.inquiry_submit(
            service=service,
            request=None,
            data={
                "name": "Marta Ríos",
                "company_name": "Ferretería Los Andes",
                "email": "marta@ferreteria.demo.test",
                "phone": "+56 2 2345 6789",
                "shop_platform": "jumpseller",
                "odoo_version": "16",
                "odoo_hosting": "on_premise",
                "message": "Tenemos 3.000 productos y queremos sincronizar stock.",
            },
        )
        created += 1
    out.write(f"Engagements: {created} created, {Engagement.objects.count()} in all.\n")
    return [f"{'staff':<10} pipeline, leads and quotes at http://127.0.0.1:8000/portal/"]
