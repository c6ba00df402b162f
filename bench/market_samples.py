"""The stored market history's cost: how long the publisher's sampler spends writing one
sample of every instrument (one bulk insert), the rows per second that allows, how long
TCA's window read takes on a table holding `--hours` of history, and the purge.

Run from the repository root:  .venv/bin/python bench/market_samples.py [--hours 1] [--instruments 16]
On PostgreSQL with DATABASE_URL set, else the embedded SQLite. Works in its own throwaway
database (bench_samples_<name>). Prints a table, then as its last line one JSON object.
The machine is shared: the milliseconds move with others' load."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

T0 = 1_800_000_000.0


def run(hours: float, instruments: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    real_name = connection.settings_dict["NAME"]
    test = connection.settings_dict.setdefault("TEST", {})
    test["NAME"] = (
        str(Path(real_name).with_name("bench_samples.sqlite3"))
        if connection.vendor == "sqlite"
        else f"bench_samples_{real_name}"
    )
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        return {"database": connection.vendor, **_measure(hours, instruments)}
    finally:
        connection.close()
        bench_name = connection.settings_dict["NAME"]
        connection.creation.destroy_test_db(real_name, verbosity=0)
        if connection.vendor == "sqlite":
            for leftover in (Path(f"{bench_name}-wal"), Path(f"{bench_name}-shm")):
                leftover.unlink(missing_ok=True)


def _measure(hours: float, count: int) -> dict:
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from marketdata.models import Instrument, MarketSample
    from marketdata.sampling import MarketSampler, market_samples_purge
    from marketdata.selectors import market_samples

    symbols = [f"EQ{n:02d}" for n in range(count)]
    for symbol in symbols:
        Instrument.objects.create(
            symbol=symbol,
            asset_class="EQUITY",
            tick_size=Decimal("0.01"),
            lot_size=Decimal(1),
            reference_price=Decimal(100),
            adv=Decimal(1_000_000),
            daily_volatility=Decimal("0.02"),
        )
    sampler = MarketSampler(dict.fromkeys(symbols, (2, 0)), interval=1.0)
    seconds = int(hours * 3600)
    flush_ms = []
    for k in range(seconds):
        sampler.observe(
            [
                SimpleNamespace(
                    symbol=s, mid=100.0 + n + k * 0.001, best_bid=99.995 + n, best_ask=100.005 + n, volume=10.0 * k
                )
                for n, s in enumerate(symbols)
            ]
        )
        started = time.perf_counter()
        sampler.flush(T0 + k)
        flush_ms.append((time.perf_counter() - started) * 1000)
    rows = MarketSample.objects.count()
    instrument_id = Instrument.objects.get(symbol=symbols[0]).pk
    read_ms = []
    middle = T0 + seconds / 2
    for _ in range(50):
        started = time.perf_counter()
        window = market_samples(
            instrument_id, datetime.fromtimestamp(middle - 300, UTC), datetime.fromtimestamp(middle + 300, UTC)
        )
        read_ms.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    purged = market_samples_purge(
        now=datetime.fromtimestamp(T0 + seconds, UTC) + timedelta(hours=0), retention_hours=hours / 2
    )
    purge_ms = (time.perf_counter() - started) * 1000
    flush_sorted = sorted(flush_ms)
    p50 = statistics.median(flush_ms)
    return {
        "instruments": count,
        "samples": seconds,
        "rows": rows,
        "flush_ms_p50": round(p50, 3),
        "flush_ms_p99": round(flush_sorted[int(0.99 * (len(flush_sorted) - 1))], 3),
        "rows_per_sec_at_p50": round(count / (p50 / 1000)),
        "loop_share_at_1s_pct": round(p50 / 1000 * 100, 3),
        "window_rows": len(window),
        "window_read_ms_p50": round(statistics.median(read_ms), 3),
        "purged_rows": purged,
        "purge_ms": round(purge_ms, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--instruments", type=int, default=16)
    args = parser.parse_args()
    figures = run(args.hours, args.instruments)
    print(f"market samples on {figures['database']}: {figures['instruments']} instruments, {figures['samples']} s")
    print(f"{'figure':<28}{'value':>14}")
    for key, value in figures.items():
        if key != "database":
            print(f"{key:<28}{value:>14}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
