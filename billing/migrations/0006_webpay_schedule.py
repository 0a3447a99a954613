"""The Webpay reconciliation sweep's schedule (every 15 minutes)."""

from django.db import migrations

from billing.schedules import SCHEDULES
from engagements.schedules import ensure_operation


class Migration(migrations.Migration):
    dependencies = [("billing", "0005_webpay")]
    operations = [ensure_operation(SCHEDULES)]
