"""GET /healthz: can this deployment work right now? JSON for load balancers and monitoring.

Public by design: no login, no session, no access rule. Anyone gets the status and
the names of the failed checks, nothing else. The detail of every check (counts,
latencies, schedule names and times) needs the token of the HEALTHZ_TOKEN setting,
sent as `Authorization: Bearer <token>`; without HEALTHZ_TOKEN nobody gets it. Even
the detail shows no secrets, no personal data and no client data: no host names, no
error texts (only the exception's class; the full error goes to the log), no
engagement codes (per-engagement schedules are counted, not named).

Checks and what they mean:

- database: `SELECT 1` with its latency. Failing → "fail".
- broker: ORM broker: the django-q2 `OrmQ` table answers, with the queued and
  locked (being worked on) task counts; Redis broker (`REDIS_URL`): PING and
  the queue length. Failing → "fail".
- worker: alive means at least one django-q2 cluster published its status
  (`Stat`) within its lifetime (the sentinel saves it every half second with a
  3-second expiry, in the shared cache or in Redis) and is idle or working.
  None → "degraded": the web still serves, but tasks and sweeps wait.
- schedules: the recurring django-q2 schedules (`Schedule` rows still
  repeating): next run, last run of their function (`Task`, success or not),
  and overdue when the next run is more than `SCHEDULE_GRACE` in the past (the
  scheduler looks every half minute and moves `next_run` on when it enqueues).
  A schedule without arguments is a project sweep and is listed by name;
  schedules with arguments are per object (an engagement's flows) and are
  grouped by function. Any overdue → "degraded".
- mail: notification e-mails waiting for a retry after the mail server failed,
  and those that failed for good in the last 24 hours (portal.mail). Any of the
  latter → "degraded".

HTTP 503 with `"status": "fail"` only when this process cannot serve (database
or broker); "degraded" answers 200 so that a load balancer keeps the web
processes while the worker is down; monitoring should alert on any status
other than "ok". `failed` names the checks that are not ok.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.db.models import Count, Max, Q
from django.http import HttpRequest, JsonResponse
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_q.conf import Conf
from django_q.models import OrmQ, Schedule, Task
from django_q.status import Stat

from portal.mail import mail_counts

logger = logging.getLogger(__name__)

SCHEDULE_GRACE = timedelta(minutes=10)
REDIS_TIMEOUT = 0.5  # seconds: a health check must answer even when Redis hangs
CRITICAL = ("database", "broker")  # failing → 503 "fail"; the others → "degraded"


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _redis():
    import redis  # only with REDIS_URL

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT)


def check_database() -> dict:
    start = time.perf_counter()
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "latency_ms": _ms(start)}


def check_broker() -> dict:
    start = time.perf_counter()
    if settings.REDIS_URL:
        client = _redis()
        client.ping()
        queued = client.llen(f"django_q:{Conf.CLUSTER_NAME}:q")
        return {"ok": True, "kind": "redis", "queued": queued, "latency_ms": _ms(start)}
    now = timezone.now()
    counts = (
        OrmQ.objects.using(Conf.ORM)
        .filter(key=Conf.CLUSTER_NAME)
        .aggregate(queued=Count("pk", filter=Q(lock__lte=now)), locked=Count("pk", filter=Q(lock__gt=now)))
    )
    return {"ok": True, "kind": "orm", **counts, "latency_ms": _ms(start)}


class _StatSource:
    """What `Stat.get_all` asks of a broker, without building one: django-q2's ORM
    broker closes "old" database connections when it is created, which would cost
    this request a reconnect."""

    def get_stats(self, pattern: str) -> list:
        if settings.REDIS_URL:
            client = _redis()
            keys = client.keys(pattern)
            return client.mget(keys) if keys else []
        cache = caches[Conf.CACHE]
        return [pack for pack in (cache.get(key) for key in cache.get(Conf.Q_STAT) or []) if pack]


def check_worker() -> dict:
    now = timezone.now()
    with translation.override("en"):  # cluster statuses are lazy translations
        running = {str(Conf.IDLE), str(Conf.WORKING)}
        alive = [stat for stat in Stat.get_all(broker=_StatSource()) if str(stat.status) in running]
    newest = max((stat.timestamp for stat in alive), default=None)
    return {
        "ok": bool(alive),
        "clusters": len(alive),
        "workers": sum(len(stat.workers) for stat in alive),
        "last_heartbeat_seconds": round((now - newest).total_seconds(), 1) if newest else None,
    }


def check_schedules() -> dict:
    now = timezone.now()
    rows = list(Schedule.objects.exclude(repeats=0).values_list("name", "func", "args", "next_run"))
    runs = {
        row["func"]: row
        for row in Task.objects.filter(func__in={func for _, func, _, _ in rows})
        .values("func")
        .annotate(last_run=Max("stopped"), last_success=Max("stopped", filter=Q(success=True)))
    }
    groups: dict[str, dict] = {}
    for name, func, args, next_run in rows:
        key = func if args else name
        group = groups.setdefault(key, {"name": key, "func": func, "per_object": bool(args), "count": 0})
        group["count"] += 1
        group["next_run"] = min(filter(None, (group.get("next_run"), next_run)), default=None)
        overdue = next_run is not None and next_run < now - SCHEDULE_GRACE
        group["overdue_count"] = group.get("overdue_count", 0) + overdue
    items = []
    for group in sorted(groups.values(), key=lambda g: g["name"]):
        run = runs.get(group["func"], {})
        last_run = run.get("last_run")
        items.append(
            {
                **group,
                "next_run": _iso(group["next_run"]),
                "last_run": _iso(last_run),
                "last_run_ok": None if last_run is None else run.get("last_success") == last_run,
                "overdue": group["overdue_count"] > 0,
            }
        )
    return {"ok": not any(item["overdue"] for item in items), "items": items}


def check_mail() -> dict:
    counts = mail_counts()
    return {"ok": counts["failed_24h"] == 0, **counts}


CHECKS: dict[str, Callable[[], dict]] = {
    "database": check_database,
    "broker": check_broker,
    "worker": check_worker,
    "schedules": check_schedules,
    "mail": check_mail,
}


def run_checks() -> dict:
    start = time.perf_counter()
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # a health check reports failures, it does not raise them
            logger.warning("health check %s failed: %s: %s", name, type(exc).__name__, exc)
            results[name] = {"ok": False, "error": type(exc).__name__}
    failed = [name for name, result in results.items() if not result["ok"]]
    critical = any(name in CRITICAL for name in failed)
    status = "fail" if critical else ("degraded" if failed else "ok")
    return {"status": status, "failed": failed, "checks": results, "duration_ms": _ms(start)}


def may_see_detail(request: HttpRequest) -> bool:
    """The caller sent `Authorization: Bearer <HEALTHZ_TOKEN>` (compared in constant time)."""
    expected = settings.HEALTHZ_TOKEN
    scheme, _space, given = request.headers.get("Authorization", "").partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), expected.encode())


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Public by design (no login, no access rule): see the module docstring for what it reveals."""
    report = run_checks()
    body = report if may_see_detail(request) else {"status": report["status"], "failed": report["failed"]}
    return JsonResponse(body, status=503 if report["status"] == "fail" else 200)
