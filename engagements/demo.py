"""Demo engagements in every status and phase (seed_demo; idempotent by title).

They are built through the real services and then moved back in time, so the
dates look lived-in: sessions held weeks ago, a formal request about to cross
the 60-day rule, an engagement about to reach the 90-day one (staff see the
first day an administrative close is allowed), one reactivated by staff with
its request still open (R1 counts again from the reactivation), a phase
completed with a session not held (the reason is on the timeline), a held
session still without its log. The administrative closes and their credits
are in billing's demo: they need quotes and payments.
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
    NextStep,
    PhasePlan,
    Session,
)
from portal import clock
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


def shift_back(engagement: Engagement, days: int) -> None:
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


def _deliver_checklist(engagement: Engagement, client: User, consultant: User, count: int) -> None:
    for item in ChecklistItem.objects.filter(engagement=engagement).order_by("order")[:count]:
        services.checklist_deliver(actor=client, item=item, note="Entregado por correo seguro.")
        services.checklist_review(actor=consultant, item=item, accept=True)


def _held(session: Session, consultant: User, days_ago: int) -> None:
    """Schedule the session (only future times are accepted), then let its time pass: held `days_ago` days ago."""
    services.session_schedule(
        actor=consultant,
        session=session,
        scheduled_at=timezone.now() + timedelta(days=1),
        video_link="https://meet.example.com/demo",
    )
    Session.objects.filter(pk=session.pk).update(scheduled_at=_days_ago(days_ago))


# What each of the five sessions was about, as a consultant would write it (the service sheet lists them).
LOGS = {
    1: (
        "Levantar el flujo actual de pedidos y productos, y acordar el alcance de la integración.",
        "Recorrimos con el equipo cómo llegan hoy los pedidos web y cómo se copian en Odoo; revisamos el "
        "catálogo, los impuestos y los métodos de despacho.",
        [
            ("Enviar el listado de SKU con precios vigentes", "client", 5),
            ("Proponer el mapeo de impuestos", "consultant", 7),
        ],
    ),
    2: (
        "Validar el flujo propuesto de pedidos, stock y precios entre la tienda y Odoo.",
        "Mostramos el flujo acordado con tres pedidos de prueba y validamos qué sistema manda en cada dato.",
        [
            ("Confirmar la bodega que alimenta el stock de la tienda", "client", 4),
            ("Configurar la sincronización de stock", "consultant", 8),
        ],
    ),
    3: (
        "Revisar el avance de la configuración y los primeros pedidos importados.",
        "Revisamos los pedidos importados en la semana y corregimos dos productos sin SKU en la tienda.",
        [
            ("Revisar los pedidos marcados para revisión", "client", 6),
            ("Ajustar los precios con IVA incluido", "consultant", 6),
        ],
    ),
    4: (
        "Probar de punta a punta y validar el funcionamiento antes de la puesta en marcha.",
        "Ejecutamos el plan de pruebas: pedidos pagados, cancelados y reembolsados, y el envío de stock.",
        [
            ("Firmar la validación final de las pruebas", "client", 3),
            ("Preparar la guía de operación", "consultant", 5),
        ],
    ),
    5: (
        "Cerrar el servicio y capacitar al equipo en la operación diaria.",
        "Capacitamos al equipo en el panel de sincronizaciones, los reintentos y qué hacer ante un pedido en revisión.",
        [
            ("Compartir la guía con el equipo de ventas", "client", 7),
            ("Entregar el informe de cierre", "consultant", 3),
        ],
    ),
}


def _hold_session(session: Session, consultant: User, days_ago: int, number: int) -> None:
    """Hold the session and publish its log."""
    _held(session, consultant, days_ago)
    objective, activity, steps = LOGS[min(number, len(LOGS))]
    services.session_log_publish(
        actor=consultant,
        session=session,
        values={
            "objective": objective,
            "activity": activity,
            "minutes_used": 60 if number != 2 else 75,
            "progress_status": "on_track",
        },
        next_steps=[
            {"description": text, "owner": owner, "due_date": (timezone.now() + timedelta(days=days)).date()}
            for text, owner, days in steps
        ],
    )
    Session.objects.filter(pk=session.pk).update(log_published_at=_days_ago(days_ago))
    # The steps of an earlier session are done by the time the next one is held.
    NextStep.objects.filter(engagement=session.engagement, session__number__lt=number, done_at__isnull=True).update(
        done_at=_days_ago(days_ago)
    )


def _complete_phases(engagement, consultant, *, until: str, age: int, skip: frozenset[int], override: str) -> None:
    """Hold and log each phase's sessions (but those in `skip`), then complete the phase; a phase
    with something not done needs `override` as its reason."""
    sessions = {s.number: s for s in engagement.sessions.all()}
    for index, phase in enumerate(rules.PHASES[: rules.PHASES.index(until)]):
        for number, session in sessions.items():
            if rules.SESSION_PHASES.get(session.kind) == phase and number not in skip:
                _hold_session(session, consultant, max(1, age - 5 * (index + 1)), number)
        gaps = services.phase_gaps_of(engagement, phase)
        services.phase_complete(actor=consultant, engagement=engagement, phase=phase, reason=override if gaps else "")


def _request(
    engagement: Engagement,
    consultant: User,
    subject: str,
    days_ago: int,
    kind: str = "access",
    body: str = "Necesitamos un usuario administrador de la tienda para configurar la API.",
) -> FormalRequest:
    request = services.formal_request_send(
        actor=consultant, engagement=engagement, kind=kind, subject=subject, body=body, due_date=None
    )
    FormalRequest.objects.filter(pk=request.pk).update(sent_at=_days_ago(days_ago))
    request.refresh_from_db()
    return request


def _build(
    title,
    company,
    people,
    service,
    *,
    status,
    phase=None,
    age=30,
    request_age=None,
    waiting_days=None,
    skip_sessions=frozenset(),
    override="Se avanzó con la información disponible; lo pendiente se verá en la fase siguiente",
):
    staff, consultant, client = people
    engagement = _new(title, company, staff, consultant, service)
    if status in (rules.QUOTED, rules.ACTIVE, rules.WAITING, rules.CLOSED):
        services.diagnosis_save(actor=consultant, engagement=engagement, values=DIAGNOSIS, complete=True)
        services.engagement_mark_quoted(actor=staff, engagement=engagement)
    if status in (rules.ACTIVE, rules.WAITING, rules.CLOSED):
        services.engagement_confirm_scope(actor=staff, engagement=engagement, reason="Cotización aceptada")
        _deliver_checklist(engagement, client, consultant, 4)
        until = phase or rules.CLOSING
        _complete_phases(engagement, consultant, until=until, age=age, skip=skip_sessions, override=override)
    request = (
        _request(engagement, consultant, "Acceso de administrador a la tienda", request_age) if request_age else None
    )
    if status == rules.WAITING:  # R1 fired on that request: answering it reactivates the engagement
        services.engagement_transition(
            engagement=engagement, target=rules.WAITING, actor=None, reason="R1", waiting_for=request
        )
        Engagement.objects.filter(pk=engagement.pk).update(waiting_since=_days_ago(waiting_days))
    if status == rules.CLOSED:
        services.engagement_close(actor=consultant, engagement=engagement, reason="Puesta en marcha validada")
    if status == rules.CANCELLED:
        services.engagement_cancel(actor=staff, engagement=engagement, reason="El cliente desistió")
    shift_back(engagement, age)
    return engagement


def _reactivated(engagement: Engagement, staff: User, *, held_days: int, reactivated_days: int) -> None:
    """R1 put it on hold `held_days` ago; staff reactivated it `reactivated_days` ago with the request
    still open: R1's clock counts from the reactivation, and the wait pushes the estimate once."""
    request = engagement.requests.order_by("-sent_at").first()
    services.engagement_transition(
        engagement=engagement, target=rules.WAITING, actor=None, reason="R1", waiting_for=request
    )
    Engagement.objects.filter(pk=engagement.pk).update(waiting_since=_days_ago(held_days))
    services.engagement_reactivate(actor=staff, engagement=engagement, reason="El cliente pidió 30 días más de plazo")
    tz = services.business_tz()
    since, back = rules.local_date(_days_ago(held_days), tz), rules.local_date(_days_ago(reactivated_days), tz)
    Engagement.objects.filter(pk=engagement.pk).update(
        reactivated_at=_days_ago(reactivated_days), wait_periods=[[since.isoformat(), back.isoformat()]]
    )


def _log_overdue(engagement: Engagement, consultant: User, number: int, days_ago: int) -> None:
    """A session held `days_ago` days ago whose log was never written (the lists flag it after 2 business days)."""
    _held(engagement.sessions.get(number=number), consultant, days_ago)


def _answered_recently(engagement: Engagement, consultant: User, client: User) -> None:
    """A formal request the client answered two days ago: a new answer on the consultant's worklist."""
    body = "Revisen los cinco pedidos de prueba en Odoo y confirmen que los totales coinciden con la tienda."
    request = _request(engagement, consultant, "Validación de los pedidos de prueba", 6, "validation", body)
    services.formal_request_answer(
        actor=client, request=request, text="Revisados: coinciden los cinco. El pedido 1043 tenía un cupón.", files=[]
    )
    FormalRequest.objects.filter(pk=request.pk).update(answered_at=_days_ago(2))


def _upcoming(engagement: Engagement, consultant: User) -> None:
    """The next session, scheduled for the coming days (the client's home shows it, with its .ics)."""
    session = engagement.sessions.filter(log_published_at__isnull=True).order_by("number").first()
    if session is not None:
        start = (clock.local() + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
        services.session_schedule(
            actor=consultant, session=session, scheduled_at=start, video_link="https://meet.example.com/andina"
        )


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
            {
                "status": rules.ACTIVE,
                "phase": rules.CONFIGURATION,
                "age": 30,
                "skip_sessions": frozenset({2}),
                "override": "Levantamiento y validación de flujo en una sola reunión, a pedido del cliente",
            },
        ),
        (
            "Café Austral · Jumpseller",
            austral,
            camila,
            {"status": rules.WAITING, "phase": rules.CONFIGURATION, "age": 160, "request_age": 150, "waiting_days": 84},
        ),
        ("Librería del Sur · WooCommerce", delsur, diego, {"status": rules.QUOTED, "age": 10}),
        ("Librería del Sur · Catálogo", delsur, diego, {"status": rules.ACTIVE, "phase": rules.PLANNING, "age": 3}),
        ("Librería del Sur · Cierre", delsur, diego, {"status": rules.ACTIVE, "phase": rules.CLOSING, "age": 35}),
        ("Librería del Sur · Primera etapa", delsur, diego, {"status": rules.CLOSED, "age": 90}),
        (
            "Librería del Sur · Marketplace",
            delsur,
            diego,
            {"status": rules.ACTIVE, "phase": rules.CONFIGURATION, "age": 120, "request_age": 100},
        ),
        ("Librería del Sur · Piloto", delsur, diego, {"status": rules.CANCELLED, "age": 120}),
    ]
    created = 0
    for title, company, client, options in plans:
        if Engagement.objects.filter(title=title).exists():
            continue
        engagement = _build(title, company, (staff, consultant, client), service, **options)
        if title == "Librería del Sur · Marketplace":
            _reactivated(engagement, staff, held_days=39, reactivated_days=10)
        if title == "Tienda Andina · Marketplace B2B":
            _log_overdue(engagement, consultant, number=4, days_ago=6)
            _answered_recently(engagement, consultant, client)
        if title == "Tienda Andina · WooCommerce":
            _upcoming(engagement, consultant)
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
