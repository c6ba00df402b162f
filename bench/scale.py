"""Years of history: the reads a desk repeats all day, timed as the history grows.

Grows a PostgreSQL database in steps (10k, 100k, 1M parent orders by default; --ten-million
adds a 10M step) with the rows a year of trading leaves behind: per order 2 to 5 audit
events, 2 fills for a filled one and the routing decision stored at acceptance, spread over
20 portfolios of 10 PMs and the demo's instruments, older orders further back in time (one
every 20 s). Rows are inserted by SQL (generate_series), then VACUUM ANALYZE, as autovacuum
would leave a live database. At each step it times, through Django's full request stack in
this process (middleware, token or session auth, views, serializers, templates; no network):
order entry (POST /api/orders/), the blotter's first page, its second page (the cursor) and
filtered pages as a PM and as a trader, an order's page, positions, the what-if, and the
pages /pm/ and /trader/. It prints median and p95 per step and the growth factor of the
median from the first step to the last, then one JSON line.

    .venv/bin/python bench/scale.py [--steps 10000,100000,1000000] [--ten-million] [--reps 60]

Environment: BENCH_PG (default postgres://postgres@127.0.0.1:5432/st_history_scale: dropped
and created), REDIS_URL / REDIS_CACHE_URL as for the product (optional)."""

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


def _database(url: str) -> None:
    parts = urllib.parse.urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
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


def timed(fn, reps: int, warm: int = 5) -> dict[str, list[float]]:
    from django.db import connection

    for _ in range(warm):
        fn()
    samples = {"wall": [], "sql": [], "queries": []}
    for _ in range(reps):
        clock = SqlClock()
        with connection.execute_wrapper(clock):
            t0 = time.perf_counter()
            fn()
            samples["wall"].append((time.perf_counter() - t0) * 1000)
        samples["sql"].append(clock.ms)
        samples["queries"].append(clock.queries)
    return samples


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", default="10000,100000,1000000")
    ap.add_argument("--ten-million", action="store_true", help="add a 10M step")
    ap.add_argument("--reps", type=int, default=60)
    args = ap.parse_args()
    steps = [int(s) for s in args.steps.split(",")] + ([10_000_000] if args.ten_million else [])

    url = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432/st_history_scale")
    _database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["PRETRADE_THROTTLE"] = "1000000/min"  # the bench measures, it does not throttle
    os.environ.setdefault("DEMO_PASSWORD", "demo")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from accounts import roles
    from accounts.services import user_with_role_ensure
    from demo.history import BIG_TABLES, history_grow
    from marketdata.models import Instrument
    from oms.models import Order, Portfolio

    call_command("migrate", "--noinput", verbosity=0)
    call_command("seed_demo", "--without-history", verbosity=0)
    for n in range(EXTRA_PMS):
        owner = user_with_role_ensure(username=f"bench-pm{n}", role=roles.PM, password="demo")
        for k in range(PORTFOLIOS_PER_PM):
            Portfolio.objects.get_or_create(owner=owner, name=f"Book {n}-{k}")
    from django.contrib.auth.models import User

    users = {u.username: u for u in User.objects.filter(username__in=["pm", "trader"])}
    portfolios = list(Portfolio.objects.order_by("id").values_list("id", "owner_id"))
    instruments = list(Instrument.objects.filter(is_active=True).order_by("id").values_list("id", flat=True))
    pm_portfolio = Portfolio.objects.filter(owner=users["pm"]).order_by("id").first()
    equity = Instrument.objects.filter(is_active=True, asset_class="EQUITY").order_by("symbol").first()

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

    def operations(history_ids: tuple[int, int]):
        lo, hi = history_ids
        sym = Instrument.objects.get(pk=instruments[len(instruments) // 2]).symbol
        return {
            "order entry (PM)": lambda: ok(pm_api.post("/api/orders/", order_body, format="json")),
            "blotter first page (PM)": lambda: ok(pm_api.get("/api/orders/")),
            "blotter page 2 (PM)": second_page(pm_api),
            "blotter status+instrument (PM)": lambda: ok(pm_api.get(f"/api/orders/?status=FILLED&instrument={sym}")),
            "blotter portfolio (PM)": lambda: ok(pm_api.get(f"/api/orders/?portfolio={pm_portfolio.pk}")),
            "blotter first page (trader)": lambda: ok(trader_api.get("/api/orders/")),
            "blotter page 2 (trader)": second_page(trader_api),
            "blotter status (trader)": lambda: ok(trader_api.get("/api/orders/?status=CANCELLED")),
            "blotter instrument (trader)": lambda: ok(trader_api.get(f"/api/orders/?instrument={sym}")),
            "blotter rare status+side (trader)": lambda: ok(trader_api.get("/api/orders/?status=EXPIRED&side=SELL")),
            "order page (trader)": lambda: ok(trader_page.get(f"/orders/{rng.randint(lo, hi)}/")),
            "order API (trader)": lambda: ok(trader_api.get(f"/api/orders/{rng.randint(lo, hi)}/")),
            "positions (PM)": lambda: ok(pm_api.get("/api/positions/")),
            "what-if (PM)": lambda: ok(pm_api.post("/api/pretrade/", what_if, format="json")),
            "page /pm/": lambda: ok(pm_page.get("/pm/")),
            "page /trader/": lambda: ok(trader_page.get("/trader/")),
        }

    results: dict[str, dict[int, dict[str, list[float]]]] = {}
    sizes = {}
    with psycopg.connect(url, autocommit=True) as conn:
        have = 0
        for step in steps:
            t0 = time.perf_counter()
            with conn.transaction(), conn.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
                counts = history_grow(cursor, start=have, end=step, portfolios=portfolios, instruments=instruments)
            for table in BIG_TABLES:
                conn.execute(f"VACUUM (ANALYZE) {table}")
            have = step
            lo, hi = conn.execute("SELECT min(id), max(id) FROM oms_order WHERE client_order_id IS NULL").fetchone()
            sizes[step] = {
                table: conn.execute(f"SELECT reltuples::bigint FROM pg_class WHERE relname = '{table}'").fetchone()[0]
                for table in BIG_TABLES
            }
            print(
                f"step {step:>10,}: +{counts['orders']:,} orders, +{counts['events']:,} events, "
                f"+{counts['fills']:,} fills, +{counts['decisions']:,} decisions in {time.perf_counter() - t0:.0f} s; "
                f"totals {sizes[step]}",
                flush=True,
            )
            for name, fn in operations((lo, hi)).items():
                results.setdefault(name, {})[step] = timed(fn, args.reps)
    Order.objects.none()  # the Django connection pool closes with the process

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
    print(f"\nload average (1/5/15 min) at the end: {' '.join(load)}; {os.cpu_count()} cores; reps {args.reps}")
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
                "load_average": [float(x) for x in load],
            }
        )
    )


if __name__ == "__main__":
    main()
