"""Market-data benchmarks: simulator throughput and snapshot-to-websocket latency.

Run from the repository root:  .venv/bin/python bench/marketdata.py [--quick]
Prints a table, then as its last line one JSON object with the figures.

A "book event" is a change of one price level on one venue's book, or one trade (the
definition in marketdata.sim.simulator). Goal: sim_book_events_per_sec >= 200,000.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.vocabulary import EQUITY_SESSION_SECONDS
from marketdata.feeds import SimulatorFeed
from marketdata.sim import InstrumentSpec, MarketSimulator, VenueSpec, VirtualClock

SESSION_SECONDS = EQUITY_SESSION_SECONDS
EVENTS_GOAL = 200_000


def demo_universe() -> tuple[list[InstrumentSpec], list[VenueSpec]]:
    """Roughly the demo's size: 10 equities, 2 coins, 4 options; 3 lit venues and a dark pool."""
    instruments = [
        InstrumentSpec(f"EQ{n:02d}", "EQUITY", 20.0 + 15.0 * n, 0.01, 1.0, 500_000 + 400_000 * n, 0.015 + 0.002 * n)
        for n in range(10)
    ]
    instruments += [
        InstrumentSpec("BTC-USD", "CRYPTO", 60_000.0, 0.01, 0.0001, 20_000, 0.03),
        InstrumentSpec("ETH-USD", "CRYPTO", 3_000.0, 0.01, 0.001, 300_000, 0.04),
    ]
    instruments += [
        InstrumentSpec(
            f"EQ00 {k:.0f}{right}",
            "OPTION",
            1.0,
            0.01,
            1.0,
            4_000,
            0.3,
            underlying="EQ00",
            strike=k,
            expiry_years=0.2,
            right=right,
            multiplier=100.0,
        )
        for k in (18.0, 22.0)
        for right in ("C", "P")
    ]
    venues = [
        VenueSpec("XNAS", "LIT", -0.20, 0.30, 1.0),
        VenueSpec("ARCX", "LIT", -0.15, 0.28, 1.5, spread_mult=1.2, depth_mult=0.8),
        VenueSpec("BATS", "LIT", -0.10, 0.25, 2.0, spread_mult=1.5, depth_mult=0.6),
        VenueSpec("DARK", "DARK", 0.0, 0.10, 3.0, min_quantity=100.0),
    ]
    return instruments, venues


def timed_advance(simulator: MarketSimulator, seconds: float) -> tuple[int, float]:
    start = time.perf_counter()
    events = simulator.advance_to(simulator.time + seconds)
    return events, time.perf_counter() - start


def simulator_throughput(session_fraction: float) -> dict[str, float]:
    seconds = SESSION_SECONDS * session_fraction
    instruments, venues = demo_universe()
    demo = MarketSimulator(instruments, venues, seed=1)
    events, elapsed = timed_advance(demo, seconds)
    steps = seconds / demo.params.step_seconds

    single = MarketSimulator(instruments[:1], venues[:1], seed=1)
    single_events, single_elapsed = timed_advance(single, seconds)

    symbols = demo.symbols
    snapshots = 0
    start = time.perf_counter()
    while time.perf_counter() - start < 1.0:
        for symbol in symbols:
            demo.snapshot(symbol)
        snapshots += len(symbols)
    snapshot_rate = snapshots / (time.perf_counter() - start)

    # Market orders of ~5 levels on a fresh book each time, interleaved with a step for refill.
    orders = 0
    start = time.perf_counter()
    while time.perf_counter() - start < 1.0:
        demo.execute_market("EQ05", "XNAS", "BUY" if orders % 2 == 0 else "SELL", 8_000)
        demo.step(1.0)
        orders += 1
    order_rate = orders / (time.perf_counter() - start)

    clock = VirtualClock(demo.time)
    feed = SimulatorFeed(demo, clock)
    polls = 0
    start = time.perf_counter()
    while time.perf_counter() - start < 1.0:
        clock.advance(1.0)
        feed.poll()
        polls += 1
    poll_rate = polls / (time.perf_counter() - start)

    return {
        "sim_book_events_per_sec": events / elapsed,
        "sim_book_events_per_sec_single_book": single_events / single_elapsed,
        "sim_steps_per_sec": steps / elapsed,
        "sim_virtual_seconds_per_sec": seconds / elapsed,
        "sim_events_per_step": events / steps,
        "sim_snapshots_per_sec": snapshot_rate,
        "sim_market_orders_per_sec": order_rate,
        "sim_feed_polls_per_sec": poll_rate,
        "sim_instruments": len(instruments),
        "sim_lit_venues": len(demo.lit_venues),
        "sim_levels_per_side": demo.params.levels + demo.params.reserve_levels,
        "sim_virtual_seconds": seconds,
    }


# --------------------------------------------------------------------------------------
# Snapshot-to-websocket latency: the real publisher, channel layer and consumer
# --------------------------------------------------------------------------------------
WS_SYMBOL = "EQ05"


def websocket_latency(clients: int = 10, rounds: int = 200) -> dict[str, float] | None:
    """From the start of `Publisher.publish_once` (simulator poll, books to JSON, cache write,
    group send) to each of `clients` websocket clients receiving the book, through the
    configured channel layer (channels_redis when REDIS_URL is set, else in-memory) and the
    real ASGI application (origin check, auth middleware, MarketDataConsumer).

    The consumer serves only instruments it finds in the database, so the bench runs on a
    throwaway database of its own holding the bench universe: your rows stay untouched."""
    import asyncio
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    real_name = connection.settings_dict["NAME"]
    test = connection.settings_dict.setdefault("TEST", {})
    if connection.vendor == "sqlite":
        test["NAME"] = str(Path(real_name).with_name("bench.sqlite3"))
    else:
        test["NAME"] = f"bench_{real_name}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        _bench_instruments()
        return asyncio.run(_websocket_latency(clients, rounds))
    finally:
        connection.close()
        bench_name = connection.settings_dict["NAME"]
        connection.creation.destroy_test_db(real_name, verbosity=0)
        if connection.vendor == "sqlite":
            for leftover in (Path(f"{bench_name}-wal"), Path(f"{bench_name}-shm")):
                leftover.unlink(missing_ok=True)


def _bench_instruments() -> None:
    from decimal import Decimal

    from marketdata.models import Instrument

    def exact(value: float) -> Decimal:
        return Decimal(repr(value))

    for spec in demo_universe()[0]:
        Instrument.objects.create(
            symbol=spec.symbol,
            asset_class=spec.asset_class,
            tick_size=exact(spec.tick_size),
            lot_size=exact(spec.lot_size),
            reference_price=exact(spec.reference_price),
            adv=exact(spec.adv),
            daily_volatility=exact(spec.daily_vol),
        )


async def _websocket_latency(clients: int, rounds: int) -> dict[str, float]:
    import asyncio
    import re
    from decimal import Decimal

    import numpy as np
    from channels.testing import WebsocketCommunicator
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.cache import cache

    from config.asgi import application
    from core.decimals import decimal_places
    from marketdata.publisher import Publisher
    from marketdata.selectors import snapshot_key

    instruments, venues = demo_universe()
    clock = VirtualClock()
    feed = SimulatorFeed(MarketSimulator(instruments, venues, seed=1), clock)

    # Only symbols a websocket can subscribe to (the route's character set): the bench's
    # option names have spaces, which channel-layer group names refuse.
    routable = [i for i in instruments if re.fullmatch(r"[A-Za-z0-9._-]+", i.symbol)]
    places = lambda step: decimal_places(Decimal(repr(step)))  # noqa: E731
    publisher = Publisher(feed, {i.symbol: (places(i.tick_size), places(i.lot_size)) for i in routable})
    # An unsaved superuser: authorised without a database, so the bench touches no rows.
    user = User(username="bench", is_superuser=True)
    sockets = []
    for _ in range(clients):
        ws = WebsocketCommunicator(
            application, f"/ws/marketdata/{WS_SYMBOL}/", headers=[(b"origin", b"http://127.0.0.1")]
        )
        ws.scope["user"] = user
        connected, _ = await ws.connect(timeout=10)
        if not connected:
            raise RuntimeError("the websocket refused the bench client")
        sockets.append(ws)

    async def arrival(ws) -> float:
        await ws.receive_output(timeout=10)
        return time.perf_counter()

    latencies, publish_ms = [], []
    try:
        for _ in range(rounds):
            clock.advance(1.0)
            before = publisher.seq.get(WS_SYMBOL)
            waiting = [asyncio.ensure_future(arrival(ws)) for ws in sockets]
            await asyncio.sleep(0)  # every client is listening before the publication starts
            start = time.perf_counter()
            await publisher.publish_once()
            publish_ms.append((time.perf_counter() - start) * 1000)
            if publisher.seq.get(WS_SYMBOL) == before:  # the book did not change: nothing is pushed
                for task in waiting:
                    task.cancel()
                await asyncio.gather(*waiting, return_exceptions=True)
                continue
            latencies += [(arrived - start) * 1000 for arrived in await asyncio.gather(*waiting)]
    finally:
        for ws in sockets:
            await ws.disconnect()
        await cache.adelete_many([snapshot_key(i.symbol) for i in routable])

    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    samples = np.array(latencies)
    return {
        "ws_latency_p50_ms": float(np.percentile(samples, 50)),
        "ws_latency_p99_ms": float(np.percentile(samples, 99)),
        "ws_latency_max_ms": float(samples.max()),
        # Of which building every book, caching and sending it (the rest is delivery).
        "ws_publish_once_p50_ms": float(np.percentile(publish_ms, 50)),
        "ws_latency_samples": len(latencies),
        "ws_clients": clients,
        "ws_books_per_publish": len(routable),
        "ws_channel_layer": backend,
    }


IMPORT_CHILD = """
import resource, sys, time
sys.path.insert(0, sys.argv[2])
from marketdata.recorded.aggregate import SessionBuilder
from marketdata.recorded.formats import generic_trades
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
builder = SessionBuilder(calendar_of=lambda s: "XNYS", known={"EQ00", "EQ01"})
started = time.perf_counter()
builder.feed(generic_trades(sys.argv[1]))
seconds = time.perf_counter() - started
result = builder.finish()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(result.trades, len(result.sessions), seconds, baseline, peak)
"""


def import_throughput(rows: int) -> dict[str, float]:
    """Streamed import of a generated generic trades CSV (ISO timestamps, 2 symbols, 5
    sessions): the reader, validation and session statistics on the XNYS calendar, in a
    fresh process so its peak resident memory is the import's own. Storage is not timed:
    it writes one row per session."""
    import subprocess
    import tempfile
    from datetime import UTC, datetime, timedelta

    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "trades.csv"
        opens = [datetime(2024, 3, 4 + d, 14, 30, tzinfo=UTC) for d in range(5)]
        step = 23_400 * len(opens) / rows
        with open(path, "w") as handle:
            handle.write("ts,symbol,venue,price,size\n")
            for n in range(rows):
                at = n * step
                day, offset = divmod(at, 23_400)
                ts = (opens[int(day)] + timedelta(seconds=offset)).isoformat()
                handle.write(f"{ts},EQ0{n % 2},XNAS,{100 + (n % 500) / 100:.2f},{1 + n % 7}\n")
        size = path.stat().st_size
        out = subprocess.run(
            [sys.executable, "-c", IMPORT_CHILD, str(path), str(root)], capture_output=True, text=True, check=True
        ).stdout.split()
    trades, sessions, seconds, baseline_kb, peak_kb = int(out[0]), int(out[1]), float(out[2]), int(out[3]), int(out[4])
    return {
        "import_rows": trades,
        "import_sessions": sessions,
        "import_file_mb": size / 1e6,
        "import_rows_per_sec": trades / seconds,
        "import_peak_rss_mb": peak_kb / 1024,
        "import_peak_rss_above_start_mb": (peak_kb - baseline_kb) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of a session instead of a full one")
    args = parser.parse_args()

    figures: dict[str, float | None] = simulator_throughput(0.1 if args.quick else 1.0)
    websocket = websocket_latency(rounds=50 if args.quick else 200)
    figures.update(websocket or {})
    figures.update(import_throughput(100_000 if args.quick else 1_000_000))

    rows = [
        (
            "book events / s (demo universe)",
            f"{figures['sim_book_events_per_sec']:,.0f}",
            "PASS" if figures["sim_book_events_per_sec"] >= EVENTS_GOAL else "FAIL",
            f">= {EVENTS_GOAL:,}",
        ),
        ("book events / s (1 instrument, 1 venue)", f"{figures['sim_book_events_per_sec_single_book']:,.0f}", "", ""),
        ("steps / s", f"{figures['sim_steps_per_sec']:,.0f}", "", ""),
        ("virtual seconds / wall second", f"{figures['sim_virtual_seconds_per_sec']:,.0f}", "", ""),
        ("book events / step", f"{figures['sim_events_per_step']:,.1f}", "", ""),
        ("snapshots / s", f"{figures['sim_snapshots_per_sec']:,.0f}", "", ""),
        ("market orders (+1 step) / s", f"{figures['sim_market_orders_per_sec']:,.0f}", "", ""),
        ("feed polls (1 s each) / s", f"{figures['sim_feed_polls_per_sec']:,.0f}", "", ""),
        (
            f"import rows / s ({figures['import_rows']:,} rows, {figures['import_file_mb']:.0f} MB)",
            f"{figures['import_rows_per_sec']:,.0f}",
            "",
            "",
        ),
        ("import peak memory (MB, whole process)", f"{figures['import_peak_rss_mb']:,.1f}", "", ""),
        ("  above the process at start (MB)", f"{figures['import_peak_rss_above_start_mb']:,.1f}", "", ""),
    ]
    if websocket is None:
        rows.append(("websocket latency", "not measured", "", ""))
    else:
        rows += [
            (
                f"websocket latency p50 (ms, {websocket['ws_clients']} clients)",
                f"{websocket['ws_latency_p50_ms']:,.2f}",
                "",
                "",
            ),
            (
                f"websocket latency p99 (ms, {websocket['ws_channel_layer']})",
                f"{websocket['ws_latency_p99_ms']:,.2f}",
                "",
                "",
            ),
            (
                f"  of which publish_once p50 ({websocket['ws_books_per_publish']} books, ms)",
                f"{websocket['ws_publish_once_p50_ms']:,.2f}",
                "",
                "",
            ),
        ]
    print(
        f"Simulator: {figures['sim_instruments']} instruments x {figures['sim_lit_venues']} lit venues x "
        f"{figures['sim_levels_per_side']} levels a side, {figures['sim_virtual_seconds']:,.0f} virtual seconds"
    )
    width = max(len(row[0]) for row in rows)
    print(f"{'figure':<{width}}  {'value':>14}  {'goal':<12} result")
    for name, value, result, goal in rows:
        print(f"{name:<{width}}  {value:>14}  {goal:<12} {result}")
    print(json.dumps({key: (round(value, 3) if isinstance(value, float) else value) for key, value in figures.items()}))


if __name__ == "__main__":
    main()
