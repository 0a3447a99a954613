"""One clock for R1 and reactivation, waits counted once in the estimate, phase weights in the terms.

Existing rows are filled from their own history: the waits from the status changes in the
timeline (they replace the total of days waited, which counted waits before the estimate's
start twice), the last reactivation from the last waiting → active change, and the request
an R1 hold is about from the latest request sent before the hold began.
"""

from zoneinfo import ZoneInfo

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import engagements.models

WAITING, ACTIVE = "waiting_on_client", "active"


def _backfill(apps, schema_editor):
    Engagement = apps.get_model("engagements", "Engagement")
    Event = apps.get_model("engagements", "EngagementEvent")
    Request = apps.get_model("engagements", "FormalRequest")
    tz = ZoneInfo(settings.TIME_ZONE)
    changes = Event.objects.filter(kind="engagement.status_changed").filter(
        models.Q(new_status=WAITING) | models.Q(old_status=WAITING)
    )
    for engagement in Engagement.objects.filter(pk__in=changes.values("engagement")).iterator():
        periods, began, reactivated = [], None, None
        for event in changes.filter(engagement=engagement).order_by("created_at", "id"):
            if event.new_status == WAITING:
                began = event.created_at
            elif began is not None:
                periods.append([began.astimezone(tz).date().isoformat(), event.created_at.astimezone(tz).date().isoformat()])
                began = None
            if event.old_status == WAITING and event.new_status == ACTIVE:
                reactivated = event.created_at
        engagement.wait_periods, engagement.reactivated_at = periods, reactivated
        if engagement.status == WAITING and not engagement.held_manually and engagement.waiting_since:
            latest = Request.objects.filter(engagement=engagement, sent_at__lte=engagement.waiting_since)
            engagement.waiting_for = latest.order_by("-sent_at", "-id").first()
        engagement.save(update_fields=["wait_periods", "reactivated_at", "waiting_for"])


class Migration(migrations.Migration):
    dependencies = [("engagements", "0003_schedule_times")]

    operations = [
        migrations.AddField(
            model_name="engagement",
            name="reactivated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="engagement",
            name="wait_periods",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="engagement",
            name="waiting_for",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="engagements.formalrequest",
            ),
        ),
        migrations.AddField(
            model_name="serviceterms",
            name="phase_weights",
            field=models.JSONField(default=engagements.models.default_phase_weights),
        ),
        migrations.RunPython(_backfill, migrations.RunPython.noop),
        migrations.RemoveField(model_name="engagement", name="days_waited"),
    ]
