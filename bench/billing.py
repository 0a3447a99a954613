"""Billing benchmarks: PDF rendering and concurrent invoice issuing.

Run through `make bench` (a migrated PostgreSQL database in DATABASE_URL).
Prints Markdown; timings are wall-clock on this machine.
"""

from __future__ import annotations

import os
import resource
import statistics
import threading
import time
from decimal import Decimal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")
os.environ.setdefault("Q_SYNC", "0")  # PDF tasks are queued, as in production
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.db import connection, connections, transaction  # noqa: E402

from billing import pdf, services  # noqa: E402
from billing.models import Invoice, InvoiceCounter, InvoiceLine  # noqa: E402
from portal.models import ClientCompany  # noqa: E402

RENDERS = 20


def _company() -> ClientCompany:
    company, _ = ClientCompany.objects.get_or_create(
        rut="765432103",
        defaults={"legal_name": "Bench SpA", "address": "Av. Siempre Viva 742", "billing_email": "b@b.cl"},
    )
    return company


def _invoice(company: ClientCompany, lines: int, series: str) -> Invoice:
    invoice = Invoice.objects.create(
        series=series,
        company=company,
        currency="CLP",
        **Invoice.client_snapshot(company),
        tax_rate=Decimal("0.19"),
        subtotal=Decimal(100 * lines),
        tax=Decimal(19 * lines),
        total=Decimal(119 * lines),
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            order=n,
            description=f"Servicio de integración, línea {n} — configuración",
            quantity=Decimal(1),
            unit_price=Decimal(100),
            amount=Decimal(100),
        )
        for n in range(lines)
    )
    return invoice


def bench_pdf() -> list[str]:
    company = _company()
    rows = ["| document | pages | median ms/page | p95 ms/doc | peak RSS MB |", "|---|---|---|---|---|"]
    for label, lines in (("1-page invoice", 12), ("2-page invoice", 45)):
        invoice = services.invoice_issue(invoice=_invoice(company, lines, "B"))
        services.invoice_pdf_bytes(invoice)  # warm-up: fonts, templates
        pages, times = len(pdf.layout(services.INVOICE_TEMPLATE, services.invoice_pdf_context(invoice)).pages), []
        for _ in range(RENDERS):
            start = time.perf_counter()
            services.invoice_pdf_bytes(invoice)
            times.append(time.perf_counter() - start)
        per_page = statistics.median(times) / pages * 1000
        p95 = statistics.quantiles(times, n=20)[-1] * 1000
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows.append(f"| {label} | {pages} | {per_page:.0f} | {p95:.0f} | {rss:.0f} |")
    return rows


def bench_numbering(threads: int = 8, per_thread: int = 50) -> list[str]:
    company = _company()
    series = f"N{int(time.time()) % 100000}"
    drafts = [_invoice(company, 1, series).pk for _ in range(threads * per_thread)]
    failures: list[str] = []
    barrier = threading.Barrier(threads)

    def issuer(n: int) -> None:
        try:
            barrier.wait()
            for pk in drafts[n * per_thread : (n + 1) * per_thread]:
                try:
                    with transaction.atomic():
                        services.invoice_issue(invoice=Invoice(pk=pk))
                except Exception as exc:  # counted, reported
                    failures.append(repr(exc))
        finally:
            connections.close_all()

    workers = [threading.Thread(target=issuer, args=(n,)) for n in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - start
    numbers = list(Invoice.objects.filter(series=series).exclude(number=None).values_list("number", flat=True))
    duplicates = len(numbers) - len(set(numbers))
    gaps = (max(numbers) - len(set(numbers))) if numbers else 0
    assert InvoiceCounter.objects.get(series=series).last_number == len(numbers)
    return [
        "| issuers | invoices | issued | duplicates | gaps | failures | rate |",
        "|---|---|---|---|---|---|---|",
        f"| {threads} | {len(drafts)} | {len(numbers)} | {duplicates} | {gaps} | {len(failures)} | "
        f"{len(numbers) / elapsed:.0f}/s |",
    ]


def main() -> None:
    print(f"## Billing ({connection.vendor})\n")
    print("### PDF rendering (WeasyPrint, warm, 20 renders each)\n")
    print("\n".join(bench_pdf()))
    print("\n### Invoice numbering: 8 concurrent issuers x 50, counter row locked in the issuing transaction\n")
    print("\n".join(bench_numbering()))


if __name__ == "__main__":
    main()
