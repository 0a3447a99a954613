"""What a push flow remembers on a binding: the last value it sent, one key per flow.

`Binding.last_pushed_value` is shared: the stock flow keeps `"qty"`, the price flow
`"price"`. The two flows may run at the same time (one run per engagement and flow,
not per engagement), so a flow must merge its key into the stored dict under a row
lock, never write the dict whole: a stale copy would put back the other flow's old
value, and that flow would then skip a change it has not pushed.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from engagements.integration.models import Binding


def remember_pushed(values: dict[int, dict], *, at: datetime | None = None) -> None:
    """Merge `{binding pk: {"price": "15990"}}` into each binding's last pushed value."""
    if not values:
        return
    at = at or timezone.now()
    with transaction.atomic():
        # Locked in pk order, so two flows locking overlapping sets cannot deadlock.
        bindings = list(
            Binding.objects.select_for_update().filter(pk__in=values).order_by("pk").only("pk", "last_pushed_value")
        )
        for binding in bindings:
            binding.last_pushed_value = {**(binding.last_pushed_value or {}), **values[binding.pk]}
            binding.last_synced_at = at
        Binding.objects.bulk_update(bindings, ["last_pushed_value", "last_synced_at"])
