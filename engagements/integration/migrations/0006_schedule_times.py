"""Daily sweeps at their time of day on the business clock, not at the hour the first migration
ran: moves the next run of the schedules of a running portal (new ones get it when created)."""

from django.db import migrations

from engagements.schedules import ensure_operation
from engagements.integration.schedules import SCHEDULES


class Migration(migrations.Migration):
    dependencies = [("integration", "0005_reconcile_and_matching_flows")]
    operations = [ensure_operation(SCHEDULES)]
