"""Years of history: the reads a desk repeats all day, timed as the history grows.

Grows a PostgreSQL database in steps (10k, 100k, 1M parent orders by default; --ten-million
adds a 10M step) with the rows a year of trading leaves behind: per order 2 to 5 audit
events, 2 fills for a filled one and the routing decision stored at acceptance, spread over
20 portfolios of 10 PMs and the demo's instruments, older orders further back in time (one
every 20 s). Rows are inserted by SQL (generate_series), then VACUUM ANALYZE, as autovacuum
would leave a live database. Each step is its own database: the first is grown, the next
is a copy of it (CREATE DATABASE ... TEMPLATE) grown further, and so on.

Then one process per step times, through Django's full request stack (middleware, token or
session auth, views, serializers, templates; no network): order entry (POST /api/orders/),
the blotter's first page, its second page (the cursor) and filtered pages as a PM and as a
trader, an order's page and API, positions, the what-if, and the pages /pm/ and /trader/.
The processes take turns, one request each, so a shared machine's load falls on every step
alike and the growth factor compares like with like. It prints median, p95 and time in SQL
per step, the queries per request and the growth factor of the median from the first step
to the last, then one JSON line.

    .venv/bin/python bench/scale.py [--steps 10000,100000,1000000] [--ten-million] [--reps 60]

Environment: BENCH_PG (default postgres://postgres@127.0.0.1:5432/st_history_scale; the step
databases are <name>_<orders>, dropped and created), REDIS_URL / REDIS_CACHE_URL as for the
product (optional)."""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_GROWTH, GOAL_P95_MS = 1.3, 50.0
EXTRA_PMS, PORTFOLIOS_PER_PM = 8, 2  # with the demo's pm and pm2: 10 PMs


def _step_url(base: str, step: int) -> str:
    parts = urllib.parse.urlparse(base)
    return parts._replace(path=f"{parts.path}_{step}").geturl()


def _database(url: str, *, template: str | None = None) -> None:
    parts = urllib.parse.urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if template:
            source = urllib.parse.urlparse(template).path.lstrip("/")
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        else:
            conn.execute(f'CREATE DATABASE "{name}"')


class SqlClock:
    """The time spent in SQL and the queries run, summed over one operation: beside the
    wall-clock figure (mostly Python on this machine), the part the history can change."""

    def __init__(self):
        self.ms, self.queries = 0.0, 0

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.ms += (time.perf_counter() - t0) * 1000
            self.queries += 1


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


OPERATIONS = (
    "order entry (PM)",
    "blotter first page (PM)",
    "blotter page 2 (PM)",
    "blotter status+instrument (PM)",
    "blotter portfolio (PM)",
    "blotter first page (trader)",
    "blotter page 2 (trader)",
    "blotter status (trader)",
    "blotter instrument (trader)",
    "blotter rare status+side (trader)",
    "order page (trader)",
    "order API (trader)",
    "positions (PM)",
    "what-if (PM)",
    "page /pm/",
    "page /trader/",
)


def _django(url: str):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["PRETRADE_THROTTLE"] = "1000000/min"  # the bench measures, it does not throttle
    os.environ.setdefault("DEMO_PASSWORD", "demo")
    import django

    django.setup()


def prepare(url: str) -> None:
    """The first step's database: migrated, the demo seeded, 8 more PMs with 2 portfolios
    each. Prints the portfolios and instruments the history is spread over."""
    _django(url)
    from django.core.management import call_command

    from accounts import roles
    from accounts.services import user_with_role_ensure
    from marketdata.models import Instrument
    from oms.models import Portfolio

    call_command("migrate", "--noinput", verbosity=0)
    call_command("seed_demo", "--without-history", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    for n in range(EXTRA_PMS):
        owner = user_with_role_ensure(username=f"bench-pm{n}", role=roles.PM, password="demo")
        for k in range(PORTFOLIOS_PER_PM):
            Portfolio.objects.get_or_create(owner=owner, name=f"Book {n}-{k}")
    portfolios = list(Portfolio.objects.order_by("id").values_list("id", "owner_id"))
    instruments = list(Instrument.objects.filter(is_active=True).order_by("id").values_list("id", flat=True))
    print(json.dumps({"portfolios": portfolios, "instruments": instruments}), flush=True)


def worker(url: str) -> None:
    """One step's process: reads an operation's name per line, runs it once (after warming
    every operation up), answers its wall time, SQL time and queries as one JSON line."""
    _django(url)
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from marketdata.models import Instrument
    from oms.models import Order, Portfolio

    users = {u.username: u for u in User.objects.filter(username__in=["pm", "trader"])}
    pm_portfolio = Portfolio.objects.filter(owner=users["pm"]).order_by("id").first()
    equity = Instrument.objects.filter(is_active=True, asset_class="EQUITY").order_by("symbol").first()
    instruments = list(Instrument.objects.filter(is_active=True).order_by("id"))
    sym = instruments[len(instruments) // 2].symbol
    history = Order.objects.filter(client_order_id__isnull=True, status="FILLED")
    lo, hi = (
        history.order_by("id").values_list("id", flat=True)[:1][0],
        history.order_by("-id").values_list("id", flat=True)[:1][0],
    )

    def api(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        return client

    def page(user):
        client = Client()
        client.force_login(user)
        return client

    pm_api, trader_api = api(users["pm"]), api(users["trader"])
    pm_page, trader_page = page(users["pm"]), page(users["trader"])
    rng = random.Random(17)

    def ok(response):
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{response.status_code}: {response.content[:300]!r}")
        return response

    order_body = {
        "portfolio": pm_portfolio.pk,
        "instrument": equity.symbol,
        "side": "BUY",
        "quantity": str(equity.lot_size * 10),
        "urgency": "LOW",
    }
    what_if = {k: order_body[k] for k in ("instrument", "side", "quantity", "urgency")}

    def second_page(client):
        nxt = ok(client.get("/api/orders/?limit=100")).json()["next"]
        return lambda: ok(client.get(nxt))

    def an_order():
        return rng.randint(lo, hi)

    ops = {
        "order entry (PM)": lambda: ok(pm_api.post("/api/orders/", order_body, format="json")),
        "blotter first page (PM)": lambda: ok(pm_api.get("/api/orders/")),
        "blotter page 2 (PM)": second_page(pm_api),
        # 50 rows: at 10k orders a PM's filled orders in one instrument are about 60, and a
        # shorter page would be cheaper for its size, not for the history.
        "blotter status+instrument (PM)": lambda: ok(
            pm_api.get(f"/api/orders/?status=FILLED&instrument={sym}&limit=50")
        ),
        "blotter portfolio (PM)": lambda: ok(pm_api.get(f"/api/orders/?portfolio={pm_portfolio.pk}")),
        "blotter first page (trader)": lambda: ok(trader_api.get("/api/orders/")),
        "blotter page 2 (trader)": second_page(trader_api),
        "blotter status (trader)": lambda: ok(trader_api.get("/api/orders/?status=CANCELLED")),
        "blotter instrument (trader)": lambda: ok(trader_api.get(f"/api/orders/?instrument={sym}")),
        "blotter rare status+side (trader)": lambda: ok(trader_api.get("/api/orders/?status=EXPIRED&side=SELL")),
        "order page (trader)": lambda: ok(trader_page.get(f"/orders/{an_order()}/")),
        "order API (trader)": lambda: ok(trader_api.get(f"/api/orders/{an_order()}/")),
        "positions (PM)": lambda: ok(pm_api.get("/api/positions/")),
        "what-if (PM)": lambda: ok(pm_api.post("/api/pretrade/", what_if, format="json")),
        "page /pm/": lambda: ok(pm_page.get("/pm/")),
        "page /trader/": lambda: ok(trader_page.get("/trader/")),
    }
    assert tuple(ops) == OPERATIONS
    for fn in ops.values():
        for _ in range(5):
            fn()
    from core.runtime import heap_settle

    heap_settle()  # as the web process does once started (config.asgi)
    print("ready", flush=True)
    for line in sys.stdin:
        fn = ops[line.strip()]
        clock = SqlClock()
        with connection.execute_wrapper(clock):
            t0 = time.perf_counter()
            fn()
            wall = (time.perf_counter() - t0) * 1000
        print(json.dumps({"wall": wall, "sql": clock.ms, "queries": clock.queries}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", default="10000,100000,1000000")
    ap.add_argument("--ten-million", action="store_true", help="add a 10M step")
    ap.add_argument("--reps", type=int, default=60)
    ap.add_argument("--prepare", help=argparse.SUPPRESS)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.prepare:
        return prepare(args.prepare)
    if args.worker:
        return worker(args.worker)
    steps = [int(s) for s in args.steps.split(",")] + ([10_000_000] if args.ten_million else [])
    from demo.history import BIG_TABLES, history_grow

    base = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432/st_history_scale")
    urls = {step: _step_url(base, step) for step in steps}
    sizes, have, previous = {}, 0, None
    for step in steps:
        t0 = time.perf_counter()
        _database(urls[step], template=previous)
        if previous is None:
            out = subprocess.run(
                [sys.executable, __file__, "--prepare", urls[step]], check=True, capture_output=True, text=True
            ).stdout
            spread = json.loads(out.strip().splitlines()[-1])
        with psycopg.connect(urls[step], autocommit=True) as conn:
            with conn.transaction(), conn.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
                counts = history_grow(
                    cursor, start=have, end=step, portfolios=spread["portfolios"], instruments=spread["instruments"]
                )
            for table in BIG_TABLES:
                conn.execute(f"VACUUM (ANALYZE) {table}")
            sizes[step] = {
                table: conn.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", (table,)).fetchone()[0]
                for table in BIG_TABLES
            }
        have, previous = step, urls[step]
        print(
            f"step {step:>10,}: +{counts['orders']:,} orders, +{counts['events']:,} events, "
            f"+{counts['fills']:,} fills, +{counts['decisions']:,} decisions in {time.perf_counter() - t0:.0f} s; "
            f"rows {sizes[step]}",
            flush=True,
        )

    load_start = Path("/proc/loadavg").read_text().split()[:3]
    workers = {
        step: subprocess.Popen(
            [sys.executable, __file__, "--worker", urls[step]], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for step in steps
    }
    for step, proc in workers.items():
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the {step} worker did not start")
    results = {name: {step: {"wall": [], "sql": [], "queries": []} for step in steps} for name in OPERATIONS}
    try:
        for rep in range(args.reps):
            for name in OPERATIONS:
                order = steps[rep % len(steps) :] + steps[: rep % len(steps)]  # who goes first rotates
                for step in order:
                    proc = workers[step]
                    proc.stdin.write(name + "\n")
                    proc.stdin.flush()
                    sample = json.loads(proc.stdout.readline())
                    for key in ("wall", "sql", "queries"):
                        results[name][step][key].append(sample[key])
    finally:
        for proc in workers.values():
            proc.stdin.close()
            proc.wait(30)

    load = Path("/proc/loadavg").read_text().split()[:3]
    first, last = steps[0], steps[-1]
    head = (
        f"{'operation (ms; sql = time in SQL)':36}"
        + "".join(f"{f'{s:,} med':>13}{'p95':>7}{'sql':>6}" for s in steps)
        + f"{'queries':>8}{'growth':>8}{'sql gr.':>8}  goal"
    )
    print()
    print(head)
    print("-" * len(head))
    figures = {}
    for name, by_step in results.items():
        med = {s: statistics.median(v["wall"]) for s, v in by_step.items()}
        tail = {s: p95(v["wall"]) for s, v in by_step.items()}
        sql = {s: statistics.median(v["sql"]) for s, v in by_step.items()}
        queries = statistics.median(by_step[last]["queries"])
        growth, sql_growth = med[last] / med[first], sql[last] / max(sql[first], 0.01)
        meets = growth <= GOAL_GROWTH and tail[last] < GOAL_P95_MS
        print(
            f"{name:36}"
            + "".join(f"{med[s]:13.1f}{tail[s]:7.1f}{sql[s]:6.1f}" for s in steps)
            + f"{queries:8.0f}{growth:8.2f}{sql_growth:8.2f}  {'yes' if meets else 'NO'}"
        )
        figures[name] = {
            "median_ms": {str(s): round(med[s], 2) for s in steps},
            "p95_ms": {str(s): round(tail[s], 2) for s in steps},
            "sql_median_ms": {str(s): round(sql[s], 2) for s in steps},
            "queries": queries,
            "growth": round(growth, 3),
            "sql_growth": round(sql_growth, 3),
        }
    print(
        f"\nload average (1/5/15 min) before timing {' '.join(load_start)}, after {' '.join(load)}; "
        f"{os.cpu_count()} cores; {args.reps} requests per operation and step, the steps taking turns"
    )
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    print(
        json.dumps(
            {
                "bench": "scale",
                "commit": git.strip(),
                "steps": steps,
                "rows": {str(s): sizes[s] for s in steps},
                "operations": figures,
                "worst_growth": max(f["growth"] for f in figures.values()),
                "worst_p95_ms_last_step": max(f["p95_ms"][str(last)] for f in figures.values()),
                "goal": {"growth": GOAL_GROWTH, "p95_ms": GOAL_P95_MS},
                "method": "one process per step database, one request each in turn",
                "reps": args.reps,
                "load_average_before": [float(x) for x in load_start],
                "load_average": [float(x) for x in load],
            }
        )
    )


if __name__ == "__main__":
    main()
