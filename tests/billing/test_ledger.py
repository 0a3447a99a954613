"""Payments, credits (R3) and reminders: amounts, boundaries and the ledger."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from billing import ledger
from billing import services as billing
from billing.models import Credit, CreditStatus, Invoice, InvoiceStatus, LedgerKind
from engagements import rules
from engagements import services as lifecycle
from engagements.models import Engagement
from portal.errors import DomainError
from tests.billing.fixtures import accept, accepted_hour_bank
from tests.engagements.fixtures import DIAGNOSIS, log_session, wait_for_days

pytestmark = pytest.mark.django_db


def _pay(invoice, sam, amount, **kw):
    return ledger.payment_record(
        actor=sam, invoice=invoice, paid_on=timezone.localdate(), amount=Decimal(amount), method="transfer", **kw
    )


class TestPayments:
    def test_partial_then_full(self, first_invoice, sam):
        _pay(first_invoice, sam, "304240")
        first_invoice.refresh_from_db()
        assert first_invoice.status == InvoiceStatus.PARTIALLY_PAID and first_invoice.balance == Decimal(1000000)
        _pay(first_invoice, sam, "1000000")
        first_invoice.refresh_from_db()
        assert first_invoice.status == InvoiceStatus.PAID and first_invoice.balance == 0

    def test_more_than_the_balance_is_refused_unless_kept_as_credit(self, first_invoice, sam):
        with pytest.raises(DomainError):
            _pay(first_invoice, sam, "1304241")
        assert not first_invoice.payments.exists()
        _pay(first_invoice, sam, "1404240", excess_to_credit=True)
        credit = Credit.objects.get()
        assert (credit.status, credit.balance, credit.amount) == (CreditStatus.ACTIVE, Decimal(100000), Decimal(100000))
        assert first_invoice.payments.get().amount == Decimal(1304240)

    @pytest.mark.parametrize("amount", ["0", "-5", "10.5"])
    def test_bad_amounts_are_refused(self, first_invoice, sam, amount):
        with pytest.raises(DomainError):
            _pay(first_invoice, sam, amount)
        first_invoice.refresh_from_db()
        assert first_invoice.paid_amount == 0

    def test_a_paid_invoice_takes_no_more_payments(self, first_invoice, sam):
        _pay(first_invoice, sam, "1304240")
        with pytest.raises(DomainError):
            _pay(first_invoice, sam, "1")


def _admin_close(engagement, sam) -> Credit:
    lifecycle.engagement_transition(engagement=engagement, target=rules.WAITING, actor=None, reason="R1")
    wait_for_days(engagement, 90)
    lifecycle.engagement_admin_close(actor=sam, engagement=engagement, reason="90 días sin respuesta")
    return Credit.objects.get(engagement=engagement)


def _stall_in(engagement, phase, carla) -> None:
    """Complete the phases before `phase` (their work not done: with a reason), so the engagement stalls in it."""
    for done in rules.PHASES[: rules.PHASES.index(phase)]:
        lifecycle.phase_complete(actor=carla, engagement=engagement, phase=done, reason="avance registrado")


class TestCreditAtAdministrativeClose:
    """R3 on the quote of the fixture: total 3.260.600 (2.740.000 + IVA), 40 % = 1.304.240, 30 % = 978.180."""

    @pytest.mark.parametrize(
        ("phase", "executed_percent", "paid", "proposal"),
        [
            (rules.PLANNING, 0, "1304240", 1304240),  # nothing executed: the whole advance comes back
            (rules.CONFIGURATION, 15, "1304240", 815150),  # 1.304.240 - 15 % of 3.260.600
            (rules.TESTING, 60, "2282420", 326060),  # 40 % + 30 % paid - 60 % executed
            (rules.CLOSING, 85, "2282420", 0),  # more executed than paid: never below zero
        ],
    )
    def test_a_stall_in_each_phase_proposes_paid_minus_executed(
        self, first_invoice, sam, carla, phase, executed_percent, paid, proposal
    ):
        engagement = first_invoice.engagement
        _stall_in(engagement, phase, carla)
        for invoice in Invoice.objects.filter(engagement=engagement).order_by("number"):
            _pay(invoice, sam, str(invoice.total))
        assert sum(Invoice.objects.values_list("paid_amount", flat=True)) == Decimal(paid)
        credit = _admin_close(engagement, sam)
        assert credit.status == CreditStatus.PROPOSED and credit.proposed_amount == Decimal(proposal)
        assert credit.basis["executed_percent"] == executed_percent and credit.basis["paid"] == paid
        assert credit.basis["service_total"] == "3260600" and credit.basis["amount"] == str(proposal)

    def test_the_domain_example_400000_then_250000(self, make_engagement, andes, sam, carla, alice):
        """Total 1.000.000 (exempt), 40 % paid: stalled in planning 400.000; planning completed 250.000."""
        proposals = []
        for stalled_in in (rules.PLANNING, rules.CONFIGURATION):
            engagement = make_engagement(andes, rules.DIAGNOSIS)
            lifecycle.diagnosis_save(actor=carla, engagement=engagement, values=DIAGNOSIS, complete=True)
            quote = billing.quote_create(
                actor=sam,
                engagement=engagement,
                tax_rate=Decimal(0),
                lines=[billing.LineInput("Servicio", Decimal(1), Decimal(1000000))],
            )
            accept(billing.quote_send(actor=sam, quote=quote), alice)
            _pay(Invoice.objects.get(engagement=engagement), sam, "400000")
            _stall_in(engagement, stalled_in, carla)
            proposals.append(_admin_close(engagement, sam).proposed_amount)
        assert proposals == [Decimal(400000), Decimal(250000)]

    def test_payments_made_with_credit_do_not_count(self, first_invoice, sam, andes):
        earlier = Credit.objects.create(
            company=andes, currency="CLP", proposed_amount=Decimal(304240), reason="saldo anterior"
        )
        earlier = ledger._credit_activate(earlier, amount=Decimal(304240), start=timezone.localdate(), actor=sam)
        ledger.credit_apply(actor=sam, credit=earlier, invoice=first_invoice, amount=Decimal(304240))
        _pay(first_invoice, sam, "1000000")
        credit = _admin_close(first_invoice.engagement, sam)
        assert credit.proposed_amount == Decimal(1000000) and credit.basis["paid"] == "1000000"

    def test_the_hour_bank_time_not_used_stays_in_the_balance(self, first_invoice, sam, carla, alice):
        engagement = first_invoice.engagement
        accepted_hour_bank(engagement, sam, alice, hours=2, unit_price=50000)  # 100.000 + IVA = 119.000
        for session in engagement.sessions.all():
            log_session(session, carla, minutes=66)  # 330 minutes: 30 beyond the included 300
        for invoice in Invoice.objects.filter(engagement=engagement):
            _pay(invoice, sam, str(invoice.total))
        credit = _admin_close(engagement, sam)
        # paid 1.304.240 + 119.000; executed: planning not completed (0 %) + 30 of 120 minutes (29.750)
        assert credit.proposed_amount == Decimal(1304240 + 119000 - 29750)
        assert (credit.basis["hours_executed"], credit.basis["hours_unused"]) == ("29750", "89250")

    def test_an_unpaid_engagement_is_never_proposed_a_negative_credit(self, first_invoice, sam, carla):
        _stall_in(first_invoice.engagement, rules.CONFIGURATION, carla)  # 15 % executed, nothing paid
        credit = _admin_close(first_invoice.engagement, sam)
        assert credit.proposed_amount == 0 and credit.basis["service_executed"] == "489090"

    def test_the_client_reads_the_confirmed_credit_with_its_arithmetic(self, client, first_invoice, sam, alice):
        _pay(first_invoice, sam, "1304240")
        credit = _admin_close(first_invoice.engagement, sam)
        url = reverse("engagements:detail", args=[first_invoice.engagement.code])
        client.force_login(alice)
        assert "credit-basis" not in client.get(url).content.decode()  # a proposal is for staff to decide
        ledger.credit_confirm(actor=sam, credit=credit, amount=Decimal(1200000), reason="Ajuste por trabajo previo")
        page = client.get(url).content.decode()
        for text in ("Pagos recibidos", "CLP 1.304.240", "0\xa0% del servicio", "CLP 1.200.000", "Ajuste por trabajo"):
            assert text in page, text

    def test_staff_adjust_with_a_reason_and_the_validity_is_six_calendar_months(self, first_invoice, sam):
        credit = _admin_close(first_invoice.engagement, sam)
        with pytest.raises(DomainError):
            ledger.credit_confirm(actor=sam, credit=credit, amount=Decimal(500000))
        Engagement.objects.filter(pk=credit.engagement_id).update(
            status_changed_at=datetime(2026, 8, 31, 12, tzinfo=lifecycle.business_tz())
        )
        credit = ledger.credit_confirm(actor=sam, credit=credit, amount=Decimal(500000), reason="Poco avance real")
        assert (credit.starts_on, credit.valid_until) == (date(2026, 8, 31), date(2027, 2, 28))
        assert list(credit.entries.values_list("kind", "amount")) == [(LedgerKind.CREATED, Decimal(500000))]

    def test_zero_dismisses_the_proposal(self, first_invoice, sam):
        credit = ledger.credit_confirm(actor=sam, credit=_admin_close(first_invoice.engagement, sam), amount=Decimal(0))
        assert credit.status == CreditStatus.DISMISSED and not credit.entries.exists()


@pytest.fixture
def active_credit(first_invoice, sam):
    credit = _admin_close(first_invoice.engagement, sam)
    return ledger.credit_confirm(actor=sam, credit=credit, amount=Decimal(700000), reason="Ajuste")


class TestCreditUse:
    def _later_invoice(self, company, total="500000"):
        invoice = Invoice.objects.create(
            series="F",
            company=company,
            currency="CLP",
            client_name="x",
            client_rut="1",
            client_address="x",
            client_email="a@b.cl",
            tax_rate=Decimal(0),
            subtotal=Decimal(total),
            tax=0,
            total=Decimal(total),
        )
        return billing.invoice_issue(invoice=invoice)

    def test_a_credit_pays_a_later_invoice_and_the_ledger_adds_up(self, active_credit, sam, andes):
        invoice = self._later_invoice(andes)
        ledger.credit_apply(actor=sam, credit=active_credit, invoice=invoice, amount=Decimal(500000))
        active_credit.refresh_from_db()
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.PAID and active_credit.balance == Decimal(200000)
        assert sum(active_credit.entries.values_list("amount", flat=True)) == active_credit.balance

    def test_not_beyond_its_balance(self, active_credit, sam, andes):
        invoice = self._later_invoice(andes, "900000")
        with pytest.raises(DomainError):
            ledger.credit_apply(actor=sam, credit=active_credit, invoice=invoice, amount=Decimal(700001))
        assert not invoice.payments.exists()

    def test_not_for_another_company(self, active_credit, sam, otra):
        with pytest.raises(DomainError):
            ledger.credit_apply(actor=sam, credit=active_credit, invoice=self._later_invoice(otra), amount=Decimal(1))

    def test_usable_on_its_last_day_and_expired_the_day_after(self, active_credit, sam, andes):
        last_day = active_credit.valid_until
        assert ledger.credit_expire_sweep(today=last_day) == 0
        assert ledger.credit_expire_sweep(today=last_day + timedelta(days=1)) == 1
        assert ledger.credit_expire_sweep(today=last_day + timedelta(days=1)) == 0
        active_credit.refresh_from_db()
        assert active_credit.status == CreditStatus.EXPIRED and active_credit.balance == 0
        assert list(active_credit.entries.values_list("kind", flat=True)) == [LedgerKind.CREATED, LedgerKind.EXPIRED]
        with pytest.raises(DomainError):
            ledger.credit_apply(actor=sam, credit=active_credit, invoice=self._later_invoice(andes), amount=Decimal(1))

    def test_an_expiry_warning_goes_out_once(self, active_credit, django_capture_on_commit_callbacks):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            ledger.credit_expire_sweep(today=active_credit.valid_until - timedelta(days=10))
            ledger.credit_expire_sweep(today=active_credit.valid_until - timedelta(days=9))
        assert [m.to for m in mail.outbox] == [["pagos@andes.test"]]


@pytest.mark.parametrize(
    ("closed", "valid_until"),
    [
        (date(2027, 8, 31), date(2028, 2, 29)),
        (date(2026, 1, 31), date(2026, 7, 31)),
        (date(2026, 6, 30), date(2026, 12, 30)),
    ],
)
def test_credit_validity_at_month_ends_and_leap_years(first_invoice, sam, closed, valid_until):
    credit = _admin_close(first_invoice.engagement, sam)
    Engagement.objects.filter(pk=credit.engagement_id).update(
        status_changed_at=datetime.combine(closed, datetime.min.time(), tzinfo=lifecycle.business_tz())
    )
    credit = ledger.credit_confirm(actor=sam, credit=credit, amount=Decimal(1), reason="x")
    assert credit.valid_until == valid_until


@pytest.mark.parametrize(
    ("closed", "valid_until"),
    [
        # 23:30 on 4 April 2026, in the hour Chile repeats when clocks go back: a 4 April close.
        (datetime(2026, 4, 4, 23, 30, fold=1), date(2026, 10, 4)),
        # 23:30 on 5 September 2026, the last hour before clocks go forward (already the 6th in UTC).
        (datetime(2026, 9, 5, 23, 30), date(2027, 3, 5)),
    ],
)
def test_credit_validity_counts_from_the_local_close_day_on_dst_changes(first_invoice, sam, closed, valid_until):
    credit = _admin_close(first_invoice.engagement, sam)
    Engagement.objects.filter(pk=credit.engagement_id).update(
        status_changed_at=closed.replace(tzinfo=lifecycle.business_tz())
    )
    credit = ledger.credit_confirm(actor=sam, credit=credit, amount=Decimal(1), reason="x")
    assert (credit.starts_on, credit.valid_until) == (closed.date(), valid_until)


def test_a_credit_pays_on_its_last_day_and_not_the_day_after(first_invoice, sam, andes):
    credit = Credit.objects.create(company=andes, currency="CLP", proposed_amount=Decimal(10), reason="prueba")
    credit = ledger._credit_activate(credit, amount=Decimal(10), start=timezone.localdate(), actor=sam)
    Credit.objects.filter(pk=credit.pk).update(valid_until=timezone.localdate() - timedelta(days=1))
    with pytest.raises(DomainError):
        ledger.credit_apply(actor=sam, credit=credit, invoice=first_invoice, amount=Decimal(1))
    Credit.objects.filter(pk=credit.pk).update(valid_until=timezone.localdate())
    ledger.credit_apply(actor=sam, credit=credit, invoice=first_invoice, amount=Decimal(1))
    assert first_invoice.payments.get().method == "credit"


def test_overdue_reminders_are_spaced_and_limited(first_invoice, django_capture_on_commit_callbacks):
    Invoice.objects.filter(pk=first_invoice.pk).update(due_date=timezone.localdate() - timedelta(days=1))
    now = timezone.now()
    counts = []
    with django_capture_on_commit_callbacks(execute=True):
        for day in range(0, 40):
            counts.append(ledger.invoice_reminder_sweep(now=now + timedelta(days=day)))
    assert sum(counts) == ledger.REMINDER_LIMIT
    assert counts[0] == 1 and counts[1] == 0  # not two days in a row
