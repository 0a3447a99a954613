"""django-q2 entry points of the engagements app: thin, safe to run twice."""

from django.utils import timezone

from engagements import services


def client_wait_sweep() -> list[str]:
    """Daily: apply R1/R2 and send the warnings (schedule: engagements.schedules)."""
    return [action.line() for action in services.client_wait_sweep(now=timezone.now())]


def client_wait_notify(mails: list[dict]) -> int:
    """After a sweep: render and queue its warnings and notices (engagement and request ids)."""
    return services.client_wait_notify(mails=mails)
