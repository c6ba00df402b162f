"""Benchmark of one SOR decision: strategy selection + venue allocation of a child order
over 6 lit venues x 10 levels (plus 2 dark pools, used when the strategy is DARK).

    python bench/sor.py [--decisions 20000] [--seed 7]

Inputs are prebuilt (converting rows to plain data is the Django side's job); each timed
decision is select_strategy(...) followed by allocate(...). Prints a table, then as its
last line one JSON object with the figures. Goal: p99 < 1 ms, > 10,000 decisions/s.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sor.domain import SelectionInputs, VenueQuote, allocate, select_strategy

LIT_VENUES = 6
LEVELS = 10
DARK_POOLS = 2
POOL_SIZE = 512  # distinct (inputs, child quantity) cases cycled through


def build_book(rng: random.Random, side: str, mid: Decimal) -> list[VenueQuote]:
    tick = Decimal("0.01")
    away = 1 if side == "BUY" else -1
    venues = []
    for index in range(LIT_VENUES):
        price = mid + away * tick * rng.randint(1, 3)
        levels = []
        for _ in range(LEVELS):
            levels.append((price, Decimal(100 * rng.randint(1, 20))))
            price += away * tick * rng.randint(1, 2)
        venues.append(
            VenueQuote(
                name=f"LIT{index}",
                kind="LIT",
                taker_fee_bps=rng.choice([-0.2, 0.1, 0.3, 0.5]),
                min_quantity=Decimal(100 * rng.choice([1, 1, 5])),
                enabled=True,
                fresh=True,
                levels=levels,
            )
        )
    for index in range(DARK_POOLS):
        venues.append(
            VenueQuote(
                name=f"DARK{index}",
                kind="DARK",
                taker_fee_bps=0.1,
                min_quantity=Decimal(100),
                enabled=True,
                fresh=True,
                levels=[],
                mid=mid,
                dark_fill_rate=rng.choice([0.1, 0.3, 0.5]),
            )
        )
    return venues


def build_cases(seed: int) -> list[tuple[SelectionInputs, Decimal, Decimal | None, list[VenueQuote]]]:
    rng = random.Random(seed)
    cases = []
    for _ in range(POOL_SIZE):
        side = rng.choice(["BUY", "SELL"])
        mid = Decimal(rng.randint(2_000, 30_000)) / 100
        venues = build_book(rng, side, mid)
        depth = sum(size for venue in venues for _, size in venue.levels)
        adv = Decimal(rng.choice([2_000_000, 10_000_000, 40_000_000]))
        # from 0.005% to 30% of ADV, log-uniform, in round lots
        quantity = Decimal(max(100, round(float(adv) * 10 ** rng.uniform(-4.3, -0.5), -2)))
        limit = None if rng.random() < 0.5 else mid + (1 if side == "BUY" else -1) * mid * Decimal("0.002")
        inputs = SelectionInputs(
            side=side,
            quantity=quantity,
            price=mid,
            adv=adv,
            daily_vol=rng.uniform(0.006, 0.05),
            spread_bps=rng.uniform(1, 12),
            displayed_depth=depth,
            urgency=rng.choice(["LOW", "MEDIUM", "HIGH"]),
            asset_class="EQUITY",
            time_left_seconds=rng.uniform(600, 23_400),
            limit_price=limit,
            lot_size=Decimal(100),
            venue_count_dark=rng.choice([0, 2]),
        )
        # A child that walks a good part of the consolidated book.
        child = min(quantity, Decimal(round(float(depth) * rng.uniform(0.1, 0.9), -2)))
        cases.append((inputs, child, limit, venues))
    return cases


def decide(inputs: SelectionInputs, child: Decimal, limit: Decimal | None, venues: list[VenueQuote]) -> int:
    decision = select_strategy(inputs)
    dark_fraction = decision.parameters["dark_fraction"] or 0.0
    return len(allocate(inputs.side, child, limit, inputs.lot_size, venues, dark_fraction=dark_fraction))


def percentile(sorted_values: list[int], fraction: float) -> int:
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--warmup", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    cases = build_cases(args.seed)
    for i in range(args.warmup):
        decide(*cases[i % POOL_SIZE])

    strategies: dict[str, int] = {}
    for inputs, _, _, _ in cases:
        name = select_strategy(inputs).strategy.value
        strategies[name] = strategies.get(name, 0) + 1

    latencies = []
    clock = time.perf_counter_ns
    started = clock()
    for i in range(args.decisions):
        case = cases[i % POOL_SIZE]
        before = clock()
        decide(*case)
        latencies.append(clock() - before)
    elapsed = clock() - started

    latencies.sort()
    figures = {
        "decisions": args.decisions,
        "decisions_per_second": round(args.decisions / (elapsed / 1e9)),
        "p50_us": round(percentile(latencies, 0.50) / 1e3, 1),
        "p90_us": round(percentile(latencies, 0.90) / 1e3, 1),
        "p99_us": round(percentile(latencies, 0.99) / 1e3, 1),
        "p999_us": round(percentile(latencies, 0.999) / 1e3, 1),
        "max_us": round(latencies[-1] / 1e3, 1),
        "mean_us": round(sum(latencies) / len(latencies) / 1e3, 1),
        "venues": f"{LIT_VENUES} lit x {LEVELS} levels + {DARK_POOLS} dark",
        "strategy_mix": dict(sorted(strategies.items())),
        "python": platform.python_version(),
        "goal_met": percentile(latencies, 0.99) < 1_000_000 and args.decisions / (elapsed / 1e9) > 10_000,
    }

    print(f"SOR decision benchmark: select_strategy + allocate, {figures['venues']}, one core")
    print(f"{'metric':<22}{'value':>14}")
    print("-" * 36)
    print(f"{'decisions':<22}{figures['decisions']:>14,}")
    print(f"{'decisions / s':<22}{figures['decisions_per_second']:>14,}")
    for key, label in (
        ("mean_us", "mean"),
        ("p50_us", "p50"),
        ("p90_us", "p90"),
        ("p99_us", "p99"),
        ("p999_us", "p99.9"),
        ("max_us", "max"),
    ):
        print(f"{label + ' latency (us)':<22}{figures[key]:>14,.1f}")
    print(f"{'goal (p99<1ms, >10k/s)':<22}{'met' if figures['goal_met'] else 'NOT met':>14}")
    print("strategy mix over the case pool: " + ", ".join(f"{k} {v}" for k, v in figures["strategy_mix"].items()))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
