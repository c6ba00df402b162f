"""RFQ benchmark: quote-arrival-to-ladder-pushed latency.

Run from the repository root:  .venv/bin/python bench/rfq.py [--quick]
Prints a table, then as its last line one JSON object with the figures.

20 providers quote (and re-quote) into 10 RFQs at the same time. Each arrival runs the real
`rfq.services.quote_submit` (row lock, quote and audit rows, the numbered ladder push, commit),
whose push then goes through the configured channel layer (channels_redis when REDIS_URL is
set, else in-memory) and the real ASGI application to the trader's websocket
(RfqLadderConsumer). Latency: from the quote's due arrival time to the websocket client
holding a pushed ladder with the quote in it. Goal: p99 under 50 ms.

Where quotes are submitted: by default through rfq.intake.QuoteIntake with `--workers`
threads (default 4) of this process, which also holds the websockets: each quote is handed
to the intake at its arrival time, and quotes of one RFQ that arrive while its previous
batch is being written are written together (rfq.services.quotes_submit), as a process
receiving providers' quotes does. `--per-quote` calls rfq.services.quote_submit once per
quote from the threads instead (a transaction per quote: the bench's earlier layout).
`--processes` (Redis only: the in-memory layer cannot cross processes) submits one quote per
call from worker processes, as the Celery workers that run the simulated providers' answers
do, while this process plays the ASGI server. On a small shared machine the processes take
CPU from PostgreSQL and come out slower; the table says where the time went, and gives the
CPU this process spent per quote (submitting and serving the websockets), which other
programs' load does not inflate the way it inflates the latencies.

The bench runs on a throwaway database of its own: your rows stay untouched."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PROVIDERS = 20
RFQS = 10
GOAL_P99_MS = 50.0


def _django() -> None:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from core.runtime import heap_settle

    heap_settle()  # as the web and worker processes do once started


def _worker_init(database_name: str) -> None:
    """A submitting process: Django set up afresh, on the bench's database."""
    _django()
    from django.db import connection

    connection.settings_dict["NAME"] = database_name


def _submit(rfq_id: int, invitation_id: int, ask: str, due: float) -> tuple[int, tuple[float, float, float], int]:
    """Arrives at `due` (perf_counter, one clock for every process): waits for it, then hands
    the quote to the service. Returns the quote's id and (due, started, committed)."""
    from decimal import Decimal as D

    from rfq import services

    delay = due - time.perf_counter()
    if delay > 0:
        time.sleep(delay)
    started = time.perf_counter()
    q = services.quote_submit(invitation_id=invitation_id, bid=None, ask=D(ask), size=D("10000"), validity_seconds=600)
    return q.pk, (due, started, time.perf_counter()), 1


def _wait(seconds: float) -> None:
    time.sleep(seconds)


class _Intake:
    """Quotes handed to rfq.intake at their arrival times, from the event loop."""

    def __init__(self, workers: int):
        from rfq.intake import QuoteIntake

        self.intake = QuoteIntake(workers)

    async def submit(self, rfq_id: int, invitation_id: int, ask: str, due: float):
        import asyncio
        from decimal import Decimal as D

        from django.utils import timezone

        from rfq.services import Answer

        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        answer = Answer(invitation_id, None, D(ask), D("10000"), 600, timezone.now())
        receipt = await asyncio.wrap_future(self.intake.submit(rfq_id, answer))
        return receipt.quote.pk, (due, receipt.started, receipt.committed), receipt.batch

    def shutdown(self, wait: bool = True) -> None:
        self.intake.close()


class _PerQuote:
    """One rfq.services.quote_submit per quote, each in a thread or process of `pool`."""

    def __init__(self, pool):
        self.pool = pool

    async def submit(self, *job):
        import asyncio

        return await asyncio.get_running_loop().run_in_executor(self.pool, _submit, *job)

    def shutdown(self, wait: bool = True) -> None:
        from concurrent.futures import ThreadPoolExecutor

        if isinstance(self.pool, ThreadPoolExecutor):
            # Each submitting thread holds one connection: close them before the database is dropped.
            workers = self.pool._max_workers
            barrier = threading.Barrier(workers)

            def close_mine():
                from django.db import connection

                barrier.wait()  # one call per thread: each closes its own connection
                connection.close()

            for f in [self.pool.submit(close_mine) for _ in range(workers)]:
                f.result()
        self.pool.shutdown(wait=wait)


def run(rounds: int, spread: float = 2.0, workers: int = 4, processes: bool = False, per_quote: bool = False) -> dict:
    import asyncio

    _django()
    from django.conf import settings
    from django.db import connection

    real_name = connection.settings_dict["NAME"]
    test = connection.settings_dict.setdefault("TEST", {})
    test["NAME"] = (
        str(Path(real_name).with_name("bench_rfq.sqlite3"))
        if connection.vendor == "sqlite"
        else (f"bench_rfq_{real_name}")
    )
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    in_process = not processes or settings.CHANNEL_LAYERS["default"]["BACKEND"].endswith("InMemoryChannelLayer")
    try:
        rfq_ids, invitations, trader_id = _setup()
        if in_process and not processes and not per_quote:
            submitter, layout = _Intake(workers), f"rfq.intake, {workers} threads"
        else:
            submitter = _PerQuote(_pool(connection.settings_dict["NAME"], workers, in_process))
            layout = f"one quote_submit per quote, {workers} {'threads' if in_process else 'processes'}"
        try:
            figures = asyncio.run(_measure(rfq_ids, invitations, trader_id, rounds, spread, submitter))
        finally:
            submitter.shutdown(wait=True)
        figures["rfq_submitters"] = layout
        figures["rfq_load_average_1m"] = os.getloadavg()[0]  # timings on a shared machine: read with it
        return figures
    finally:
        connection.close()
        bench_name = connection.settings_dict["NAME"]
        _destroy(connection, real_name)
        if connection.vendor == "sqlite":
            for leftover in (Path(f"{bench_name}-wal"), Path(f"{bench_name}-shm")):
                leftover.unlink(missing_ok=True)


def _destroy(connection, real_name: str) -> None:
    """Drop the bench database; a connection of a finished submitter may take a moment to go."""
    from django.db import OperationalError

    bench_name = connection.settings_dict["NAME"]
    for attempt in range(10):
        try:
            connection.creation.destroy_test_db(real_name, verbosity=0)
            return
        except OperationalError:
            if attempt == 9:
                raise
            if attempt == 5 and connection.vendor == "postgresql":
                # A connection still open to the bench's own database (one a thread of this
                # process never returned): end it, the database is the bench's alone.
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = %s AND pid <> pg_backend_pid()",
                        [bench_name],
                    )
            time.sleep(0.5)


def _setup() -> tuple[list[int], dict[int, list[int]], int]:
    from decimal import Decimal as D

    from accounts.services import user_with_role_ensure
    from marketdata.services import instruments_seed
    from oms.services import order_submit, portfolio_seed
    from rfq import services
    from rfq.models import Invitation

    pm = user_with_role_ensure(username="bench-pm", role="PM", password="x")
    trader = user_with_role_ensure(username="bench-trader", role="Trader", password="x")
    row = dict(symbol="BENCH", name="Bench", asset_class="EQUITY", tick_size="0.01", lot_size="1")
    row |= dict(reference_price="100.00", multiplier="1", adv="50000000", daily_volatility="0.02", avg_spread_bps="1")
    instrument = instruments_seed(rows=[row])["BENCH"]
    portfolio = portfolio_seed(owner=pm, name="Bench", cash=D("1000000000"), holdings=[])
    profiles = ["tight_fast", "wide_slow", "skewed", "often_passes", "last_look"]
    cps = services.counterparties_seed(
        rows=[
            dict(name=f"LP{n:02d}", connection=profiles[n % 5], asset_classes=["EQUITY"], tier=1, max_notional="1e12")
            for n in range(PROVIDERS)
        ]
    )
    ids = [c.pk for c in cps.values()]
    rfq_ids, invitations = [], {}
    for _ in range(RFQS):
        order = order_submit(
            actor=pm, portfolio=portfolio, instrument=instrument, side="BUY", quantity=D("10000"), urgency="LOW"
        )
        rfq = services.rfq_open(actor=trader, order_id=order.pk, counterparty_ids=ids, window_seconds=300)
        services.rfq_disseminate(rfq_id=rfq.pk)
        rfq_ids.append(rfq.pk)
        invitations[rfq.pk] = list(Invitation.objects.filter(rfq=rfq).order_by("rank").values_list("pk", flat=True))
    return rfq_ids, invitations, trader.pk


def _pool(database_name: str, workers: int, in_process: bool):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    if in_process:
        return ThreadPoolExecutor(max_workers=workers)
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),  # nothing inherited: own connections, own sender
        initializer=_worker_init,
        initargs=(database_name,),
    )
    # Every worker started and set up before the clock runs.
    list(pool.map(_wait, [0.5] * workers))
    return pool


async def _measure(
    rfq_ids: list[int], invitations: dict[int, list[int]], trader_id: int, rounds: int, spread: float, submitter
) -> dict:
    import asyncio
    import random
    from decimal import Decimal as D

    import numpy as np
    from channels.db import database_sync_to_async
    from channels.testing import WebsocketCommunicator
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import connection

    from config.asgi import application

    # The trader who opened the RFQs, as the session middleware would put them in the scope:
    # the consumer authorises them and joins their user group like any desk socket.
    # (database_sync_to_async: its thread's connection is closed after the read.)
    user = await database_sync_to_async(User.objects.get)(pk=trader_id)
    sockets = {}
    for rfq_id in rfq_ids:
        ws = WebsocketCommunicator(application, f"/ws/rfqs/{rfq_id}/", headers=[(b"origin", b"http://127.0.0.1")])
        ws.scope["user"] = user
        connected, _ = await ws.connect(timeout=10)
        if not connected:
            raise RuntimeError("the websocket refused the bench client")
        await ws.receive_json_from(timeout=10)  # hello
        sockets[rfq_id] = ws

    async def collect(ws, count: int) -> list[tuple[float, list[int]]]:
        """The pushes until `count` quotes arrived in the ladder (a push may carry several)."""
        out, seen = [], 0
        while seen < count:
            m = await ws.receive_json_from(timeout=60)
            # A quote's push carries its row in the ladder's delta (a whole snapshot its ladder):
            # with it the client's ladder holds the quote (rfq.push).
            rows = m["delta"]["add"] if "delta" in m else m["rfq"].get("ladder", [])
            out.append((time.perf_counter(), [row["quote"] for row in rows]))
            seen += len(rows) if "delta" in m else 0
        return out

    try:
        rng = random.Random(5)
        arrived: dict[int, tuple[float, float, float]] = {}
        batches: list[int] = []
        received: list[tuple[float, list[int]]] = []
        cpu_started = time.process_time()
        for _ in range(rounds):
            # Every provider answers every RFQ once a round, at seeded times spread over the round.
            t0 = time.perf_counter() + 0.05
            jobs = [
                (i, invitations[i][p], str(D("100.00") + D(rng.randint(1, 40)) / 100), t0 + rng.uniform(0, spread))
                for i in rfq_ids
                for p in range(PROVIDERS)
            ]
            jobs.sort(key=lambda job: job[3])  # submitters take them in arrival order
            # Until every quote of the round was pushed: one push may carry several (a batch).
            listening = [asyncio.ensure_future(collect(sockets[i], PROVIDERS)) for i in rfq_ids]
            done = await asyncio.gather(*[submitter.submit(*job) for job in jobs])
            for pk, times, batch in done:
                arrived[pk] = times
                batches.append(batch)
            for pushes in await asyncio.gather(*listening):
                received += pushes
        cpu_ms_per_quote = (time.process_time() - cpu_started) * 1000 / len(arrived)
        first_seen: dict[int, float] = {}
        for at, ids in sorted(received):
            for qid in ids:
                first_seen.setdefault(qid, at)
        latencies = [(first_seen[qid] - due) * 1000 for qid, (due, _, _) in arrived.items()]
        # Where the time went: waiting for a free submitter (the machine or the submitters are
        # saturated), inside quote_submit (its transaction), and from its commit to the socket.
        waited = np.array([(started - due) * 1000 for due, started, _ in arrived.values()])
        service = np.array([(committed - started) * 1000 for _, started, committed in arrived.values()])
        pushed = np.array([(first_seen[qid] - committed) * 1000 for qid, (_, _, committed) in arrived.items()])
    finally:
        # Leave the groups even after a failure: a stale member would fill up in Redis.
        for ws in sockets.values():
            await ws.disconnect()
    samples = np.array(latencies)
    return {
        "rfq_quote_to_ladder_p50_ms": float(np.percentile(samples, 50)),
        "rfq_quote_to_ladder_p99_ms": float(np.percentile(samples, 99)),
        "rfq_quote_to_ladder_max_ms": float(samples.max()),
        "rfq_wait_for_submitter_p50_ms": float(np.percentile(waited, 50)),
        "rfq_wait_for_submitter_p99_ms": float(np.percentile(waited, 99)),
        "rfq_quote_submit_p50_ms": float(np.percentile(service, 50)),
        "rfq_quote_submit_p99_ms": float(np.percentile(service, 99)),
        "rfq_commit_to_socket_p50_ms": float(np.percentile(pushed, 50)),
        "rfq_commit_to_socket_p99_ms": float(np.percentile(pushed, 99)),
        "rfq_samples": len(latencies),
        "rfq_quotes_per_batch_mean": float(np.mean(batches)),
        "rfq_quotes_per_batch_max": int(max(batches)),
        "rfq_cpu_ms_per_quote": cpu_ms_per_quote,
        "rfq_providers": PROVIDERS,
        "rfq_concurrent_rfqs": RFQS,
        "rfq_channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1],
        "rfq_database": connection.vendor,
        "rfq_arrival_spread_s": spread,
        "rfq_quotes_per_sec": round(len(rfq_ids) * PROVIDERS / spread, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one quote per provider per RFQ instead of three")
    parser.add_argument("--spread", type=float, default=2.0, help="seconds over which a round's quotes arrive")
    parser.add_argument(
        "--workers",
        type=int,
        default=4,
        help="submitting threads, each holding one of the DB_POOL_MAX_SIZE connections (processes: --processes)",
    )
    parser.add_argument("--processes", action="store_true", help="submit from worker processes, as Celery does")
    parser.add_argument("--per-quote", action="store_true", help="a quote_submit per quote instead of rfq.intake")
    args = parser.parse_args()
    figures = run(
        1 if args.quick else 3,
        spread=args.spread,
        workers=args.workers,
        processes=args.processes,
        per_quote=args.per_quote,
    )
    p99 = figures["rfq_quote_to_ladder_p99_ms"]
    rows = [
        (
            f"quote -> ladder pushed p50 (ms, {figures['rfq_samples']} quotes)",
            figures["rfq_quote_to_ladder_p50_ms"],
            "",
        ),
        (
            f"quote -> ladder pushed p99 (ms, {figures['rfq_channel_layer']}, {figures['rfq_database']})",
            p99,
            "PASS" if p99 < GOAL_P99_MS else "FAIL",
        ),
        ("quote -> ladder pushed max (ms)", figures["rfq_quote_to_ladder_max_ms"], ""),
        *[
            (f"  {part} {q} (ms)", figures[f"rfq_{key}_{q}_ms"], "")
            for part, key in (
                ("waiting for a free submitter (intake: or its RFQ's batch)", "wait_for_submitter"),
                ("inside its transaction (quote_submit or quotes_submit)", "quote_submit"),
                ("from its commit to the websocket client", "commit_to_socket"),
            )
            for q in ("p50", "p99")
        ],
        ("quotes per transaction, mean", figures["rfq_quotes_per_batch_mean"], ""),
        ("quotes per transaction, max", figures["rfq_quotes_per_batch_max"], ""),
        (
            "CPU of this process per quote (ms: the websockets"
            + ("" if "processes" in figures["rfq_submitters"] else " and submitting")
            + ")",
            figures["rfq_cpu_ms_per_quote"],
            "",
        ),
        ("load average at the end (1 min, all agents on this machine)", figures["rfq_load_average_1m"], ""),
    ]
    print(f"RFQ: {PROVIDERS} providers x {RFQS} concurrent RFQs, quotes submitted by {figures['rfq_submitters']}")
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'value':>10}  {'goal':<8} result")
    for name, value, result in rows:
        goal = f"< {GOAL_P99_MS:.0f}" if result else ""
        print(f"{name:<{width}}  {value:>10.2f}  {goal:<8} {result}")
    print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
