"""Apply rules R1/R2 now, or as if on another day; one line per action."""

from datetime import date, datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from engagements import services
from portal import clock


class Command(BaseCommand):
    help = "Apply the client-wait rules (60 days → waiting on client, 90 more → administrative close)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--today", help="Evaluate as of this date (YYYY-MM-DD), at noon in the business time zone.")
        parser.add_argument("--dry-run", action="store_true", help="List what would happen without changing anything.")

    def handle(self, *args, today: str | None, dry_run: bool, **options) -> None:
        now = timezone.now()
        if today:
            try:
                day = date.fromisoformat(today)
            except ValueError as exc:
                raise CommandError(f"--today must be YYYY-MM-DD, got {today!r}") from exc
            now = datetime.combine(day, time(12), tzinfo=clock.business_tz())
        actions = services.client_wait_sweep(now=now, dry_run=dry_run)
        for action in actions:
            self.stdout.write(action.line())
        suffix = " (dry run: nothing changed)" if dry_run else ""
        self.stdout.write(f"{len(actions)} action(s){suffix}")
