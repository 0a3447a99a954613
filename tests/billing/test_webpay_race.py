"""Exactly once under concurrency: the browser's return twice, a second worker and the sweep
race on one approved transaction (threads on PostgreSQL, the fake Transbank slowed down)."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from billing import ledger
from billing.models import Invoice, Payment, WebpayAttempt, WebpayStatus
from billing.webpay import services as webpay

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_returns_a_second_worker_and_the_sweep_record_one_payment(alice, first_invoice, transbank):
    attempt = webpay.attempt_start(user=alice, invoice=first_invoice, return_url="http://testserver/r", request=None)
    transbank.approve(attempt.token)
    # Old enough for the sweep to take it too.
    WebpayAttempt.objects.filter(pk=attempt.pk).update(created_at=timezone.now() - timedelta(minutes=20))
    transbank.latency = 0.3  # every racer is inside its window while the first call is on the wire
    racers = [
        lambda: webpay.attempt_return(webpay.ReturnParams(token_ws=attempt.token)),
        lambda: webpay.attempt_return(webpay.ReturnParams(token_ws=attempt.token)),
        lambda: webpay.attempt_commit(attempt_id=attempt.pk),
        lambda: webpay.reconcile_sweep(now=timezone.now()),
    ]
    barrier, errors = threading.Barrier(len(racers)), []

    def run(racer):
        barrier.wait()
        try:
            racer()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(racer,)) for racer in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert Payment.objects.count() == 1
    assert WebpayAttempt.objects.get().status == WebpayStatus.PAID
    assert Invoice.objects.get().paid_amount == attempt.amount
    # The first racer asked Transbank; the others waited on the row lock and read the outcome.
    assert len(transbank.requests) == 2  # create + one commit (or one status, if the sweep won)


def test_the_unique_gateway_reference_is_the_last_guard(first_invoice, sam):
    def record():
        return ledger.payment_record(
            actor=sam,
            invoice=first_invoice,
            paid_on=timezone.localdate(),
            amount=Decimal(1000),
            method="webpay",
            gateway_ref="webpay:F-000001-abcd",
        )

    record()
    with pytest.raises(IntegrityError), transaction.atomic():
        record()
    assert Payment.objects.count() == 1
