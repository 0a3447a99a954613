"""Match an engagement's Odoo products with its shop's catalogue and print the proposal (a dry run);
with --apply, approve the latest proposal (matched again, only the pairs still proposed the same way)."""

from django.core.management.base import BaseCommand, CommandError

from engagements.integration import matching
from engagements.integration.management.report import write_run
from engagements.integration.models import SyncRun
from engagements.models import Engagement
from portal.errors import DomainError


class Command(BaseCommand):
    help = "Propose product bindings by SKU and barcode (dry run), or approve the latest proposal with --apply."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--engagement", required=True, help="The engagement code, e.g. E-7K3Q9XJ2")
        parser.add_argument(
            "--apply",
            action="store_true",
            help="Approve the latest proposal: create the bindings it proposed that still match the same way.",
        )

    def handle(self, *args, engagement: str, apply: bool, **options) -> None:
        target = Engagement.objects.filter(code=engagement).first()
        if target is None:
            raise CommandError(f"No engagement with code {engagement}.")
        try:
            if apply:
                proposal = matching.proposal_latest(target)
                if proposal is None:
                    raise CommandError("No proposal yet: run the command without --apply first and read it.")
                run = matching.bindings_apply(actor=None, engagement=target, proposal=proposal)
            else:
                run = matching.bindings_propose(engagement=target)
        except DomainError as error:
            raise CommandError(str(error.message)) from error
        self._print(run)

    def _print(self, run: SyncRun) -> None:
        label = "proposal (dry run: nothing bound)" if run.dry_run else "approval"
        write_run(self.stdout, run, f"product matching {label}")
        if run.dry_run and run.counts.get("created"):
            self.stdout.write(f"Approve with: manage.py bootstrap_bindings --engagement {run.engagement.code} --apply")
