from django.db import migrations

from billing.schedules import SCHEDULES
from engagements.schedules import ensure_schedules


def create_schedules(apps, schema_editor) -> None:
    ensure_schedules(apps.get_model("django_q", "Schedule"), SCHEDULES)


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_invoice_last_reminder_at_invoice_paid_amount_and_more"), ("engagements", "0002_schedules")]
    operations = [migrations.RunPython(create_schedules, migrations.RunPython.noop)]
