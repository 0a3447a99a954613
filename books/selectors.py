"""Reads for the books' pages and panels, scoped to the acting user.

The books page, its runs and pushes are staff's. A client sees, beside their own payment
request, its Odoo folio, states and legal PDF, nothing else of the books.
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from billing.models import Invoice
from billing.selectors import invoice_list_for_user
from books.models import BooksConnection, BooksDocument, BooksPush, BooksRun, PushKind, PushState
from engagements.panels import Panel
from portal.models import Role, User


def run_list_for_user(user: User) -> QuerySet[BooksRun]:
    return BooksRun.objects.all() if user.role == Role.STAFF else BooksRun.objects.none()


def push_list_for_user(user: User) -> QuerySet[BooksPush]:
    pushes = BooksPush.objects.select_related("invoice", "payment")
    return pushes if user.role == Role.STAFF else pushes.none()


def document_list_for_user(user: User) -> QuerySet[BooksDocument]:
    """The Odoo side of the documents the user may see (another company's: none)."""
    return BooksDocument.objects.filter(invoice__in=invoice_list_for_user(user)).select_related("invoice")


def books_page(user: User) -> dict:
    """The staff page: the connection, what needs a person, what waits, the latest passes."""
    pushes = push_list_for_user(user)
    attention = list(pushes.filter(state=PushState.ATTENTION)[:50])
    flagged = list(document_list_for_user(user).exclude(attention="")[:50])
    return {
        "connection": BooksConnection.objects.filter(pk=1).first(),
        "attention": attention,
        "flagged": flagged,
        "needing": len(attention) + len(flagged),
        "waiting": list(pushes.filter(state=PushState.PENDING).order_by("next_attempt_at", "id")[:50]),
        "runs": list(run_list_for_user(user)[:20]),
    }


def invoice_panel(invoice: Invoice, user: User) -> Panel | None:
    """Beside a payment request: its Odoo folio, states, SII status and PDF; for staff also its
    pushes and, for a document issued before the books were on, "send it to Odoo"."""
    doc = BooksDocument.objects.filter(invoice=invoice).first()
    staff = user.role == Role.STAFF
    if doc is None and not staff:
        return None
    context = {"doc": doc, "invoice": invoice, "staff": staff}
    if staff:
        connection = BooksConnection.objects.filter(pk=1).first()
        if connection is None and doc is None:
            return None
        pushes = list(BooksPush.objects.filter(invoice=invoice).select_related("payment"))
        context["pushes"] = pushes
        context["can_send"] = (
            invoice.number is not None
            and invoice.credit_note_for_id is None
            and not any(p.kind == PushKind.INVOICE for p in pushes)
        )
    return Panel("books/_invoice_panel.html", context)


def finance_panel(user: User) -> Panel | None:
    if user.role != Role.STAFF:
        return None
    counts = BooksPush.objects.aggregate(
        attention=Count("pk", filter=Q(state=PushState.ATTENTION)),
        waiting=Count("pk", filter=Q(state=PushState.PENDING)),
    )
    return Panel(
        "books/_finance_panel.html",
        {
            "connection": BooksConnection.objects.filter(pk=1).first(),
            "attention": counts["attention"] + BooksDocument.objects.exclude(attention="").count(),
            "waiting": counts["waiting"],
        },
    )
