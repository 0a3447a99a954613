"""The three pages a client opens most (issue 15's speed targets), measured on a running gunicorn.

- CPU per request: one request at a time (a closed loop of one), the CPU time (user + system) the
  gunicorn workers spent, read from /proc before and after, divided by the requests. PostgreSQL's
  own CPU is not in it: this is what our code costs.
- Worker recycling: gunicorn started with the shipped `deploy/gunicorn.conf.py`, 4 clients in a
  closed loop on the client home, once with `max_requests` off and once with the shipped value; a
  restart that stalls requests shows in p99.

Used by `bench.load` (D1 already built) and on its own with `python -m bench.load --pages`.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

PAGE_REQUESTS, PAGE_WARM = 200, 20
CPU_TARGETS_MS = {"client home": 6.0, "engagement page": 15.0, "payment list": 8.0}
RECYCLE_CLIENTS, RECYCLE_SECONDS = 4, 60
CLK_TCK = os.sysconf("SC_CLK_TCK")


def workers_of(master: int) -> list[int]:
    """The gunicorn master's live children (its workers)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == master:
            found.append(int(entry))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (seconds)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / CLK_TCK


def page_urls(user) -> dict[str, str]:
    """The pages of the targets for one client: the engagement page is of one of their active engagements."""
    from engagements.models import Engagement

    engagement = Engagement.objects.filter(company__memberships__user=user, status="active").order_by("pk").first()
    return {
        "client home": "/portal/",
        "engagement page": f"/portal/e/{engagement.code}/",
        "payment list": "/portal/finance/",
    }


def cookie_for(user) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def cpu_per_page(port: int, master: int, users: dict) -> dict:
    """{label: {page: (ms CPU per request, sequential p50 ms)}} for each client in `users`."""
    from bench.load import _get, _percentile

    async def measure(path: str, cookie: str) -> tuple[float, float]:
        for _ in range(PAGE_WARM):  # every worker warm on this page
            await _get(port, path, cookie)
        pids = workers_of(master)
        before = cpu_seconds(pids)
        latencies = []
        for _ in range(PAGE_REQUESTS):
            start = time.perf_counter()
            status, _ = await _get(port, path, cookie)
            if status != 200:
                raise RuntimeError(f"{path}: HTTP {status}")
            latencies.append((time.perf_counter() - start) * 1000)
        return (cpu_seconds(pids) - before) * 1000 / PAGE_REQUESTS, _percentile(latencies, 0.5)

    result = {}
    for label, user in users.items():
        cookie = cookie_for(user)
        result[label] = {page: asyncio.run(measure(path, cookie)) for page, path in page_urls(user).items()}
        print(f"CPU per request, {label} client: {result[label]}", file=sys.stderr, flush=True)
    return result


async def _closed_loop(port: int, path: str, cookies: list[str], master: int, seconds: float) -> dict:
    """RECYCLE_CLIENTS clients, each sending its next request when the previous one is answered."""
    from bench.load import _get, _percentile

    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    errors = 0
    pids: set[int] = set(workers_of(master))
    end = loop.time() + seconds

    async def client(i: int) -> None:
        nonlocal errors
        while loop.time() < end:
            start = loop.time()
            try:
                status, _ = await asyncio.wait_for(_get(port, path, cookies[i % len(cookies)]), 10)
            except (OSError, TimeoutError):
                errors += 1
                continue
            if status == 200:
                latencies.append((loop.time() - start) * 1000)
            else:
                errors += 1

    async def watch() -> None:
        while loop.time() < end:
            pids.update(workers_of(master))
            await asyncio.sleep(0.2)

    await asyncio.gather(watch(), *(client(i) for i in range(RECYCLE_CLIENTS)))
    return {
        "requests": len(latencies),
        "errors": errors,
        "rate": len(latencies) / seconds,
        "p50": _percentile(latencies, 0.50),
        "p99": _percentile(latencies, 0.99),
        "max": max(latencies, default=float("nan")),
        "workers_started": len(pids),
    }


def recycling(env: dict, cookies: list[str], log: Path) -> dict:
    """p99 on the client home with the shipped gunicorn config, recycling off and on."""
    from bench.load import PY, _free_port, _get, _stop

    gunicorn = str(Path(PY).parent / "gunicorn")
    results = {}
    for label, extra in (("off", {"GUNICORN_MAX_REQUESTS": "0"}), ("on (shipped values)", {})):
        port = _free_port()
        run_env = {
            **env,
            **extra,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "3",
            "GUNICORN_ACCESS_LOG": str(log.with_suffix(".access.log")),
            "GUNICORN_ERROR_LOG": str(log),
            "GUNICORN_LOG_LEVEL": "warning",
        }
        server = subprocess.Popen(
            [gunicorn, "-c", "deploy/gunicorn.conf.py", "portal.wsgi"],
            cwd=Path(__file__).resolve().parent.parent,
            env=run_env,
            start_new_session=True,
        )
        try:
            _wait_until_up(port, _get, cookies[0])
            asyncio.run(_closed_loop(port, "/portal/", cookies, server.pid, 5))  # warm
            results[label] = asyncio.run(_closed_loop(port, "/portal/", cookies, server.pid, RECYCLE_SECONDS))
            print(f"recycling {label}: {results[label]}", file=sys.stderr, flush=True)
        finally:
            _stop(server)
    return results


def _wait_until_up(port: int, get, cookie: str) -> None:
    for _ in range(150):
        time.sleep(0.2)
        try:
            status, _ = asyncio.run(get(port, "/accounts/login/", cookie))
        except OSError:
            continue
        if status in (200, 302):  # the sign-in page sends a signed-in person on
            return
    raise RuntimeError("gunicorn (deploy/gunicorn.conf.py) did not start")


def report(cpu: dict, recycle: dict) -> list[str]:
    out = [
        f"### Page cost: CPU per request ({PAGE_REQUESTS} sequential requests per page after {PAGE_WARM} warm ones; "
        "gunicorn workers' user + system CPU from /proc, PostgreSQL not included)",
        "",
        "| page | " + " | ".join(f"{label} client: CPU / request, p50" for label in cpu) + " | target | |",
        "|---|" + "---|" * len(cpu) + "---|---|",
    ]
    for page, target in CPU_TARGETS_MS.items():
        values = [cpu[label][page] for label in cpu]
        ok = all(ms <= target for ms, _ in values)
        cells = " | ".join(f"{ms:.1f} ms, {p50:.0f} ms" for ms, p50 in values)
        out.append(f"| {page} | {cells} | ≤ {target:.0f} ms CPU | {'met' if ok else '**missed**'} |")
    off = recycle["off"]
    on = recycle["on (shipped values)"]
    ok = on["p99"] <= 1.5 * off["p99"] and not on["errors"]
    out += [
        "",
        f"### Worker recycling: client home, {RECYCLE_CLIENTS} clients in a closed loop for {RECYCLE_SECONDS} s, "
        "gunicorn with `deploy/gunicorn.conf.py` (3 workers)",
        "",
        "| max_requests | requests | req/s | errors | p50 | p99 | max | worker processes seen |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, r in recycle.items():
        out.append(
            f"| {label} | {r['requests']} | {r['rate']:.0f} | {r['errors']} | {r['p50']:.0f} ms | "
            f"{r['p99']:.0f} ms | {r['max']:.0f} ms | {r['workers_started']} |"
        )
    out += [
        "",
        f"p99 with recycling on / off: {on['p99'] / off['p99']:.2f} (target ≤ 1.5, no error): "
        f"{'met' if ok else '**missed**'}.",
    ]
    return out
