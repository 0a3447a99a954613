"""System checks for configuration the portal relies on."""

from django.conf import settings
from django.core.checks import Error, register

MAX_ATTEMPTS_CEILING = 10


def q_cluster_errors(conf: dict) -> list[Error]:
    """Validate a django-q2 Q_CLUSTER dict (pure, so tests pass any dict).

    - `timeout` must be set, or a stuck task runs forever;
    - `retry` must exceed `timeout`, or the broker re-delivers a task that is
      still running and it runs twice at once;
    - `max_attempts` must be between 1 and 10 (0, django-q2's default, retries forever).
    """
    errors: list[Error] = []
    timeout, retry, attempts = conf.get("timeout"), conf.get("retry"), conf.get("max_attempts", 0)
    if not timeout:
        errors.append(Error("Q_CLUSTER has no 'timeout'.", hint="Set Q_TIMEOUT (seconds).", id="portal.E001"))
    if timeout and (retry is None or retry <= timeout):
        errors.append(
            Error(
                f"Q_CLUSTER 'retry' ({retry}) must be greater than 'timeout' ({timeout}).",
                hint="Set Q_RETRY above Q_TIMEOUT, with a margin of a minute or more.",
                id="portal.E002",
            )
        )
    if not isinstance(attempts, int) or not 1 <= attempts <= MAX_ATTEMPTS_CEILING:
        errors.append(
            Error(
                f"Q_CLUSTER 'max_attempts' ({attempts}) must be between 1 and {MAX_ATTEMPTS_CEILING}.",
                hint="0 means a failing task is retried forever; set Q_MAX_ATTEMPTS.",
                id="portal.E003",
            )
        )
    return errors


@register()
def check_q_cluster(app_configs, **kwargs) -> list[Error]:
    return q_cluster_errors(getattr(settings, "Q_CLUSTER", {}))
