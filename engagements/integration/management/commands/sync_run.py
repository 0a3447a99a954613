"""Run one sync flow of one engagement from the shell and print its report."""

from django.core.management.base import BaseCommand, CommandError

from engagements.integration.errors import IntegrationError
from engagements.integration.management.report import write_run
from engagements.integration.runner import FLOWS, run_flow
from engagements.models import Engagement
from portal.errors import DomainError


class Command(BaseCommand):
    help = "Run a sync flow for an engagement and print the run report."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--engagement", required=True, help="The engagement code, e.g. E-7K3Q9XJ2")
        parser.add_argument("--flow", required=True, choices=sorted(FLOWS))
        parser.add_argument("--dry-run", action="store_true", help="Plan only: no write anywhere, cursor unchanged.")
        parser.add_argument("--full", action="store_true", help="Ignore the cursor: a full pass.")

    def handle(self, *args, engagement: str, flow: str, dry_run: bool, full: bool, **options) -> None:
        target = Engagement.objects.filter(code=engagement).first()
        if target is None:
            raise CommandError(f"No engagement with code {engagement}.")
        try:
            run = run_flow(engagement=target, flow=flow, dry_run=dry_run, full=full)
        except DomainError as error:
            raise CommandError(str(error.message)) from error
        except IntegrationError as error:
            raise CommandError(str(error)) from error
        write_run(self.stdout, run, f"{run.flow} run")
