"""EMS tick benchmark: 1,000 active executions ticked by the production processes.

    DATABASE_URL=postgres://... REDIS_URL=redis://.../4 REDIS_CACHE_URL=redis://.../5 \\
        .venv/bin/python bench/ems.py [--executions 1000] [--workers 2] [--seconds 60]

What runs is what docker-compose runs, as subprocesses: the market-data process
(`manage.py run_marketdata`, MARKETDATA_EMBEDDED=false: the simulator and the simulated
venue behind Redis streams), `--workers` Celery workers (`celery -A config worker`, one
process each, prefork -c 1 by default) and Celery beat firing `ems.tasks.executions_tick_due`
every EMS_TICK_SECONDS. The bench itself only sets up and watches.

Setup, on a database of its own (`<DATABASE_URL's name>_bench_ems`, dropped afterwards):
migrate, the demo data (seed_demo without history), then `--executions` real parent orders
through `oms.services.order_submit` (ACCEPTED by compliance) and `ems.services.execution_start`
with a mix of TWAP, VWAP and POV over a three-hour horizon, so every one stays active.

Measured over `--seconds` after a warm-up in which every execution has ticked: ticks per
second (in total and per worker, from the task results each worker logs), and the tick lag
= when a tick ran (Execution.last_tick_at) minus when it was due (Execution.last_tick_due_at),
sampled by polling the executions faster than they tick; and the CPU time per tick of the
workers, the market-data process, beat, Redis and the PostgreSQL backends of the bench
database (from /proc: the machine is shared, this part does not depend on what else runs),
with the ticks per second that cost would allow on all the cores. Goal: 1,000 executions at 1 Hz on
two workers with lag p99 under 500 ms. Prints a table, then as its last line one JSON object.

The Redis databases of REDIS_URL and REDIS_CACHE_URL must be the bench's own: it deletes the
venue streams and the Celery queue keys there before and after the run."""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_LAG_P99_MS = 500.0
HORIZON_SECONDS = 3 * 3600
STRATEGIES = ("TWAP", "VWAP", "POV")
# (symbol, quantity): equities and coins of the demo universe (TSLA is restricted there).
BOOK = (
    ("AAPL", "20000"),
    ("MSFT", "8000"),
    ("NVDA", "60000"),
    ("JPM", "4000"),
    ("BTC-USD", "2"),
    ("ETH-USD", "40"),
)
REDIS_KEYS = (
    "venue.commands",
    "venue.reports",
    "venue:seen",
    "venue:resting",
    "default",
    "unacked",
    "unacked_index",
    "unacked_mutex",
)
# The line ems.tasks logs every EMS_TICK_REPORT_SECONDS per worker process (in Celery's log
# format or Django's: the timestamp and the message are what both have).
# The worker's log line: "2026-12-01T19:07:23.490291Z [info ] ticked 729 executions in 1.0 s"
# (core.logs, UTC), or Celery's own "2026-12-01 19:07:23,490 ... ticked ..." (local time).
TICKED = re.compile(
    r"(?P<at>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d[,.]\d+Z?).*?ticked (?P<n>\d+) executions in (?P<s>[\d.]+) s"
)


def bench_database_url(url: str) -> str:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    return urlunsplit(parts._replace(path=f"/{name}_bench_ems"))


def admin_connect(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


def database_recreate(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with admin_connect(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def database_drop(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with admin_connect(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_clear(*urls: str) -> None:
    import redis

    for url in {u for u in urls if u}:
        redis.Redis.from_url(url).delete(*REDIS_KEYS)


def seed() -> None:
    import io

    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("seed_demo", without_history=True, stdout=io.StringIO())


def setup(executions: int) -> list[int]:
    """Start `executions` executions on real accepted orders; returns their ids."""
    import random
    from decimal import Decimal as D

    from django.contrib.auth import get_user_model

    from ems.services import execution_start
    from marketdata.models import Instrument
    from oms.models import Portfolio
    from oms.services import order_submit

    users = get_user_model().objects
    pm, trader = users.get(username="pm"), users.get(username="trader")
    portfolio = Portfolio.objects.filter(owner=pm, name="Global Equity Alpha").get()
    instruments = {i.symbol: i for i in Instrument.objects.filter(symbol__in=[s for s, _ in BOOK])}
    rng = random.Random(8)
    ids = []
    for n in range(executions):
        symbol, quantity = BOOK[n % len(BOOK)]
        strategy = STRATEGIES[n % len(STRATEGIES)]
        order = order_submit(
            actor=pm,
            portfolio=portfolio,
            instrument=instruments[symbol],
            side="BUY",
            quantity=D(quantity),
            urgency=rng.choice(["LOW", "MEDIUM"]),
        )
        if order.status != "ACCEPTED":
            raise RuntimeError(f"order {n} was not accepted: {order.rejection_reasons}")
        parameters = {"horizon_seconds": HORIZON_SECONDS}
        if strategy == "POV":
            # The lowest rate the API takes: at 1% of the simulator's volume a POV order filled
            # within two minutes, and the bench ran with a third of its executions done.
            parameters["participation_rate"] = 0.001
        ids.append(execution_start(actor=trader, order_id=order.pk, strategy=strategy, parameters=parameters).pk)
        if (n + 1) % 200 == 0:
            print(f"  {n + 1} executions started", flush=True)
    return ids


def spawn(name: str, argv: list[str], env: dict, logs: Path) -> tuple[subprocess.Popen, Path]:
    log = logs / f"{name}.log"
    process = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )
    return process, log


def stop(processes: list[subprocess.Popen]) -> None:
    """Stop the processes this bench started: SIGTERM to each (a Celery worker then finishes
    its task and stops its pool child), SIGKILL to its process group if it lingers."""
    for p in processes:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for p in processes:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def snapshot(ids: list[int]) -> dict[int, tuple[int, float | None]]:
    """{id: (tick_count, lag_ms of the last tick)} read in one query."""
    from ems.models import Execution

    rows = Execution.objects.filter(pk__in=ids).values_list("pk", "tick_count", "last_tick_at", "last_tick_due_at")
    out = {}
    for pk, count, at, due in rows:
        lag = None if at is None or due is None else (at - due).total_seconds() * 1000
        out[pk] = (count, lag)
    return out


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (0 once it is gone), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (a prefork worker's pool child does the work)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            children = task / "children"
            if children.exists():
                todo.extend(int(c) for c in children.read_text().split())
    return found


def cpu_groups(processes: dict[str, subprocess.Popen]) -> dict[str, dict[int, float]]:
    """CPU seconds so far, per pid, of each group of the bench's processes, and of the
    PostgreSQL backends serving the bench database: what the machine spends on the EMS,
    whatever else runs beside it (the machine is shared)."""
    from django.db import connection

    groups = {name: {pid: cpu_seconds(pid) for pid in process_tree(p.pid)} for name, p in processes.items()}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        groups["postgres"] = {pid: cpu_seconds(pid) for (pid,) in cursor.fetchall()}
    groups["redis"] = {pid: cpu_seconds(pid) for pid in redis_pids()}
    return groups


def redis_pids() -> set[int]:
    """The redis-server process(es) behind REDIS_URL and REDIS_CACHE_URL (the bench's own)."""
    import redis

    urls = {os.environ.get("REDIS_URL"), os.environ.get("REDIS_CACHE_URL")} - {None, ""}
    return {int(redis.Redis.from_url(url).info("server")["process_id"]) for url in urls}


def cpu_used(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds each group used between two readings, counting the pids seen at both
    (a backend or pool child that came or went in between is left out)."""
    return {
        name: sum(after[name][pid] - start for pid, start in pids.items() if pid in after.get(name, {}))
        for name, pids in before.items()
    }


def measure(ids: list[int], seconds: float, poll: float, processes: dict[str, subprocess.Popen]) -> dict:
    from ems.domain import states
    from ems.models import Execution

    cpu_before = cpu_groups(processes)
    before = snapshot(ids)
    lags: list[float] = []
    missed = 0
    last = before
    started = time.time()
    while time.time() - started < seconds:
        time.sleep(poll)
        now = snapshot(ids)
        for pk, (count, lag) in now.items():
            delta = count - last[pk][0]
            if delta >= 1 and lag is not None:
                lags.append(lag)
                missed += delta - 1  # ticks between two polls: only the last one is seen
        last = now
    ended = time.time()
    cpu = cpu_used(cpu_before, cpu_groups(processes))
    ticks = sum(last[pk][0] - before[pk][0] for pk in ids)
    active = Execution.objects.filter(pk__in=ids, status__in=states.EXECUTION_ACTIVE).count()
    return {
        "started": started,
        "ended": ended,
        "ticks": ticks,
        "lags": lags,
        "missed": missed,
        "active_end": active,
        "cpu": cpu,
    }


def worker_ticks(log: Path, started: float, ended: float) -> int:
    """Executions ticked by one worker inside the window, from its tick reports (each counts
    the ticks since the one before, so a report is taken when it ends inside the window)."""
    from datetime import datetime

    seen = set()
    for line in log.read_text(errors="replace").splitlines():
        match = TICKED.search(line)
        if match:
            stamp = match["at"]
            if stamp.endswith("Z"):
                at = datetime.fromisoformat(stamp).timestamp()
            else:
                at = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()
            if started < at <= ended:
                seen.add((at, int(match["n"])))  # once, should two handlers print it
    return sum(n for _, n in seen)


def tick_round(due_by) -> int:
    """Tick every execution due by `due_by` once, as the beat task's loop does."""
    from ems import services

    ticked = 0
    if hasattr(services, "executions_tick_batch"):
        while batch := services.executions_tick_batch(due_by=due_by):
            ticked += len(batch)
        return ticked
    while ids := services.executions_lease_due(now=due_by):  # before the batched tick
        for execution_id in ids:
            services.execution_tick(execution_id=execution_id)
        ticked += len(ids)
    return ticked


def profile(ids: list[int], rounds: int) -> dict:
    """In this process, without workers: make every execution due and tick each once,
    `rounds` times (the venue's reports applied between rounds); count the SQL statements
    (those of the sends after commit included) and the time per tick, and print cProfile's
    top entries of the last round."""
    import cProfile
    import io
    import pstats

    from django.db import connection
    from django.utils import timezone

    from ems import tasks
    from ems.models import Execution

    queries = ticked = reports = 0
    seconds = report_seconds = 0.0
    profiler = cProfile.Profile()
    counted = [0]

    def count(execute, sql, params, many, context):
        counted[0] += len(params) if many else 1  # executemany: each row's statement
        return execute(sql, params, many, context)

    for n in range(rounds):
        time.sleep(0.5)  # the venue answers the last round's children
        report_started = time.perf_counter()
        applied = tasks.reports_apply_pending()
        if n > 0:
            reports += applied
            report_seconds += time.perf_counter() - report_started
        due_by = timezone.now()
        Execution.objects.filter(pk__in=ids).update(next_tick_at=due_by)
        counted[0] = 0
        with connection.execute_wrapper(count):
            if n == rounds - 1:
                profiler.enable()
            started = time.perf_counter()
            count_ticked = tick_round(due_by)
            elapsed = time.perf_counter() - started
            profiler.disable()
        if n == 0:
            continue  # warm-up: imports, caches, the first children of every execution
        queries += counted[0]
        ticked += count_ticked
        seconds += elapsed
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    print(out.getvalue())
    return {
        "ticked": ticked,
        "queries_per_tick": round(queries / ticked, 2),
        "ms_per_tick": round(seconds * 1000 / ticked, 2),
        "reports_applied": reports,
        "ms_per_report": round(report_seconds * 1000 / reports, 2) if reports else None,
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def wait_until(what: str, check, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=60.0, help="the measured window")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds run before the window")
    parser.add_argument("--pool", default="prefork", choices=["prefork", "solo"])
    parser.add_argument(
        "--concurrency", type=int, default=1, help="pool processes per prefork worker (docker-compose runs 4)"
    )
    parser.add_argument("--poll", type=float, default=0.2, help="seconds between two samples of the executions")
    parser.add_argument("--keep", action="store_true", help="keep the bench database and the logs")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="ROUNDS", help="profile the tick in this process instead"
    )
    args = parser.parse_args()

    source = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not source.startswith("postgres") or not redis_url:
        sys.exit("bench/ems.py runs the production processes: set DATABASE_URL (PostgreSQL) and REDIS_URL")
    url = bench_database_url(source)
    cache_url = os.environ.get("REDIS_CACHE_URL", redis_url)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "MARKETDATA_EMBEDDED": "false",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONUNBUFFERED": "1",
        "DB_POOL_MAX_SIZE": "2",
        "EMS_TICK_REPORT_SECONDS": "1",
    }
    os.environ.update(
        {"DATABASE_URL": url, "MARKETDATA_EMBEDDED": "false", "DJANGO_SETTINGS_MODULE": "config.settings"}
    )
    logs = Path(tempfile.mkdtemp(prefix="bench-ems-"))
    database_recreate(url)
    redis_clear(redis_url, cache_url)

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    processes: list[subprocess.Popen] = []
    named: dict[str, subprocess.Popen] = {}
    try:
        t0 = time.perf_counter()
        print(f"setting up {args.executions} executions on {urlsplit(url).path.lstrip('/')} ...", flush=True)
        seed()
        marketdata, _ = spawn("marketdata", [sys.executable, "manage.py", "run_marketdata"], env, logs)
        processes.append(marketdata)
        named["marketdata"] = marketdata
        from marketdata.selectors import is_fresh, latest_snapshot

        wait_until("the first market snapshots", lambda: is_fresh(latest_snapshot(BOOK[0][0])), timeout=60)
        ids = setup(args.executions)
        setup_seconds = time.perf_counter() - t0
        if args.profile:
            figures = profile(ids, args.profile)
            print(f"{'figure':<24}{'value':>10}")
            print(f"{'ticks profiled':<24}{figures['ticked']:>10,}")
            print(f"{'SQL queries / tick':<24}{figures['queries_per_tick']:>10.2f}")
            print(f"{'ms / tick (one process)':<24}{figures['ms_per_tick']:>10.2f}")
            print(f"{'reports applied':<24}{figures['reports_applied']:>10,}")
            print(f"{'ms / report applied':<24}{figures['ms_per_report'] or 0:>10.2f}")
            print(json.dumps({"executions": args.executions, **figures}))
            return
        connection.close()

        celery = str(Path(sys.executable).with_name("celery"))
        worker_logs = []
        for n in range(args.workers):
            pool = ["-P", "solo"] if args.pool == "solo" else ["-P", "prefork", "-c", str(args.concurrency)]
            argv = [celery, "-A", "config", "worker", *pool, "-n", f"bench{n + 1}@%h", "-Q", "default", "-l", "INFO"]
            process, log = spawn(f"worker{n + 1}", argv, env, logs)
            processes.append(process)
            named[f"worker{n + 1}"] = process
            worker_logs.append(log)
        beat, _ = spawn(
            "beat", [celery, "-A", "config", "beat", "-l", "INFO", "-s", str(logs / "beat-schedule")], env, logs
        )
        processes.append(beat)
        named["beat"] = beat

        from ems.models import Execution

        wait_until(
            "every execution's first tick",
            lambda: not Execution.objects.filter(pk__in=ids, tick_count=0).exists(),
            timeout=300,
        )
        time.sleep(args.warmup)
        for p in processes:
            if p.poll() is not None:
                raise RuntimeError(f"a bench process exited early: {p.args}")
        window = measure(ids, args.seconds, args.poll, named)
        per_worker = [worker_ticks(log, window["started"], window["ended"]) for log in worker_logs]
    except BaseException:
        print(f"failed: the processes' logs are in {logs}", file=sys.stderr)
        args.keep = True
        raise
    finally:
        stop(processes)
        connection.close()
        redis_clear(redis_url, cache_url)
        if not args.keep:
            database_drop(url)

    elapsed = window["ended"] - window["started"]
    lags = window["lags"]
    tick_rate = window["ticks"] / elapsed
    figures = {
        "executions": args.executions,
        "active_at_end": window["active_end"],
        "workers": args.workers,
        "pool": args.pool,
        "concurrency": 1 if args.pool == "solo" else args.concurrency,
        "tick_seconds": settings.EMS_TICK_SECONDS,
        "tick_batch": settings.EMS_TICK_BATCH,
        "window_seconds": round(elapsed, 1),
        "ticks": window["ticks"],
        "ticks_per_second": round(tick_rate, 1),
        "ticks_per_second_per_worker": [round(n / elapsed, 1) for n in per_worker],
        "ticks_per_execution_per_second": round(tick_rate / args.executions, 3),
        "lag_p50_ms": round(percentile(lags, 0.50), 1),
        "lag_p90_ms": round(percentile(lags, 0.90), 1),
        "lag_p99_ms": round(percentile(lags, 0.99), 1),
        "lag_max_ms": round(max(lags), 1) if lags else None,
        "lag_samples": len(lags),
        "ticks_not_sampled": window["missed"],
        "setup_seconds": round(setup_seconds, 1),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    cpu = window["cpu"]
    workers_cpu = sum(v for k, v in cpu.items() if k.startswith("worker"))
    ticks = max(window["ticks"], 1)
    figures["cpu_ms_per_tick"] = {
        "workers": round(workers_cpu * 1000 / ticks, 2),
        "postgres": round(cpu["postgres"] * 1000 / ticks, 2),
        "marketdata": round(cpu["marketdata"] * 1000 / ticks, 2),
        "beat": round(cpu["beat"] * 1000 / ticks, 2),
        "redis": round(cpu["redis"] * 1000 / ticks, 2),
    }
    figures["cpu_ms_per_tick"]["total"] = round(sum(figures["cpu_ms_per_tick"].values()), 2)
    # What the machine could tick with all its cores on the EMS, at this cost per tick.
    figures["ticks_per_second_cpu_bound"] = round(os.cpu_count() * 1000 / figures["cpu_ms_per_tick"]["total"], 1)
    # The share of the machine's cores the EMS got in the window (the rest went elsewhere).
    figures["cpu_share_of_machine"] = round(sum(cpu.values()) / elapsed / os.cpu_count(), 3)
    figures["load_average"] = [round(x, 2) for x in os.getloadavg()]
    figures["goal_met"] = figures["ticks_per_execution_per_second"] >= 0.95 and figures["lag_p99_ms"] < GOAL_LAG_P99_MS

    print(
        f"EMS ticks: {args.executions} executions, {args.workers} Celery workers ({args.pool}), "
        f"beat every {figures['tick_seconds']} s, {figures['window_seconds']} s measured"
    )
    rows = [
        ("executions active at the end", f"{figures['active_at_end']:,}"),
        ("ticks in the window", f"{figures['ticks']:,}"),
        ("ticks / s (all workers)", f"{figures['ticks_per_second']:,.1f}"),
        *(
            (f"ticks / s worker {n + 1}", f"{rate:,.1f}")
            for n, rate in enumerate(figures["ticks_per_second_per_worker"])
        ),
        ("ticks / execution / s (goal 1)", f"{figures['ticks_per_execution_per_second']:.3f}"),
        ("tick lag p50 (ms)", f"{figures['lag_p50_ms']:,.1f}"),
        ("tick lag p90 (ms)", f"{figures['lag_p90_ms']:,.1f}"),
        ("tick lag p99 (ms, goal < 500)", f"{figures['lag_p99_ms']:,.1f}"),
        ("tick lag max (ms)", f"{figures['lag_max_ms'] or 0:,.1f}"),
        ("lag samples (ticks unsampled)", f"{figures['lag_samples']:,} ({figures['ticks_not_sampled']:,})"),
        *((f"CPU ms / tick: {name}", f"{value:,.2f}") for name, value in figures["cpu_ms_per_tick"].items()),
        ("share of the machine's cores the EMS got", f"{figures['cpu_share_of_machine']:.3f}"),
        ("ticks / s if the EMS had every core", f"{figures['ticks_per_second_cpu_bound']:,.1f}"),
        ("load average (1, 5, 15 min)", " ".join(f"{x:.2f}" for x in figures["load_average"])),
        ("goal (1 Hz each, p99 < 500 ms)", "met" if figures["goal_met"] else "NOT met"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'value':>14}")
    print("-" * (width + 16))
    for name, value in rows:
        print(f"{name:<{width}}  {value:>14}")
    if args.keep:
        print(f"logs kept in {logs}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
