"""Market-data benchmarks: simulator throughput (and, later, websocket latency).

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

from marketdata.feeds import SimulatorFeed  # noqa: E402
from marketdata.sim import InstrumentSpec, MarketSimulator, VenueSpec, VirtualClock  # noqa: E402

SESSION_SECONDS = 23_400.0
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
        InstrumentSpec(f"EQ00 {k:.0f}{right}", "OPTION", 1.0, 0.01, 1.0, 4_000, 0.3, underlying="EQ00",
                       strike=k, expiry_years=0.2, right=right, multiplier=100.0)
        for k in (18.0, 22.0) for right in ("C", "P")
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
# WEBSOCKET LATENCY: owned by another engineer, to be filled later. Return None while not
# measured, or a dict of figures (e.g. {"ws_p50_ms": ..., "ws_p99_ms": ...}) to merge in.
# --------------------------------------------------------------------------------------
def websocket_latency() -> dict[str, float] | None:
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of a session instead of a full one")
    args = parser.parse_args()

    figures: dict[str, float | None] = simulator_throughput(0.1 if args.quick else 1.0)
    websocket = websocket_latency()
    figures.update(websocket or {})

    rows = [
        ("book events / s (demo universe)", f"{figures['sim_book_events_per_sec']:,.0f}",
         "PASS" if figures["sim_book_events_per_sec"] >= EVENTS_GOAL else "FAIL", f">= {EVENTS_GOAL:,}"),
        ("book events / s (1 instrument, 1 venue)", f"{figures['sim_book_events_per_sec_single_book']:,.0f}", "", ""),
        ("steps / s", f"{figures['sim_steps_per_sec']:,.0f}", "", ""),
        ("virtual seconds / wall second", f"{figures['sim_virtual_seconds_per_sec']:,.0f}", "", ""),
        ("book events / step", f"{figures['sim_events_per_step']:,.1f}", "", ""),
        ("snapshots / s", f"{figures['sim_snapshots_per_sec']:,.0f}", "", ""),
        ("market orders (+1 step) / s", f"{figures['sim_market_orders_per_sec']:,.0f}", "", ""),
        ("feed polls (1 s each) / s", f"{figures['sim_feed_polls_per_sec']:,.0f}", "", ""),
        ("websocket latency", "not measured" if websocket is None else json.dumps(websocket), "", ""),
    ]
    print(f"Simulator: {figures['sim_instruments']} instruments x {figures['sim_lit_venues']} lit venues x "
          f"{figures['sim_levels_per_side']} levels a side, {figures['sim_virtual_seconds']:,.0f} virtual seconds")
    width = max(len(row[0]) for row in rows)
    print(f"{'figure':<{width}}  {'value':>14}  {'goal':<12} result")
    for name, value, result, goal in rows:
        print(f"{name:<{width}}  {value:>14}  {goal:<12} {result}")
    print(json.dumps({key: (round(value, 3) if isinstance(value, float) else value) for key, value in figures.items()}))


if __name__ == "__main__":
    main()
