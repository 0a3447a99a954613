"""Daily sweeps at their time of day on the business clock, not at the hour the first migration
ran: moves the next run of the schedules of a running portal (new ones get it when created)."""

from django.db import migrations

from engagements.schedules import SCHEDULES, ensure_operation


class Migration(migrations.Migration):
    dependencies = [("engagements", "0002_schedules")]
    operations = [ensure_operation(SCHEDULES)]
