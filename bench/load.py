"""Load benchmark (the client dashboard and the engagement page under load) on the datasets D1 and D4.

Run through `make bench` (DATABASE_URL points at the bench's throwaway
PostgreSQL; this module makes its own databases `load_d1` and `load_d4` there
and drops them at the end). Prints a Markdown section and also writes it to
var/load-report.md.

- Datasets: `python -m bench.dataset` (D1) and `--scale 4` (D4), timed.
- Queries per page: the test client inside a child process on each dataset,
  logged in as the lightest and the heaviest client.
- Latency: gunicorn (3 sync workers) on D1; an open-loop generator (plain
  HTTP/1.1 on asyncio streams, cheap enough to share the cores) sends requests
  at a constant arrival rate whatever the responses do, and each latency runs
  from the request's *scheduled* start, so a server that falls behind shows it
  (no coordinated omission).
- Capacity: the same generator stepping the rate up until p99 passes 500 ms
  or a request fails.
- Sweeps: the client-wait sweep and the integration sweeps over D1.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench import pages

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SETTINGS = "portal.settings_test"
WORKERS = 3
STEADY_RATE, STEADY_SECONDS = 50, 60
RAMP = list(range(50, 301, 25))
RAMP_SECONDS = 10
P99_LIMIT_MS = 500
TIMEOUT_S = 5.0
FORM_LOGINS = 20  # below allauth's 30 logins per minute and IP
PAGES = list(pages.CPU_TARGETS_MS)  # client home, engagement page (sessions, logs, money), payment list


def _db_url(name: str) -> str:
    base = os.environ["DATABASE_URL"]
    return base.rsplit("/", 1)[0] + "/" + name


def _env(db: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "DATABASE_URL": _db_url(db), "LOG_LEVEL": "WARNING"}
    env.pop("DEBUG", None)  # DEBUG off, as in production
    env.update(extra)
    return env


def _run(args: list[str], db: str, **extra: str) -> tuple[str, float]:
    start = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, env=_env(db, **extra), capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout, time.perf_counter() - start


def _admin_sql(*statements: str) -> None:
    import psycopg2

    connection = psycopg2.connect(_db_url("postgres"))
    connection.autocommit = True
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    connection.close()


# ---------------------------------------------------------------- query counts (child process)


def _light_and_heavy() -> dict:
    """The client with the fewest engagements and the one with the most."""
    from django.db.models import Count

    from portal.models import User

    clients = User.objects.filter(email__endswith="@carga.test", role="client").annotate(
        n=Count("membership__company__engagements")
    )
    return {"light": clients.order_by("n", "pk").first(), "heavy": clients.order_by("-n", "pk").first()}


def query_counts() -> dict:
    """In a child process on one dataset: queries per page for the lightest and heaviest client."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from engagements.models import Engagement

    result = {}
    for label, user in _light_and_heavy().items():
        browser = Client()
        browser.force_login(user)
        urls = pages.page_urls(user)
        row = {"engagements": user.n}
        for page, url in urls.items():
            browser.get(url)  # warm: sessions stamped, caches filled
            with CaptureQueriesContext(connection) as queries:
                response = browser.get(url)
            assert response.status_code == 200, (url, response.status_code)
            row[page] = len(queries.captured_queries)
        code = urls["engagement page"].rstrip("/").rsplit("/", 1)[-1]
        row["sessions on that engagement"] = Engagement.objects.get(code=code).sessions.count()
        result[label] = row
    return result


# ---------------------------------------------------------------- load generator


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _get(port: int, path: str, cookie: str) -> tuple[int, bytes]:
    """One GET on a fresh connection, as plain HTTP/1.1 over asyncio streams: the generator shares
    the server's cores, so it must cost far less per request than the page it measures (an HTTP
    client library costs about a millisecond of CPU per request; this a small fraction of that)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n".encode()
        )
        answer = await reader.read()  # until the server closes (sync workers always do)
    finally:
        writer.close()
    status_line = answer.split(b"\r\n", 1)[0].split()
    return int(status_line[1]) if len(status_line) > 1 else 0, answer


async def _phase(port: int, path: str, cookies: list[str], rate: int, seconds: float) -> dict:
    """Open loop: request i starts at t0 + i/rate, whatever earlier requests are doing."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lateness: list[float] = []

    async def one(i: int, scheduled: float) -> None:
        try:
            status, answer = await asyncio.wait_for(_get(port, path, cookies[i % len(cookies)]), TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            return
        if status == 200 and b'id="answers"' in answer:  # the client home's four answers
            latencies.append((loop.time() - scheduled) * 1000)
        else:
            errors[f"HTTP {status}"] = errors.get(f"HTTP {status}", 0) + 1

    cpu_before = time.process_time()
    total = int(rate * seconds)
    t0 = loop.time() + 0.05
    tasks = []
    for i in range(total):
        scheduled = t0 + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        lateness.append(max(0.0, loop.time() - scheduled) * 1000)
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - t0
    return {
        "rate": rate,
        "sent": total,
        "ok": len(latencies),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "achieved": len(latencies) / elapsed,
        "p50": _percentile(latencies, 0.50),
        "p95": _percentile(latencies, 0.95),
        "p99": _percentile(latencies, 0.99),
        "max": max(latencies, default=float("nan")),
        "send_lag_p99": _percentile(lateness, 0.99),
        "generator_cpu": (time.process_time() - cpu_before) / elapsed,  # share of one core
    }


def _login_cookies(base: str) -> tuple[list[str], int]:
    import httpx
    from django.conf import settings
    from django.test import Client

    from bench.dataset import PASSWORD
    from portal.models import User

    users = list(User.objects.filter(email__endswith="@carga.test", role="client").order_by("pk"))
    cookies, by_form = [], 0
    name = settings.SESSION_COOKIE_NAME
    for user in users[:FORM_LOGINS]:
        with httpx.Client(base_url=base, timeout=TIMEOUT_S) as browser:
            page = browser.get("/accounts/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            answer = browser.post(
                "/accounts/login/", data={"login": user.email, "password": PASSWORD, "csrfmiddlewaretoken": token}
            )
            session = answer.cookies.get(name)
            if answer.status_code == 302 and session:
                cookies.append(f"{name}={session}")
                by_form += 1
    for user in users[FORM_LOGINS:]:
        client = Client()
        client.force_login(user)
        cookies.append(f"{name}={client.cookies[name].value}")
    return cookies, by_form


def _start_gunicorn(port: int, log: Path) -> subprocess.Popen:
    args = [
        str(Path(PY).parent / "gunicorn"),
        "portal.wsgi",
        "--workers",
        str(WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        "--error-logfile",
        str(log),
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(args, cwd=ROOT, env=_env("load_d1", DB_CONN_MAX_AGE="600"), start_new_session=True)
    import httpx

    for _ in range(100):
        time.sleep(0.2)
        try:
            if httpx.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            continue
    server.terminate()
    raise RuntimeError(f"gunicorn did not start; see {log}")


def _stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


# ---------------------------------------------------------------- sweeps (in this process, on D1)


def _run_queued(func: str) -> int:
    """Run the queued tasks of `func` here, as a worker would (the bench has no cluster running)."""
    from django.utils.module_loading import import_string
    from django_q.models import OrmQ

    done = 0
    for queued in OrmQ.objects.all():
        task = queued.task
        if task["func"] == func:
            done += import_string(func)(*task["args"], **task["kwargs"])
            queued.delete()
    return done


def _sweeps() -> list[tuple[str, float, str]]:
    from django.utils import timezone

    from engagements.integration import reconcile, runner, webhooks
    from engagements.models import Engagement
    from engagements.services import client_wait_sweep

    rows = []
    now = timezone.now()
    engagements = Engagement.objects.count()
    start = time.perf_counter()
    actions = client_wait_sweep(now=now, dry_run=True)
    rows.append(("client-wait sweep, dry run", time.perf_counter() - start, f"{len(actions)} actions listed"))
    start = time.perf_counter()
    actions = client_wait_sweep(now=now)
    rows.append(
        ("client-wait sweep (`apply_client_wait_rules`)", time.perf_counter() - start, f"{len(actions)} actions")
    )
    start = time.perf_counter()
    mails = _run_queued("engagements.tasks.client_wait_notify")
    rows.append(
        (
            "its mail task (`client_wait_notify`, in the worker: renders and queues the mail)",
            time.perf_counter() - start,
            f"{mails} mails",
        )
    )
    start = time.perf_counter()
    again = client_wait_sweep(now=now)
    rows.append(("client-wait sweep, second run the same day", time.perf_counter() - start, f"{len(again)} actions"))
    start = time.perf_counter()
    runs = runner.retry_due(now=now)
    webhooks.drain_stale()
    rows.append(
        ("integration retry sweep (`retry_due` + stale webhooks)", time.perf_counter() - start, f"{len(runs)} runs")
    )
    start = time.perf_counter()
    runs = reconcile.reconcile_all()
    rows.append(("integration nightly reconciliation", time.perf_counter() - start, f"{len(runs)} runs"))
    return [(label, seconds, f"{note}; {engagements:,} engagements") for label, seconds, note in rows]


# ---------------------------------------------------------------- report


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _datasets() -> tuple[dict, float, dict]:
    """D1 and D4 built, and the queries per page on each: (built, migration seconds, counts)."""
    _admin_sql(
        "DROP DATABASE IF EXISTS load_d1 WITH (FORCE)",
        "DROP DATABASE IF EXISTS load_d4 WITH (FORCE)",
        "CREATE DATABASE load_d1",
    )
    _, migrate_s = _run([PY, "manage.py", "migrate", "--no-input", "-v0"], "load_d1")
    _admin_sql("CREATE DATABASE load_d4 TEMPLATE load_d1")
    built = {}
    for db, scale in (("load_d1", "1"), ("load_d4", "4")):
        text, seconds = _run([PY, "-m", "bench.dataset", "--scale", scale], db)
        built[db] = (seconds, text.strip().split(": ", 1)[1].split(". Client")[0])
    counts = {}
    for db in ("load_d1", "load_d4"):
        text, _ = _run([PY, "-m", "bench.load", "--query-counts"], db)
        counts[db] = json.loads(text.strip().splitlines()[-1])
    return built, migrate_s, counts


def _query_table(counts: dict) -> list[str]:
    out = [
        "### P3: queries per page (test client, logged-in client, warm)",
        "",
        "| page | D1 light client | D1 heavy client | D4 light client | D4 heavy client | target | |",
        "|---|---|---|---|---|---|---|",
    ]
    d1, d4 = counts["load_d1"], counts["load_d4"]
    for page in PAGES:
        values = [d1["light"][page], d1["heavy"][page], d4["light"][page], d4["heavy"][page]]
        ok = len(set(values)) == 1 and max(values) <= 10
        out.append(f"| {page} | " + " | ".join(map(str, values)) + f" | ≤ 10, equal on D1 and D4 | {_mark(ok)} |")
    out += [
        "",
        f"Light/heavy client: {d1['light']['engagements']} and {d1['heavy']['engagements']} engagements in D1 "
        f"({d4['light']['engagements']} and {d4['heavy']['engagements']} in D4); the engagement page is of an "
        f"engagement with {d1['light']['sessions on that engagement']}/{d1['heavy']['sessions on that engagement']} "
        "session logs. The session list and the logs are part of the engagement page; clients' payment requests "
        "are the payment list.",
    ]
    return out


def _drop_datasets() -> None:
    from django.db import connections

    connections.close_all()
    _admin_sql("DROP DATABASE IF EXISTS load_d1 WITH (FORCE)", "DROP DATABASE IF EXISTS load_d4 WITH (FORCE)")


def main() -> None:
    started = time.perf_counter()
    out: list[str] = ["## Load: client dashboard on D1/D4", ""]
    built, migrate_s, counts = _datasets()

    os.environ.update(_env("load_d1", Q_SYNC="0"))
    import django

    django.setup()
    port = _free_port()
    log = ROOT / "var" / "load-gunicorn.log"
    server = _start_gunicorn(port, log)
    base = f"http://127.0.0.1:{port}"
    try:
        cookies, by_form = _login_cookies(base)
        cpu = pages.cpu_per_page(port, server.pid, _light_and_heavy())
        asyncio.run(_phase(port, "/portal/", cookies, 20, 5))  # warm-up: workers, connections, caches
        steady = asyncio.run(_phase(port, "/portal/", cookies, STEADY_RATE, STEADY_SECONDS))
        ramp = []
        for rate in RAMP:
            step = asyncio.run(_phase(port, "/portal/", cookies, rate, RAMP_SECONDS))
            ramp.append(step)
            if step["errors"] or step["p99"] > P99_LIMIT_MS:
                break
            time.sleep(1)
    finally:
        _stop(server)
    recycle = pages.recycling(_env("load_d1", DB_CONN_MAX_AGE="600"), cookies, ROOT / "var" / "load-recycle.log")
    sweeps = _sweeps()
    _drop_datasets()

    passing = [s["rate"] for s in ramp if not s["errors"] and s["p99"] <= P99_LIMIT_MS]
    capacity = max(passing, default=0)
    capped = len(passing) == len(RAMP)
    out += [
        f"gunicorn `portal.wsgi`, {WORKERS} sync workers, settings `{SETTINGS}` with DEBUG off (plain http, "
        "MD5 password hasher; the production module needs collectstatic and HTTPS), `DB_CONN_MAX_AGE=600`, "
        "PostgreSQL 15 on the same machine; the load generator (plain HTTP/1.1 on asyncio streams, open loop) "
        "shares the cores; its CPU is shown per step.",
        f"Sessions: {by_form} clients logged in through the real login form, {len(cookies) - by_form} "
        "created server-side (test client `force_login`, same session table); requests cycle through them.",
        "",
        "### Datasets",
        "",
        "| dataset | build (`python -m bench.dataset`, bulk_create) | contents |",
        "|---|---|---|",
        f"| D1 | {built['load_d1'][0]:.1f} s | {built['load_d1'][1]} |",
        f"| D4 (`--scale 4`) | {built['load_d4'][0]:.1f} s | {built['load_d4'][1]} |",
        "",
        f"(schema migration: {migrate_s:.1f} s, once; D4 starts from a copy of the migrated database.)",
        "",
        f"### P1: client dashboard at {STEADY_RATE} req/s for {STEADY_SECONDS} s (open loop)",
        "",
        "| sent | ok | errors | achieved req/s | p50 | p95 | p99 | max | target | |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    p1 = steady["p95"] <= 150 and steady["p99"] <= 300 and steady["errors"] == 0
    out.append(
        f"| {steady['sent']} | {steady['ok']} | {steady['errors']} {steady['error_kinds'] or ''} | "
        f"{steady['achieved']:.1f} | {steady['p50']:.0f} ms | {steady['p95']:.0f} ms | {steady['p99']:.0f} ms | "
        f"{steady['max']:.0f} ms | p95 ≤ 150 ms, p99 ≤ 300 ms, 0 errors | {_mark(p1)} |"
    )
    out += [
        "",
        f"### P2: capacity ramp, {RAMP_SECONDS} s per step, until p99 > {P99_LIMIT_MS} ms or an error",
        "",
        "| offered req/s | achieved | errors | p50 | p95 | p99 | generator send lag p99 | generator CPU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in ramp:
        out.append(
            f"| {s['rate']} | {s['achieved']:.0f} | {s['errors']} {s['error_kinds'] or ''} | {s['p50']:.0f} ms | "
            f"{s['p95']:.0f} ms | {s['p99']:.0f} ms | {s['send_lag_p99']:.0f} ms | {s['generator_cpu']:.0%} of a core |"
        )
    out += [
        "",
        f"**Capacity: {capacity}{'+' if capped else ''} req/s** (highest step with p99 ≤ {P99_LIMIT_MS} ms and no "
        f"error; target ≥ 150: {_mark(capacity >= 150)}).",
        "",
        *_query_table(counts),
        "",
        *pages.report(cpu, recycle),
        "",
        "### Sweeps over D1",
        "",
        "| sweep | seconds | result |",
        "|---|---|---|",
    ]
    out += [f"| {label} | {seconds:.2f} | {note} |" for label, seconds, note in sweeps]
    out += [
        "",
        "The integration sweeps find no integration data in D1 (no connections or failed items): they time "
        "the empty scan only.",
        "",
        f"Load part total: {time.perf_counter() - started:.0f} s; load average at the end "
        f"{os.getloadavg()[0]:.1f} (anything else running on the machine competes for the same cores).",
    ]
    text = "\n".join(out)
    print(text)
    report = ROOT / "var" / "load-report.md"
    report.parent.mkdir(exist_ok=True)
    stamp = time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime())
    report.write_text(f"# Load report\n\n{stamp} · {os.cpu_count()} cores\n\n{text}\n")


def sweeps_only() -> None:
    """`python -m bench.load --sweeps`: D1 and the sweeps only (a few minutes instead of the whole bench)."""
    _admin_sql("DROP DATABASE IF EXISTS load_d1 WITH (FORCE)", "CREATE DATABASE load_d1")
    _run([PY, "manage.py", "migrate", "--no-input", "-v0"], "load_d1")
    _, built = _run([PY, "-m", "bench.dataset"], "load_d1")
    os.environ.update(_env("load_d1", Q_SYNC="0"))
    import django

    django.setup()
    rows = _sweeps()
    from django.db import connections

    connections.close_all()
    _admin_sql("DROP DATABASE IF EXISTS load_d1 WITH (FORCE)")
    print(f"D1 built in {built:.1f} s\n\n| sweep | seconds | result |\n|---|---|---|")
    print("\n".join(f"| {label} | {seconds:.2f} | {note} |" for label, seconds, note in rows))


def pages_only() -> None:
    """`python -m bench.load --pages`: D1 and D4, queries per page, CPU per page and worker recycling
    (the speed targets of the client's pages) without the open-loop load and the sweeps."""
    built, _, counts = _datasets()
    os.environ.update(_env("load_d1", Q_SYNC="0"))
    import django

    django.setup()
    from portal.models import User

    port = _free_port()
    server = _start_gunicorn(port, ROOT / "var" / "load-gunicorn.log")
    try:
        cpu = pages.cpu_per_page(port, server.pid, _light_and_heavy())
    finally:
        _stop(server)
    users = User.objects.filter(email__endswith="@carga.test", role="client").order_by("pk")[:FORM_LOGINS]
    cookies = [pages.cookie_for(user) for user in users]
    recycle = pages.recycling(_env("load_d1", DB_CONN_MAX_AGE="600"), cookies, ROOT / "var" / "load-recycle.log")
    _drop_datasets()
    out = [f"D1: {built['load_d1'][1]}; D4: {built['load_d4'][1]}", "", *_query_table(counts), ""]
    print("\n".join(out + pages.report(cpu, recycle)))


if __name__ == "__main__":
    if "--pages" in sys.argv:
        pages_only()
    elif "--query-counts" in sys.argv:
        print(json.dumps(query_counts()))
    elif "--sweeps" in sys.argv:
        sweeps_only()
    else:
        main()
