"""Milestones know when nothing is left to collect; credits keep the arithmetic of their proposal."""

from django.db import migrations, models
from django.db.models import F


def _settled(apps, schema_editor):
    # Milestones whose payment request is already paid are settled as of their last payment.
    Milestone = apps.get_model("billing", "PaymentMilestone")
    Payment = apps.get_model("billing", "Payment")
    for milestone in Milestone.objects.filter(invoice__status="paid", invoice__paid_amount__gte=F("invoice__total")):
        last = Payment.objects.filter(invoice__milestone=milestone).order_by("-recorded_at").first()
        milestone.settled_at = last.recorded_at if last else milestone.reached_at
        milestone.save(update_fields=["settled_at"])


class Migration(migrations.Migration):
    dependencies = [("billing", "0006_webpay_schedule")]

    operations = [
        migrations.AddField(
            model_name="credit",
            name="basis",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="paymentmilestone",
            name="settled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(_settled, migrations.RunPython.noop),
    ]
