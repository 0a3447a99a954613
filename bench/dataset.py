"""Build the load-test dataset D1 (or Dn with --scale n) with bulk inserts:
`python -m bench.dataset [--scale 4]` on the database DATABASE_URL names (bench/load.py runs it).

D1: 200 client companies, each with one client user
(known password, verified email, no MFA), 2,000 engagements, 100,000
sessions with published logs, 5,000 invoices, plus what an engagement page
shows around them (plan, checklist, formal requests, next steps, timeline).

The data is spread unevenly on purpose: companies have between 4 and 16
engagements and engagements between 25 and 75 session logs, so a bench or a
test can compare a light client with a heavy one, not only a small database
with a big one.

Refuses to run twice on the same database (it checks for its own companies):
numbers, RUTs and emails are unique, so a second run would only collide.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sys
import time
from datetime import timedelta
from decimal import Decimal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")

import django

django.setup()

from allauth.account.models import EmailAddress  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import OuterRef, Subquery  # noqa: E402
from django.utils import timezone  # noqa: E402
from stdnum.cl import rut as stdnum_rut  # noqa: E402

from billing.models import Invoice, InvoiceCounter, InvoiceLine, InvoiceStatus  # noqa: E402
from engagements import rules  # noqa: E402
from engagements import services as lifecycle  # noqa: E402
from engagements.models import (  # noqa: E402
    ChecklistItem,
    ChecklistStatus,
    Engagement,
    EngagementEvent,
    FormalRequest,
    NextStep,
    PhasePlan,
    ProgressStatus,
    Session,
    SessionStatus,
)
from engagements.services.lifecycle import CHECKLIST  # noqa: E402
from portal.models import ClientCompany, Membership, Role, User  # noqa: E402

PASSWORD = "Carga.Bench-2026"
EMAIL_DOMAIN = "carga.test"
RUT_BASE = 40_000_000  # bodies 40.000.001-… : far from the demo's and the tests' RUTs
INVOICE_SERIES = "C"
BATCH = 5000

D1 = {"companies": 200, "engagements": 2000, "sessions": 100_000, "invoices": 5000}
COMPANY_WEIGHTS = (4, 7, 10, 13, 16)  # engagements per company, relative
SESSION_WEIGHTS = (25, 40, 50, 60, 75)  # session logs per engagement, relative
INVOICE_WEIGHTS = (1, 2, 3, 4)

# One cycle of 20 engagements: (status, phase).
STATUS_CYCLE = (
    [(rules.ACTIVE, phase) for phase in rules.PHASES for _ in range(3)]
    + [(rules.WAITING, rules.CONFIGURATION)] * 2
    + [(rules.CLOSED, rules.CLOSING)] * 2
    + [(rules.ADMIN_CLOSED, rules.CONFIGURATION), (rules.QUOTED, ""), (rules.DIAGNOSIS, ""), (rules.CANCELLED, "")]
)
WITH_SESSIONS = {rules.ACTIVE, rules.WAITING, rules.CLOSED, rules.ADMIN_CLOSED}
PROGRESS = {rules.PLANNING: 10, rules.CONFIGURATION: 35, rules.TESTING: 70, rules.CLOSING: 90}

FIRST = ["Ana", "Bruno", "Camila", "Diego", "Elena", "Felipe", "Gabriela", "Héctor", "Isabel", "Javier", "Lucía"]
LAST = ["Rojas", "Muñoz", "González", "Soto", "Contreras", "Silva", "Pérez", "Morales", "Fuentes", "Valenzuela"]
TRADE = ["Comercial", "Distribuidora", "Ferretería", "Librería", "Tienda", "Café", "Importadora", "Textiles", "Vinos"]
PLACE = ["Andina", "Austral", "del Sur", "Los Andes", "Pacífico", "Atacama", "del Maule", "Biobío", "Magallanes"]
FORM = ["SpA", "Ltda.", "S.A.", "EIRL"]
STREET = ["Av. Providencia", "Calle San Martín", "Av. Libertador B. O'Higgins", "Calle Prat", "Av. Alemania"]
CITY = ["Santiago", "Valparaíso", "Concepción", "Temuco", "Puerto Montt", "La Serena", "Punta Arenas"]
PROJECT = ["WooCommerce", "Shopify", "Jumpseller", "Catálogo B2B", "Pagos", "Stock multibodega", "Marketplace"]
OBJECTIVES = [
    "Revisar el flujo de pedidos web y su paso a Odoo",
    "Validar el mapeo de impuestos y métodos de despacho",
    "Conciliar el catálogo: SKU duplicados y variantes",
    "Probar la sincronización de stock entre bodegas",
    "Capacitar al equipo de operaciones en el nuevo flujo",
]
ACTIVITIES = [
    "Recorrimos con el cliente los pedidos de la última semana y anotamos las diferencias de precio.",
    "Configuramos las posiciones fiscales y probamos tres pedidos de prueba con IVA.",
    "Depuramos 120 SKU duplicados y acordamos la regla de nombres para variantes.",
    "Ejecutamos una simulación de stock y revisamos las alertas de quiebre.",
    "Mostramos el panel de sincronización y resolvimos dudas sobre reintentos.",
]
REQUESTS = [
    ("access", "Acceso de administrador a la tienda", "Necesitamos un usuario administrador para crear la API."),
    ("information", "Listado de bodegas y stock inicial", "Envíen el stock por bodega en planilla CSV."),
    ("validation", "Validación de pedidos de prueba", "Revisen los cinco pedidos de prueba y confirmen."),
]
STEPS = ["Enviar listado de SKU actualizados", "Configurar mapeo de impuestos", "Revisar pedidos de prueba"]


def spread(total: int, count: int, weights: tuple[int, ...]) -> list[int]:
    """`count` integers cycling through `weights`, scaled to add up to exactly `total`."""
    if count == 0:
        return []
    raw = [weights[i % len(weights)] for i in range(count)]
    scale = total / sum(raw)
    counts = [int(w * scale) for w in raw]
    remainders = sorted(range(count), key=lambda i: raw[i] * scale - counts[i], reverse=True)
    for i in remainders[: total - sum(counts)]:
        counts[i] += 1
    return counts


def rut_for(index: int) -> str:
    body = str(RUT_BASE + index)
    return body + stdnum_rut.calc_check_digit(body)


class DatasetError(Exception):
    """The dataset cannot be built (bad counts, or it is already in the database)."""


def build_dataset(*, scale: float = 1.0, seed: int = 7, **overrides: int | None) -> str:
    """Build the dataset (counts: D1 times `scale`, or `overrides`); returns the summary line."""
    counts = {name: given if (given := overrides.get(name)) is not None else round(n * scale) for name, n in D1.items()}
    if counts["companies"] < 1 or counts["engagements"] < counts["companies"]:
        raise DatasetError("Need at least one company and one engagement per company.")
    if ClientCompany.objects.filter(rut=rut_for(1)).exists():
        raise DatasetError("The load dataset is already in this database (it is built once per database).")
    started = time.perf_counter()
    with transaction.atomic():
        built = Builder(counts, random.Random(seed)).build()  # noqa: S311 (not for secrets)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Planner statistics now, as after any bulk load, rather than from an autovacuum
            # that would otherwise run in the middle of the measurements.
            cursor.execute("ANALYZE")
    elapsed = time.perf_counter() - started
    summary = ", ".join(f"{n:,} {name}" for name, n in built.items())
    return f"Load dataset built in {elapsed:.1f} s: {summary}. Client password: {PASSWORD}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="Multiply every count (4 builds D4).")
    for name in D1:
        parser.add_argument(f"--{name}", type=int, help=f"Override the number of {name}.")
    parser.add_argument("--seed", type=int, default=7)
    options = vars(parser.parse_args(argv))
    try:
        print(build_dataset(**options))
    except DatasetError as error:
        sys.exit(f"bench/dataset.py: {error}")


class Builder:
    def __init__(self, counts: dict[str, int], rng: random.Random) -> None:
        self.counts, self.rng = counts, rng
        self.now = timezone.now()
        self.terms = lifecycle.service_publish_catalogue().terms.order_by("-version").first()

    def days_ago(self, days: float):
        return self.now - timedelta(days=days)

    def build(self) -> dict[str, int]:
        companies, clients = self.companies()
        consultants = self.consultants()
        engagements = self.engagements(companies, consultants)
        sessions = self.sessions(engagements)
        self.plans_and_checklists(engagements)
        requests = self.requests(engagements)
        events = self.events(engagements)
        invoices = self.invoices(engagements)
        return {
            "companies": len(companies),
            "client users": len(clients),
            "engagements": len(engagements),
            "session logs": sessions,
            "formal requests": requests,
            "timeline events": events,
            "invoices": invoices,
        }

    # ------------------------------------------------------------ people

    def companies(self) -> tuple[list[ClientCompany], list[User]]:
        n, pick = self.counts["companies"], self.rng.choice
        companies = ClientCompany.objects.bulk_create(
            [
                ClientCompany(
                    legal_name=f"{pick(TRADE)} {pick(PLACE)} {i} {pick(FORM)}",
                    rut=rut_for(i),
                    address=f"{pick(STREET)} {self.rng.randint(100, 4999)}, {pick(CITY)}",
                    billing_email=f"facturacion{i}@{EMAIL_DOMAIN}",
                )
                for i in range(1, n + 1)
            ],
            batch_size=BATCH,
        )
        password = make_password(PASSWORD)  # hashed once: the same password for every client
        users = User.objects.bulk_create(
            [
                User(
                    email=f"cliente{i}@{EMAIL_DOMAIN}",
                    full_name=f"{pick(FIRST)} {pick(LAST)}",
                    role=Role.CLIENT,
                    password=password,
                )
                for i in range(1, n + 1)
            ],
            batch_size=BATCH,
        )
        Membership.objects.bulk_create(
            [Membership(user=u, company=c) for u, c in zip(users, companies, strict=True)], batch_size=BATCH
        )
        EmailAddress.objects.bulk_create(
            [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users], batch_size=BATCH
        )
        return companies, users

    def consultants(self) -> list[User]:
        n = max(1, self.counts["companies"] // 20)
        return User.objects.bulk_create(
            [
                User(
                    email=f"consultor{i}@{EMAIL_DOMAIN}",
                    full_name=f"{FIRST[i % len(FIRST)]} {LAST[(i * 3) % len(LAST)]}",
                    role=Role.CONSULTANT,
                    password="!",  # unusable: consultants are not logged in by the bench
                )
                for i in range(1, n + 1)
            ]
        )

    # ------------------------------------------------------------ engagements

    def engagements(self, companies: list[ClientCompany], consultants: list[User]) -> list[Engagement]:
        per_company = spread(self.counts["engagements"], len(companies), COMPANY_WEIGHTS)
        rows, k = [], 0
        for company, count in zip(companies, per_company, strict=True):
            for j in range(count):
                status, phase = STATUS_CYCLE[k % len(STATUS_CYCLE)]
                age = 20 + (k * 37) % 380  # days since the inquiry
                changed = self.days_ago(age * 0.3)
                active_once = status in WITH_SESSIONS
                rows.append(
                    Engagement(
                        terms=self.terms,
                        company=company,
                        consultant=consultants[k % len(consultants)],
                        title=f"{company.legal_name.rsplit(' ', 2)[0]} · {PROJECT[(k + j) % len(PROJECT)]} {j + 1}",
                        status=status,
                        phase=phase,
                        status_changed_at=changed,
                        scope_confirmed_at=self.days_ago(age * 0.8) if active_once else None,
                        waiting_since=changed if status == rules.WAITING else None,
                        wait_periods=self.earlier_wait(k, changed) if active_once else [],
                        progress_percent=100 if status == rules.CLOSED else PROGRESS.get(phase, 0),
                    )
                )
                k += 1
        engagements = Engagement.objects.bulk_create(rows, batch_size=BATCH)
        # created_at is auto_now_add: set it after the insert, in one statement.
        Engagement.objects.filter(pk__in=[e.pk for e in engagements]).update(created_at=self.now - timedelta(days=400))
        return engagements

    def earlier_wait(self, k: int, changed) -> list[list[str]]:
        """Three engagements in four waited on the client before, 3 to 9 days ending a week before the last change."""
        if k % 4 == 0:
            return []
        end = (changed - timedelta(days=7)).date()
        return [[(end - timedelta(days=(k % 4) * 3)).isoformat(), end.isoformat()]]

    def sessions(self, engagements: list[Engagement]) -> int:
        working = [e for e in engagements if e.status in WITH_SESSIONS]
        per_engagement = spread(self.counts["sessions"], len(working), SESSION_WEIGHTS)
        included = {n: spec for n, spec in enumerate(self.terms.sessions, start=1)}
        total, batch, steps = 0, [], []
        for engagement, count in zip(working, per_engagement, strict=True):
            start = engagement.scope_confirmed_at
            span = max(1.0, (engagement.status_changed_at - start).total_seconds() / 86400) if start else 30.0
            for number in range(1, count + 1):
                spec = included.get(number)
                held_at = start + timedelta(days=span * number / (count + 1))
                minutes = 45 + (number * 7 + engagement.pk) % 46
                batch.append(
                    Session(
                        engagement=engagement,
                        number=number,
                        kind=spec["kind"] if spec else "extra",
                        title_es=spec["title_es"] if spec else f"Sesión adicional {number}",
                        title_en=spec["title_en"] if spec else f"Additional session {number}",
                        planned_minutes=spec["minutes"] if spec else 60,
                        included=spec is not None,
                        status=SessionStatus.HELD,
                        scheduled_at=held_at,
                        video_link="https://meet.example.com/carga",
                        objective=OBJECTIVES[(number + engagement.pk) % len(OBJECTIVES)],
                        activity=ACTIVITIES[(number * 3 + engagement.pk) % len(ACTIVITIES)],
                        minutes_used=minutes,
                        progress_status=ProgressStatus.AT_RISK if number % 9 == 0 else ProgressStatus.ON_TRACK,
                        log_published_at=held_at + timedelta(hours=2),
                        logged_by_id=engagement.consultant_id,
                    )
                )
            if len(batch) >= BATCH:
                total += self._flush_sessions(batch, steps)
                batch = []
        total += self._flush_sessions(batch, steps)
        NextStep.objects.bulk_create(steps, batch_size=BATCH)
        return total

    def _flush_sessions(self, batch: list[Session], steps: list[NextStep]) -> int:
        created = Session.objects.bulk_create(batch, batch_size=BATCH)
        last: dict[int, Session] = {}
        for session in created:
            last[session.engagement_id] = session  # numbers ascend within an engagement
        for session in last.values():
            if session.engagement.status not in (rules.ACTIVE, rules.WAITING):
                continue
            for i, owner in enumerate(("client", "consultant")):
                steps.append(
                    NextStep(
                        engagement_id=session.engagement_id,
                        session=session,
                        description=STEPS[(session.pk + i) % len(STEPS)],
                        owner=owner,
                        due_date=(session.scheduled_at + timedelta(days=7 + 3 * i)).date(),
                    )
                )
        return len(created)

    def plans_and_checklists(self, engagements: list[Engagement]) -> None:
        plans, items = [], []
        for engagement in engagements:
            if engagement.status in (rules.DIAGNOSIS, rules.QUOTED, rules.CANCELLED):
                continue
            start = engagement.scope_confirmed_at
            reached = rules.PHASES.index(engagement.phase) if engagement.phase else len(rules.PHASES)
            if engagement.status == rules.CLOSED:
                reached = len(rules.PHASES)
            for order, phase in enumerate(rules.PHASES):
                plans.append(
                    PhasePlan(
                        engagement=engagement,
                        phase=phase,
                        order=order,
                        planned_start=(start + timedelta(days=7 * order)).date(),
                        planned_end=(start + timedelta(days=7 * (order + 1))).date(),
                        started_at=start + timedelta(days=7 * order) if order <= reached else None,
                        completed_at=start + timedelta(days=7 * (order + 1)) if order < reached else None,
                    )
                )
            waiting = engagement.status == rules.WAITING
            for order, (kind, required) in enumerate(CHECKLIST):
                delivered = order < (2 if waiting else 4)
                items.append(
                    ChecklistItem(
                        engagement=engagement,
                        kind=kind,
                        order=order,
                        required_for_access=required,
                        status=ChecklistStatus.VERIFIED if delivered else ChecklistStatus.PENDING,
                        client_note="Entregado por correo seguro." if delivered else "",
                        delivered_at=start + timedelta(days=2 + order) if delivered else None,
                        verified_at=start + timedelta(days=3 + order) if delivered else None,
                    )
                )
        PhasePlan.objects.bulk_create(plans, batch_size=BATCH)
        ChecklistItem.objects.bulk_create(items, batch_size=BATCH)

    def requests(self, engagements: list[Engagement]) -> int:
        """Two or three formal requests per running engagement; the latest open one of some
        engagements is 40 to 80 days old, so the client-wait sweep has real candidates."""
        rows = []
        for k, engagement in enumerate(engagements):
            if engagement.status not in WITH_SESSIONS:
                continue
            for i, (kind, subject, body) in enumerate(REQUESTS[: 2 + k % 2]):
                latest = i == 1 + k % 2
                open_ = latest and (engagement.status == rules.WAITING or k % 3 == 0)
                if engagement.status == rules.WAITING:
                    sent = engagement.waiting_since - timedelta(days=61 + i)
                elif latest and open_:
                    sent = self.days_ago(40 + k % 41)
                else:
                    sent = self.days_ago(90 + 10 * (3 - i))
                rows.append(
                    FormalRequest(
                        engagement=engagement,
                        kind=kind,
                        subject=subject,
                        body=body,
                        sent_at=sent,
                        sent_by_id=engagement.consultant_id,
                        answer="" if open_ else "Listo, lo enviamos por correo.",
                        answered_at=None if open_ else sent + timedelta(days=3),
                    )
                )
        FormalRequest.objects.bulk_create(rows, batch_size=BATCH)
        # An R1 hold is about the latest request sent before it (its answer reactivates).
        latest = FormalRequest.objects.filter(engagement=OuterRef("pk")).order_by("-sent_at", "-id").values("pk")[:1]
        Engagement.objects.filter(pk__in=[e.pk for e in engagements], status=rules.WAITING).update(
            waiting_for=Subquery(latest)
        )
        return len(rows)

    def events(self, engagements: list[Engagement]) -> int:
        rows = []
        path = [rules.LEAD, rules.DIAGNOSIS, rules.QUOTED, rules.ACTIVE]
        for engagement in engagements:
            chain = (
                path[: path.index(engagement.status) + 1] if engagement.status in path else [*path, engagement.status]
            )
            for old, new in itertools.pairwise(chain):
                rows.append(
                    EngagementEvent(
                        engagement=engagement,
                        kind="engagement.status_changed",
                        actor_id=engagement.consultant_id,
                        old_status=old,
                        new_status=new,
                        reason="Cambio registrado por la consultora",
                    )
                )
        created = EngagementEvent.objects.bulk_create(rows, batch_size=BATCH)
        return len(created)

    # ------------------------------------------------------------ invoices

    def invoices(self, engagements: list[Engagement]) -> int:
        billed = [e for e in engagements if e.status in WITH_SESSIONS]
        per_engagement = spread(self.counts["invoices"], len(billed), INVOICE_WEIGHTS)
        companies = {c.pk: c for c in ClientCompany.objects.filter(pk__in={e.company_id for e in billed})}
        rows, number = [], 0
        statuses = [InvoiceStatus.PAID, InvoiceStatus.PAID, InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID]
        for engagement, count in zip(billed, per_engagement, strict=True):
            company = companies[engagement.company_id]
            for i in range(count):
                number += 1
                subtotal = Decimal(600_000 + 150_000 * ((number * 7) % 11))
                tax = (subtotal * Decimal("0.19")).quantize(Decimal(1))
                status = statuses[number % len(statuses)]
                issued = engagement.scope_confirmed_at + timedelta(days=14 * i)
                total = subtotal + tax
                paid = {InvoiceStatus.PAID: total, InvoiceStatus.PARTIALLY_PAID: (total / 2).quantize(Decimal(1))}
                rows.append(
                    Invoice(
                        series=INVOICE_SERIES,
                        number=number,
                        company=company,
                        engagement=engagement,
                        status=status,
                        currency="CLP",
                        **Invoice.client_snapshot(company),
                        tax_rate=Decimal("0.19"),
                        subtotal=subtotal,
                        tax=tax,
                        total=total,
                        issue_date=issued.date(),
                        due_date=(issued + timedelta(days=15)).date(),
                        issued_at=issued,
                        paid_amount=paid.get(status, Decimal(0)),
                    )
                )
        invoices = Invoice.objects.bulk_create(rows, batch_size=BATCH)
        InvoiceLine.objects.bulk_create(
            [
                InvoiceLine(
                    invoice=invoice,
                    order=0,
                    description="Integración Odoo ↔ tienda online: hito del plan de pagos",
                    quantity=Decimal(1),
                    unit_price=invoice.subtotal,
                    amount=invoice.subtotal,
                )
                for invoice in invoices
            ],
            batch_size=BATCH,
        )
        InvoiceCounter.objects.update_or_create(series=INVOICE_SERIES, defaults={"last_number": number})
        return len(invoices)


if __name__ == "__main__":
    main()
