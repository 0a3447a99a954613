"""Create (or complete) the demo data; running it twice changes nothing."""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from portal.notifications import muted


class Command(BaseCommand):
    help = "Create the demo consultancy, client companies and their data (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--i-know-this-is-not-production",
            action="store_true",
            dest="not_production",
            help="Run with DEBUG off (a staging copy). Never on a live portal.",
        )

    def handle(self, *args, **options) -> None:
        # The demo accounts' password and TOTP secrets are public (README): on a live portal they
        # would be a staff login for anyone.
        if not settings.DEBUG and not options["not_production"]:
            raise CommandError(
                "seed_demo creates accounts with a public password and TOTP secret, so it refuses to run "
                "with DEBUG off. On a throwaway copy that is not production, add --i-know-this-is-not-production."
            )
        logins: list[str] = []
        with transaction.atomic(), muted():
            for app in apps.get_app_configs():
                if find_spec(f"{app.name}.demo") is not None:
                    logins += import_module(f"{app.name}.demo").seed(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready. Sign in at http://127.0.0.1:8000 with:"))
        for line in logins:
            self.stdout.write(f"  {line}")
        self.stdout.write(
            "Staff and consultant accounts ask for a TOTP code: add the secret to an authenticator app, "
            "or run `python manage.py demo_totp EMAIL` (DEBUG only)."
        )
