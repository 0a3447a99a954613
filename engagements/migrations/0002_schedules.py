from django.db import migrations

from engagements.schedules import ensure_schedules


def create_schedules(apps, schema_editor) -> None:
    ensure_schedules(apps.get_model("django_q", "Schedule"))


class Migration(migrations.Migration):
    dependencies = [("engagements", "0001_initial"), ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")]
    operations = [migrations.RunPython(create_schedules, migrations.RunPython.noop)]
