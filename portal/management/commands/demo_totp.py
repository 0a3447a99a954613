"""Print the current TOTP code of a demo account (development only)."""

from allauth.mfa.totp.internal import auth
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.demo import DEMO_TOTP_SECRETS


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo staff or consultant account (DEBUG only)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")

    def handle(self, *args, email: str, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_totp only runs with DEBUG=1.")
        secret = DEMO_TOTP_SECRETS.get(email.lower())
        if secret is None:
            raise CommandError(f"{email} is not a demo account with a TOTP secret.")
        counter = next(auth.yield_hotp_counters_from_time())
        self.stdout.write(auth.format_hotp_value(auth.hotp_value(secret, counter)))
