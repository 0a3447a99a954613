"""Create the database cache table (login rate limits, TOTP replay guard).

Running `createcachetable` from a migration means `migrate` alone prepares a
fresh database; the command is idempotent and does nothing for Redis.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor) -> None:
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
