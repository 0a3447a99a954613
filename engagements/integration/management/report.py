"""How the integration's commands print a run: the same lines for every flow."""

from __future__ import annotations

from engagements.integration.models import SyncRun


def write_run(stdout, run: SyncRun, heading: str) -> None:
    """`heading -> status`, the window and cursor when the flow has them, counts, calls, one line
    per item (action, shop and Odoo records, reason, message), and the run's summary."""
    stdout.write(f"{heading} {run.public_id} {'(dry run) ' if run.dry_run else ''}-> {run.status}")
    if run.window_start or run.cursor_before or run.cursor_after:
        stdout.write(
            f"window {run.window_start} .. {run.window_end}; cursor {run.cursor_before or '-'} -> "
            f"{run.cursor_after or '-'}"
        )
    stdout.write("counts " + ", ".join(f"{k}={v}" for k, v in run.counts.items()))
    stdout.write("api " + ", ".join(f"{k}={v}" for k, v in run.api_usage.items()))
    for item in run.items.all():
        stdout.write(
            f"  {item.action:<13} shop={item.external_id or '-':<12} odoo={item.odoo_id or '-':<6} "
            f"{item.reason_code} {item.message}".rstrip()
        )
    if run.summary:
        stdout.write(run.summary)
