"""The EMS in the production process layout, for real: the web server (`manage.py serve`),
the market-data process that owns the one simulator (`run_marketdata`, production mode),
Celery beat and a prefork Celery worker, each a subprocess on PostgreSQL (pytest-django's
test database, so the test reads what they commit) and on a Redis database of their own
(broker, cache, channel layer and the venue streams), never the one the in-process suite
worker uses.

1. An order goes from the HTTP API through the router and an algorithm to venue fills and
   the position.
2. Chaos: executions run while the worker's process group is SIGKILLed at random moments
   (seeded) 20 times and restarted; afterwards every execution is finished, no child order
   was sent twice (the venue side's report stream executed each client order id once), none
   is overfilled, and each parent's fills equal the venue's; after the kill switch no child
   order is open.

The venue's report stream (`core.streams.REPORTS`, read here with XRANGE) is the venue's own
record of what it executed, independent of what the EMS stored."""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from core.decimals import to_step
from core.streams import COMMANDS, REPORTS
from ems.domain import states
from ems.models import ChildOrder, Execution, ExecutionReport
from marketdata.models import Instrument
from oms.models import Order, OrderFill, Position
from tests.conftest import postgres_only, redis_only

pytestmark = [postgres_only, redis_only, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "chaos-demo"
TICK_SECONDS = 0.25
KILLS = 20
SEED = int(os.environ.get("EMS_CHAOS_SEED", "20261201"))  # another seed, another set of moments
# How long a state may take to arrive on a loaded 2-core machine (waited for, never slept
# through); small enough that a test that fails does so within pytest-timeout's 300 s.
DEADLINE = 45.0


# --------------------------------------------------------------------------- processes


def subprocess_redis_url() -> str:
    """A Redis database for the subprocesses alone: EMS_PROCESS_REDIS_URL, else the suite's
    REDIS_URL database number + 10 (2 -> 12, CI's 0 -> 10)."""
    explicit = os.environ.get("EMS_PROCESS_REDIS_URL")
    if explicit:
        return explicit
    base, _, number = settings.REDIS_URL.rstrip("/").rpartition("/")
    db = (int(number) if number.isdigit() else 0) + 10
    if db > 15:  # Redis has 16 databases unless configured otherwise
        pytest.fail(f"REDIS_URL {settings.REDIS_URL}: set EMS_PROCESS_REDIS_URL to a Redis database of your own")
    return f"{base}/{db}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """Subprocesses, each the leader of its own process group (so a SIGKILL takes the
    prefork children with it), logging to files shown when a test fails."""

    def __init__(self, logs: Path, env: dict):
        self.logs, self.env = logs, env
        self.running: dict[str, subprocess.Popen] = {}
        self.log_paths: dict[str, Path] = {}
        self.starts: Counter = Counter()

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        self.starts[name] += 1
        path = self.logs / f"{name}-{self.starts[name]}.log"
        self.log_paths[name] = path
        with path.open("wb") as out:
            process = subprocess.Popen(
                argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.running[name] = process
        return process

    def kill(self, name: str) -> None:
        process = self.running.pop(name, None)
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        for name in list(self.running):
            self.kill(name)

    def log(self, name: str) -> str:
        path = self.log_paths.get(name)
        return path.read_text(errors="replace") if path and path.exists() else ""

    def alive(self, name: str) -> None:
        process = self.running[name]
        if process.poll() is not None:
            raise AssertionError(f"{name} exited with {process.returncode}:\n{self.log(name)[-4000:]}")

    def report(self) -> str:
        """Every log without Celery's start-up banner, the end of each."""
        parts = []
        for path in sorted(self.logs.glob("*.log"), key=lambda p: p.stat().st_mtime):
            lines = [line for line in path.read_text(errors="replace").splitlines() if not BANNER.search(line)]
            if lines:
                parts.append(f"----- {path.name}\n" + "\n".join(lines)[-3000:])
        return "\n".join(parts)


# Celery's start-up banner and root warning, left out of the logs a failure prints.
BANNER = re.compile(
    r"^(\s*$|\s*-[- *]|\s+\.|\[tasks\]|\[queues\]|Please specify|User information|absolutely)"
    r"|SecurityWarning|warnings\.warn"
)


def manage(*args: str) -> list[str]:
    return [sys.executable, "manage.py", *args]


def celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "config", *args]


class Stack:
    """The production set-up: web, market data, beat and one prefork worker."""

    def __init__(self, processes: Processes, port: int, redis_client):
        self.processes, self.port, self.redis = processes, port, redis_client
        self.base = f"http://127.0.0.1:{port}"
        self.tokens: dict[str, str] = {}
        self._in_flight = (0, 0)  # (tasks in kombu's unacked hash, venue reports pending) after the last kill

    # ---- processes

    def start_worker(self) -> None:
        name = f"chaos{self.processes.starts['worker'] + 1}@%h"
        self.processes.start(
            "worker",
            celery(
                "worker",
                "-P",
                "prefork",
                "-c",
                "2",
                "-Q",
                "default",
                "-n",
                name,
                "--loglevel",
                "INFO",
                "--without-mingle",
                "--without-gossip",
            ),
        )

    def wait_worker_ticking(self, since, timeout: float = 60.0) -> None:
        """Until the worker started at `since` has ticked an execution: it consumes and works
        (its "ready" line is below the WARNING level the settings give Celery's loggers)."""

        def ticked():
            self.processes.alive("worker")
            return Execution.objects.filter(last_tick_at__gt=since).exists()

        wait_for(ticked, timeout, "the Celery worker to tick an execution")

    def kill_worker(self) -> None:
        self.processes.kill("worker")

    # ---- HTTP

    def request(self, method: str, path: str, body: dict | None = None, user: str | None = None):
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if user:
            headers["Authorization"] = f"Token {self.tokens[user]}"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            text = error.read()
            try:
                return error.code, json.loads(text)
            except ValueError:
                return error.code, text.decode(errors="replace")

    def login(self, *users: str) -> None:
        for user in users:
            code, body = self.request("POST", "/api/auth/token/", {"username": user, "password": PASSWORD})
            assert code == 200, body
            self.tokens[user] = body["token"]

    def order(self, symbol: str, quantity: str, urgency: str = "HIGH", side: str = "BUY") -> dict:
        code, portfolios = self.request("GET", "/api/portfolios/", user="pm")
        assert code == 200, portfolios
        rows = portfolios["results"] if isinstance(portfolios, dict) else portfolios
        portfolio = sorted(rows, key=lambda p: p["id"])[0]["id"]
        code, body = self.request(
            "POST",
            "/api/orders/",
            {"portfolio": portfolio, "instrument": symbol, "side": side, "quantity": quantity, "urgency": urgency},
            user="pm",
        )
        assert code == 201 and body["status"] == "ACCEPTED", body
        return body

    def start_execution(self, order_id: int, strategy: str | None = None, parameters: dict | None = None) -> dict:
        payload: dict = {"order": order_id}
        if strategy:
            payload["strategy"] = strategy
        if parameters:
            payload["parameters"] = parameters
        code, body = self.request("POST", "/api/executions/", payload, user="trader")
        assert code == 201, body
        return body

    def wait_task_in_flight(self, timeout: float = 30.0) -> None:
        """Until the worker has taken a task it has not finished (acks_late: acknowledged only
        at the end), so the kill that follows lands while it works."""
        left_by_kills = self._in_flight[0]  # restored only after the visibility timeout (an hour)

        def working():
            self.processes.alive("worker")
            return self.redis.hlen("unacked") > left_by_kills

        wait_for(working, timeout, "the worker to take a task", poll=0.002)

    def in_flight(self) -> tuple[int, int]:
        """After a kill: how many tasks the dead worker had taken and not acknowledged (kombu
        keeps them in its `unacked` hash), and how many venue reports the EMS consumers had
        read and not acknowledged (left for another consumer to claim)."""
        tasks = self.redis.hlen("unacked")
        reports = self._reports_pending()
        before, self._in_flight = self._in_flight, (tasks, reports)
        return tasks - before[0], reports

    def _reports_pending(self) -> int:
        # The venue may have written reports before any EMS consumer created its group.
        if not self.redis.exists(REPORTS):
            return 0
        if not any(g["name"] in ("ems", b"ems") for g in self.redis.xinfo_groups(REPORTS)):
            return 0
        return self.redis.xpending(REPORTS, "ems")["pending"]

    # ---- the venue side's record

    def venue_reports(self) -> list[dict]:
        return [json.loads(fields["m"]) for _, fields in self.redis.xrange(REPORTS)]

    def venue_commands(self) -> list[dict]:
        return [json.loads(fields["m"]) for _, fields in self.redis.xrange(COMMANDS)]


def wait_for(condition, timeout: float, what: str, poll: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(poll)


@pytest.fixture
def stack(transactional_db, tmp_path):
    """Seed the demo (committed), then start web, market data and beat; the test starts and
    kills the worker. Every subprocess is killed (by process group) before the database is
    flushed, whatever the outcome."""
    import redis

    call_command("seed_demo", without_history=True, stdout=io.StringIO())
    from django.contrib.auth import get_user_model

    for user in get_user_model().objects.filter(username__in=["pm", "trader"]):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])

    url = subprocess_redis_url()
    assert url not in (settings.REDIS_URL, getattr(settings, "CACHES", {}).get("default", {}).get("LOCATION")), url
    client = redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()  # this database is the subprocesses' alone: what a killed run left is gone

    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": url,
        "REDIS_CACHE_URL": url,
        "STREAMS_URL": url,
        "MARKETDATA_EMBEDDED": "false",
        "EMS_TICK_SECONDS": str(TICK_SECONDS),
        "EMS_RESEND_AFTER_SECONDS": "1",
        "EMS_REPORT_CLAIM_IDLE_MS": "1000",
        "ANALYTICS_REFRESH_SECONDS": "3600",
        "DB_POOL_MAX_SIZE": "2",
        "DB_POOL_MIN_SIZE": "1",
        "WEB_WORKERS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    processes = Processes(tmp_path, env)
    port = free_port()
    stack = Stack(processes, port, client)
    try:
        processes.start("web", manage("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"))
        processes.start("marketdata", manage("run_marketdata"))
        processes.start("beat", celery("beat", "--loglevel", "WARNING", "--schedule", str(tmp_path / "beat-schedule")))

        def web_up():
            processes.alive("web")
            try:
                return stack.request("GET", "/healthz")[0] in (200, 503)
            except OSError:
                return False

        wait_for(web_up, 60, "the web server")
        stack.login("pm", "trader")

        def books_fresh():
            processes.alive("marketdata")
            code, body = stack.request("GET", "/api/marketdata/AAPL/", user="pm")
            return code == 200 and body.get("fresh") and body.get("mid")

        wait_for(books_fresh, 60, "fresh books from the market-data process")
        yield stack
    finally:
        processes.stop_all()
        client.close()
        print(processes.report())  # pytest shows it when the test failed


# --------------------------------------------------------------------------- checks


def venue_fills_by_child(reports: list[dict]) -> dict[str, D]:
    """The quantity the venue filled per client order id, on the instrument's lot grid."""
    lots = dict(Instrument.objects.values_list("symbol", "lot_size"))
    filled: dict[str, D] = defaultdict(D)
    for report in reports:
        if report["type"] == "FILLED":
            quantity, lot = D(str(report["quantity"])), lots[report["symbol"]]
            # The EMS books a fill on the lot grid: a venue fill off the grid would be lost in part.
            assert abs(quantity - to_step(quantity, lot)) < lot / 1000, report
            filled[report["client_order_id"]] += to_step(quantity, lot)
    return filled


def assert_books_agree(stack: Stack, executions: list[Execution]) -> dict:
    """No duplicate child order, no overfill, parent fills == venue fills, every venue report
    stored and applied once. Returns figures for the failure message and the report."""
    reports = stack.venue_reports()
    exec_ids = Counter(r["exec_id"] for r in reports)
    # A cancel repeated (by the sweep) is answered with the same CANCELLED report, by design;
    # an order accepted twice or a fill reported twice would be a venue-side duplicate.
    duplicates = {e: n for e, n in exec_ids.items() if n > 1 and not e.endswith(":X")}
    assert duplicates == {}, f"the venue executed twice: {duplicates}"
    executed = Counter(r["client_order_id"] for r in reports if r["type"] in ("ACKED", "REJECTED"))
    assert [c for c, n in executed.items() if n > 1] == []

    children = list(ChildOrder.objects.filter(execution__in=executions))
    coids = [c.client_order_id for c in children]
    assert len(coids) == len(set(coids))
    for execution in executions:
        seqs = sorted(c.seq for c in children if c.execution_id == execution.pk)
        assert seqs == list(range(1, execution.child_seq + 1)), (execution.pk, seqs, execution.child_seq)
    # Every order the venue executed is a child the EMS knows, and every child the venue
    # heard of was answered.
    assert set(executed) <= set(coids)
    answered = {r["client_order_id"] for r in reports}
    assert {c.client_order_id for c in children if c.status != states.NEW} <= answered | set()

    venue_filled = venue_fills_by_child(reports)
    accepted = {r["client_order_id"] for r in reports if r["type"] == "ACKED"}
    cancelled_at_venue = {r["client_order_id"] for r in reports if r["type"] == "CANCELLED"}
    for child in children:
        coid = child.client_order_id
        assert child.filled_quantity <= child.quantity, f"child {coid} overfilled"
        assert child.filled_quantity == venue_filled.get(coid, D(0)), coid
        # Nothing is left working at the venue either: each order it accepted was filled in
        # full or cancelled there.
        if coid in accepted and coid not in cancelled_at_venue:
            assert venue_filled.get(coid) == child.quantity, f"child {coid} still open at the venue"

    stored = Counter(ExecutionReport.objects.values_list("venue_execution_id", flat=True))
    assert set(exec_ids) <= set(stored), set(exec_ids) - set(stored)
    assert not ExecutionReport.objects.filter(outcome__startswith="overfill").exists()
    venue_fill_ids = {r["exec_id"] for r in reports if r["type"] == "FILLED"}

    for execution in executions:
        order = Order.objects.get(pk=execution.order_id)
        fills = list(OrderFill.objects.filter(order=order, refused_reason=""))
        mine = {c.client_order_id for c in children if c.execution_id == execution.pk}
        venue_total = sum((q for coid, q in venue_filled.items() if coid in mine), D(0))
        assert order.filled_quantity <= order.quantity, f"order {order.pk} overfilled"
        assert execution.filled_quantity == order.filled_quantity == sum((f.quantity for f in fills), D(0))
        assert order.filled_quantity == venue_total, (order.pk, order.filled_quantity, venue_total)
        assert {f.fill_id for f in fills} <= venue_fill_ids
    # What the kills hit, for the record: orders sent again by the sweep (a kill between
    # the tick's commit and its send), cancels repeated, reports stored later than the claim
    # idle time after the venue wrote them (mostly those a killed consumer had read).
    commands = stack.venue_commands()
    by_id = {c.client_order_id: c for c in children}
    for command in commands:
        if command["type"] == "NEW":
            # A resent order is the same order: same venue, side, type, quantity and limit.
            child = by_id[command["client_order_id"]]
            limit = None if command["limit_price"] is None else D(command["limit_price"])
            assert (command["venue"], command["side"], command["child_type"], D(command["quantity"]), limit) == (
                child.venue,
                child.side,
                child.child_type,
                child.quantity,
                child.limit_price,
            ), command
    resends = Counter(c["client_order_id"] for c in commands if c["type"] == "NEW")
    late = sum(
        1 for raw, at in ExecutionReport.objects.values_list("raw", "received_at") if at.timestamp() - raw["ts"] > 1.0
    )
    return {
        "executions": len(executions),
        "ticks": sum(e.tick_count for e in executions),
        "children": len(children),
        "venue_reports": len(reports),
        "fills": len(venue_fill_ids),
        "new_resent": sum(n - 1 for n in resends.values()),
        "cancels_repeated": sum(n - 1 for e, n in exec_ids.items() if n > 1),
        "reports_late": late,
    }


def position_of(portfolio_id: int, instrument_id: int) -> D:
    row = Position.objects.filter(portfolio_id=portfolio_id, instrument_id=instrument_id).first()
    return row.quantity if row else D(0)


def executions_of(ids: list[int]) -> list[Execution]:
    return list(Execution.objects.filter(pk__in=ids).order_by("pk"))


def all_terminal(ids: list[int]) -> bool:
    return not Execution.objects.filter(pk__in=ids).exclude(status__in=states.EXECUTION_TERMINAL).exists()


# --------------------------------------------------------------------------- tests


def test_an_order_goes_from_the_api_through_an_algorithm_to_fills_and_the_position(stack):
    stack.start_worker()
    pm_order = stack.order("AAPL", "300", urgency="HIGH")
    order = Order.objects.get(pk=pm_order["id"])
    before = position_of(order.portfolio_id, order.instrument_id)
    code, recommendation = stack.request("GET", f"/api/orders/{order.pk}/recommendation/", user="trader")
    assert code == 200, recommendation

    started = stack.start_execution(order.pk)  # the router's recommendation, as the desk accepts it
    assert started["strategy"] == recommendation["strategy"]
    assert started["status"] == "RUNNING"

    wait_for(lambda: all_terminal([started["id"]]), DEADLINE, "the execution to finish")
    code, detail = stack.request("GET", f"/api/executions/{started['id']}/", user="trader")
    assert code == 200, detail
    order.refresh_from_db()
    assert (detail["status"], order.status) == ("DONE", "FILLED"), detail
    assert order.filled_quantity == D("300")
    assert_books_agree(stack, executions_of([started["id"]]))
    fills = OrderFill.objects.filter(order=order, refused_reason="")
    assert sum((f.quantity for f in fills), D(0)) == D("300")
    assert sum((D(f["quantity"]) for f in detail["fills"]), D(0)) == D("300")
    assert position_of(order.portfolio_id, order.instrument_id) == before + D("300")
    code, positions = stack.request("GET", "/api/positions/", user="pm")
    rows = positions["results"] if isinstance(positions, dict) else positions
    mine = [
        p for p in rows if p["portfolio"] == order.portfolio_id and p["instrument"] in ("AAPL", order.instrument_id)
    ]
    assert [D(p["quantity"]) for p in mine] == [before + D("300")], mine


# Finite executions, one started at each restart (so kills land on first ticks, sends and
# fills as well as on later ticks); they end, filled or expired at their end time.
SHORT = [
    ("AAPL", "4000", "TWAP", {"horizon_seconds": 12}),
    ("MSFT", "3000", "VWAP", {"horizon_seconds": 15}),
    ("NVDA", "6000", "POV", {"horizon_seconds": 12, "participation_rate": 0.2}),
    ("JPM", "2000", "ICEBERG", {"horizon_seconds": 15, "display_quantity": 200}),
    ("BTC-USD", "0.5", "TWAP", {"horizon_seconds": 10}),
    ("AAPL", "1500", "DIRECT", {"horizon_seconds": 15}),
    ("ETH-USD", "3", "DIRECT", {"horizon_seconds": 15}),
]
# Long executions: still working when the kill switch stops them. Sized so that none can
# fill within the run however slow a loaded machine makes it (a 20,000 MSFT dark order once
# filled in the ten minutes a run took at load 7): the dark and POV ones fill as fast as the
# market lets them, not on a schedule.
LONG = [
    ("MSFT", "200000", "DARK", {"horizon_seconds": 3600}),
    ("NVDA", "50000", "TWAP", {"horizon_seconds": 3600}),
    ("AAPL", "300000", "ICEBERG", {"horizon_seconds": 3600, "display_quantity": 300}),
    ("JPM", "100000", "POV", {"horizon_seconds": 3600, "participation_rate": 0.05}),
    ("BTC-USD", "5", "VWAP", {"horizon_seconds": 3600}),
    ("ETH-USD", "500", "DARK", {"horizon_seconds": 3600}),
]


def test_sigkilled_workers_lose_nothing_and_double_nothing_then_the_kill_switch_closes_everything(stack):
    rng = random.Random(SEED)
    started: list[int] = []
    long_ids: list[int] = []

    def start(symbol, quantity, strategy, parameters, urgency="MEDIUM"):
        order = stack.order(symbol, quantity, urgency=urgency)
        return stack.start_execution(order["id"], strategy, parameters)["id"]

    for spec in LONG:
        long_ids.append(start(*spec))
    hits: list[tuple[int, int]] = []  # per kill: (tasks it interrupted, venue reports it left unacknowledged)
    for kill in range(KILLS):
        since = timezone.now()
        stack.start_worker()
        stack.wait_worker_ticking(since)
        started.append(start(*SHORT[kill % len(SHORT)]))
        # The random moment of the kill: some time into the run, then some time into a task.
        time.sleep(rng.uniform(0.0, 1.0))
        stack.wait_task_in_flight()
        time.sleep(rng.uniform(0.0, 0.1))
        stack.kill_worker()
        hits.append(stack.in_flight())
    stack.start_worker()

    end = max(Execution.objects.filter(pk__in=started).values_list("end_at", flat=True))
    left = max(0.0, end.timestamp() - time.time())
    wait_for(lambda: all_terminal(started), left + DEADLINE, "every finite execution to finish")
    assert not Execution.objects.filter(pk__in=long_ids).exclude(status=states.RUNNING).exists()

    # The kill switch with children open at the venues.
    wait_for(
        lambda: ChildOrder.objects.filter(
            execution__in=long_ids, status__in=[states.ACKED, states.PARTIALLY_FILLED]
        ).exists(),
        DEADLINE,
        "a long execution to have a child order working at a venue",
    )
    code, body = stack.request("POST", "/api/killswitch/", {}, user="trader")
    running = Execution.objects.filter(pk__in=long_ids, status=states.RUNNING).count()
    assert (code, body) == (200, {"stopped": len(long_ids)})
    assert running == 0

    everything = started + long_ids

    def closed():
        return all_terminal(everything) and not ChildOrder.objects.filter(status__in=states.CHILD_OPEN).exists()

    wait_for(closed, DEADLINE, "the kill switch to close every child order")
    assert not ChildOrder.objects.filter(status__in=states.CHILD_OPEN).exists()
    for execution in executions_of(long_ids):
        order = Order.objects.get(pk=execution.order_id)
        assert (execution.status, order.status) in {("CANCELLED", "CANCELLED"), ("DONE", "FILLED")}, execution.pk

    figures = assert_books_agree(stack, executions_of(everything))
    assert stack.processes.starts["worker"] == KILLS + 1
    interrupted = sum(1 for tasks, _ in hits if tasks)
    print(f"chaos: {KILLS} SIGKILLs ({interrupted} mid-task, per kill {hits}), {figures}")
