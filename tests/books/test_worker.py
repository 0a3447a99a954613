"""A real django-q2 cluster pushes what a commit enqueued; killed in the middle of a push and
restarted, the document is in Odoo exactly once (the task runs again, the lease lapses, the
partner and the invoice are found by their markers before any create)."""

import os
import signal

import django_q.conf
import pytest

from billing import services as billing
from books.models import BooksPush, PushState
from tests.books.conftest import connect, document, draft
from tests.fakes.odoo import FakeOdoo, FakeOdooServer
from tests.fakes.odoo_books import install
from tests.integration.test_crash import _cluster, _wait

CLUSTER = {"BOOKS_LEASE_SECONDS": "21", "BOOKS_ODOO_TIMEOUT": "5"}  # Q_TIMEOUT 20 in _cluster


@pytest.mark.django_db(transaction=True)
def test_a_push_killed_halfway_is_done_once_by_the_next_worker(andes, sam, monkeypatch):
    odoo = FakeOdoo(latency=0.4)  # slow enough to kill the worker between the partner and the invoice
    install(odoo)
    monkeypatch.setattr(django_q.conf.Conf, "SYNC", False)  # enqueue for the real cluster
    with FakeOdooServer(odoo) as server:
        connect(server.url, sam)
        invoice = billing.invoice_issue(invoice=draft(andes))  # autocommit: the push task is queued now
        first = _cluster(**CLUSTER)
        try:
            started = _wait(lambda: odoo.data["res.partner"].get(2515) is not None, 60)
        finally:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(10)
        assert started, "the push never started"
        assert not odoo.data["account.move"], "killed too late to test anything"
        second = _cluster(**CLUSTER)
        try:
            done = _wait(lambda: BooksPush.objects.filter(state=PushState.DONE).exists(), 120)
        finally:
            os.killpg(second.pid, signal.SIGKILL)
            second.wait(10)
    assert done, list(BooksPush.objects.values("state", "reason_code", "message"))
    assert len([p for p in odoo.data["res.partner"].values() if p.get("vat") == "76543210-3"]) == 1
    assert [m["ref"] for m in odoo.data["account.move"].values()] == [invoice.display_number]
    assert document(invoice).folio == "FAC 000001"
