from django.db import migrations, models

from engagements.integration.schedules import SCHEDULES
from engagements.schedules import ensure_schedules


def create_schedules(apps, schema_editor) -> None:
    ensure_schedules(apps.get_model("django_q", "Schedule"), SCHEDULES)


class Migration(migrations.Migration):
    dependencies = [
        ("integration", "0003_shop_adapter_state"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.AlterField(
            model_name="syncrun",
            name="trigger",
            field=models.CharField(
                choices=[
                    ("manual", "Manual"),
                    ("schedule", "Scheduled"),
                    ("webhook", "Webhook"),
                    ("reconcile", "Reconciliation"),
                    ("retry", "Retry"),
                ],
                default="manual",
                max_length=20,
            ),
        ),
        migrations.RunPython(create_schedules, migrations.RunPython.noop),
    ]
