"""The books' schedules: pushes retried every 2 minutes, the read-back every 15."""

from django.db import migrations

from books.schedules import SCHEDULES
from engagements.schedules import ensure_operation


class Migration(migrations.Migration):
    dependencies = [("books", "0001_initial"), ("engagements", "0002_schedules")]
    operations = [ensure_operation(SCHEDULES)]
