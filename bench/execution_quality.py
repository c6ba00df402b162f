"""Best-execution benchmark: does the router's choice beat the simple ways on the simulator?

    python bench/execution_quality.py [--seed 13 | --seeds 13,14,15,16,17] [--quick] [--tick-seconds 10]

A fixed, seeded set of parent orders (0.1% to 30% of ADV, LOW/MEDIUM/HIGH urgency, a
liquid and an illiquid stock, buys and sells, arriving five minutes after the open and to
be done by the close) is worked in virtual time against the market simulator
(marketdata.sim, default SimParams, never tuned here) by the production algorithms
(ems.algos through ems.backtest), three ways:

    (a) market   the whole order as one market order on the main venue (XA)
    (b) twap     a plain TWAP on XA over the order's window, no dark pool
    (c) router   what the router chooses: sor.domain.select_strategy with the default
                 rules on the SelectionInputs sor.services would build, taken from the
                 simulator at arrival (ems.backtest.selection_inputs)

All three run on the same seed, so on the same market path (common random numbers: the
simulator's market stream never depends on our orders, which change the market only
through their impact). The cost is the implementation shortfall of the whole order in bps
of its arrival notional, fees and the unfilled part (opportunity cost) included, with the
market's own random walk taken out (ExecutionCost.adjusted_shortfall_bps: each fill priced
as if the walk had stayed where it was at arrival; same expectation, without a day's ~100
bps of noise per order), measured against the simulator's latent mid at arrival, which the
quoted arrival mid estimates to within half a tick (see `run_case`). The same figure
against the quoted mid ("vs mid") and the raw shortfall's mean ("raw") are printed beside
it, and the shares of the order filled, taken from lit books (taker) and filled in the
dark pool.

The Almgren-Chriss column is the expected cost of the AC-optimal schedule for the order's
urgency over its window, with the simulator's own parameters: permanent impact gamma =
mid * permanent_impact * impact_coef / ADV per share, temporary impact from the depth at
the touch of the lit books (eta = tau / (2 * depth per unit of price), tau = the books'
resilience half-life), epsilon = the arrival half-spread plus the lowest taker fee, sigma =
mid * daily_vol / sqrt(session). It bounds what trading by taking liquidity costs; resting
orders in this simulator neither move the mid nor pay the spread, so a patient passive
schedule can cost less than the bound.

Goals, on orders above 5% of ADV: (c) at most half of (a), at most 80% of (b), and at most
1.15 times the AC bound. Beside each verdict on the means, the same goal order by order
(router - limit * other) with a 95% interval over the orders: a verdict inside it is
"within noise" (passive schedules cost about a basis point here, so two of them differ
by less than a few dozen orders can tell). The same seed prints the same table; the last line is one JSON
object of the figures (elapsed_seconds is the only figure that moves between runs).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.vocabulary import Side, Strategy, Urgency, VenueKind
from ems.algos.schedule import URGENCY_FRONT_LOADING
from ems.backtest import (
    SIMULATED_STRATEGIES,
    BacktestOrder,
    one_venue_twap,
    routed,
    run_backtest,
    selection_inputs,
    single_market_order,
)
from marketdata.sim import InstrumentSpec, MarketSimulator, SimParams, VenueSpec
from sor.domain import ACParams, almgren_chriss_trajectory, select_strategy, trajectory_cost

INSTRUMENTS = (
    # liquid: 5M shares a day, 1.5% daily volatility, a one-tick (1 bps) spread
    InstrumentSpec("LIQ", "EQUITY", 50.0, 0.01, 1.0, 5_000_000, 0.015),
    # illiquid: 200k shares a day, 3.5% daily volatility, a one-tick (5 bps) spread, thin books
    InstrumentSpec("ILQ", "EQUITY", 20.0, 0.01, 1.0, 200_000, 0.035),
)
MAIN_VENUE = "XA"
VENUES = (
    VenueSpec(MAIN_VENUE, "LIT", -0.2, 0.3, 1.0),
    VenueSpec("XB", "LIT", -0.1, 0.25, 1.0, spread_mult=1.2, depth_mult=0.7),
    VenueSpec("DK", "DARK", 0.1, 0.1, 1.0),
)
PARAMS = SimParams()  # the simulator's defaults, fixed before any router change
SIZES = (0.001, 0.005, 0.02, 0.06, 0.12, 0.20, 0.30)  # share of ADV
QUICK_SIZES = (0.005, 0.06)
URGENCIES = (Urgency.LOW, Urgency.MEDIUM, Urgency.HIGH)
BUCKETS = (("<1%", 0.0, 0.01), ("1-5%", 0.01, 0.05), ("5-15%", 0.05, 0.15), (">=15%", 0.15, 1.0))
LARGE = 0.05  # the goals hold for orders above this share of ADV
WAYS = ("market", "twap", "router")
GOALS = {"router_vs_market": 0.5, "router_vs_twap": 0.8, "router_vs_ac": 1.15}
# Orders arrive five minutes after the open, not at it. At t = 0 the simulator's latent mid
# is exactly the reference price, a whole number of ticks, so its books quote bid = the
# latent and ask = one tick up: the arrival mid was always half a tick above the latent
# (1 bps on LIQ, 2.5 bps on ILQ). A market order, priced off those same quotes, was not
# affected, but every fill that trades around the latent later on (resting, dark) saw a
# buy's benchmark half a tick too high and a sell's half a tick too low: passive buys
# looked that much cheaper and sells dearer than they were (the "sells cost more" of the
# first runs). After 300 one-second steps the latent sits anywhere within its tick, so the
# arrival mid is an unbiased estimate of it, as in a real market.
ARRIVAL = 300.0


@dataclass(frozen=True)
class Case:
    index: int
    symbol: str
    side: Side
    participation: float
    urgency: Urgency
    start: float
    end: float
    seed: int

    def order(self, quantity: Decimal) -> BacktestOrder:
        return BacktestOrder(
            self.symbol,
            self.side,
            quantity,
            Strategy.TWAP,
            self.start,
            self.end,
            urgency=self.urgency,
            order_id=f"o{self.index}",
        )


def build_cases(seed: int, quick: bool) -> list[Case]:
    rng = random.Random(seed)
    sizes = QUICK_SIZES if quick else SIZES
    urgencies = (Urgency.MEDIUM,) if quick else URGENCIES
    symbols = ("LIQ",) if quick else tuple(i.symbol for i in INSTRUMENTS)
    # Orders arrive ARRIVAL seconds after the open; the quick set works a 20-minute window,
    # the full set the rest of the session, to the close.
    end = ARRIVAL + 1200.0 if quick else PARAMS.session_seconds
    cases = []
    for symbol in symbols:
        for urgency in urgencies:
            for participation in sizes:
                side = rng.choice((Side.BUY, Side.SELL))
                cases.append(
                    Case(len(cases), symbol, side, participation, urgency, ARRIVAL, end, rng.randrange(1, 2**31))
                )
    return cases


def spec_of(symbol: str) -> InstrumentSpec:
    return next(i for i in INSTRUMENTS if i.symbol == symbol)


def quantity_of(case: Case) -> Decimal:
    spec = spec_of(case.symbol)
    lots = max(1, round(spec.adv * case.participation / spec.lot_size))
    return Decimal(repr(lots * spec.lot_size))


def ac_bound_bps(case: Case, sim: MarketSimulator) -> float:
    """Expected cost of the Almgren-Chriss optimal schedule with the simulator's parameters."""
    spec = spec_of(case.symbol)
    snap = sim.snapshot(case.symbol)
    books = [snap.venues[v.name] for v in sim.lit_venues]
    bid, ask = max(b.best_bid for b in books), min(b.best_ask for b in books)
    mid = (bid + ask) / 2
    quantity = float(quantity_of(case))
    gap = max(1.0, round(spec.reference_price * PARAMS.level_gap_bps[spec.asset_class] / 1e4 / spec.tick_size))
    touch = sum(
        max(1.0, round(spec.adv * PARAMS.depth_per_level_adv[spec.asset_class] * v.depth_mult / spec.lot_size))
        * spec.lot_size
        for v in sim.lit_venues
    )
    depth_per_price = touch / (gap * spec.tick_size)
    tau = PARAMS.resilience_half_life_s
    horizon = case.end - case.start
    n = max(1, round(horizon / tau))
    tau = horizon / n
    sigma = mid * spec.daily_vol / math.sqrt(PARAMS.session_seconds)
    gamma = mid * PARAMS.permanent_impact * spec.impact_coef / spec.adv
    eta = tau / (2 * depth_per_price)
    fee = min(v.taker_fee_bps for v in sim.lit_venues if v.kind == VenueKind.LIT)
    epsilon = (ask - bid) / 2 + mid * fee / 1e4
    eta_tilde = eta - gamma * tau / 2
    kappa = URGENCY_FRONT_LOADING[case.urgency] / horizon
    lam = 2 * eta_tilde * (math.cosh(kappa * tau) - 1) / (tau * sigma) ** 2
    params = ACParams(X=quantity, T=horizon, N=n, sigma=sigma, eta=eta, gamma=gamma, epsilon=epsilon, lam=lam)
    expected, _ = trajectory_cost(params, almgren_chriss_trajectory(params))
    return expected / (mid * quantity * spec.multiplier) * 1e4


def run_case(case: Case, tick_seconds: float) -> dict:
    quantity = quantity_of(case)
    order = case.order(quantity)
    arrival = MarketSimulator(list(INSTRUMENTS), list(VENUES), case.seed, params=PARAMS)
    arrival.advance_to(case.start)
    inputs = selection_inputs(
        arrival, case.symbol, case.side, quantity, case.urgency, time_left_seconds=case.end - case.start
    )
    decision = select_strategy(inputs)
    ways = {
        "market": single_market_order(order, MAIN_VENUE),
        "twap": one_venue_twap(order, MAIN_VENUE, case.end - case.start),
        "router": routed(order, decision),
    }
    row = {
        "case": case.index,
        "symbol": case.symbol,
        "side": str(case.side),
        "participation": case.participation,
        "urgency": str(case.urgency),
        "router_strategy": str(decision.strategy),
        "router_rule": decision.rule,
        "ac_bps": ac_bound_bps(case, arrival),
    }
    for way, worked in ways.items():
        if Strategy(worked.strategy) not in SIMULATED_STRATEGIES:
            raise SystemExit(f"case {case.index}: the router chose {worked.strategy}, which is not simulated")
        result = run_backtest(
            worked,
            instruments=INSTRUMENTS,
            venues=VENUES,
            seed=case.seed,
            params=PARAMS,
            tick_seconds=tick_seconds,
        )
        cost = result.costs()
        # The quoted arrival mid is the latent mid rounded to the tick grid: within half a tick
        # of it (1 bps on LIQ, 2.5 on ILQ), a different error for every order, and the same
        # one for all three ways. Resting and dark fills trade around the latent, a market
        # order at arrival around the quotes, so against the quoted mid that error is noise
        # in the passive ways' cost that no way controls. Against the latent at arrival (the
        # value the quoted mid estimates: same expectation, see ARRIVAL) it is gone.
        value = result.ticks[0].fair_value
        sign = 1.0 if case.side == Side.BUY else -1.0
        rounding = sign * (cost.arrival_mid - value) / cost.arrival_mid * 1e4 * cost.filled / cost.quantity
        taken = sum(float(f.quantity) for f in result.fills if f.liquidity == "TAKER")
        dark = sum(float(f.quantity) for f in result.fills if f.liquidity == "DARK")
        row[way] = {
            "bps": cost.adjusted_shortfall_bps + rounding,
            "mid_bps": cost.adjusted_shortfall_bps,
            "raw_bps": cost.shortfall_bps,
            "fill": cost.filled / cost.quantity,
            # Shares of the order taken from lit books (spread, walk, permanent impact) and filled dark.
            "taker": taken / cost.quantity,
            "dark": dark / cost.quantity,
        }
    return row


def bucket_of(participation: float) -> str:
    return next(name for name, low, high in BUCKETS if low <= participation < high)


def stats(values: list[float]) -> tuple[float, float]:
    return float(np.mean(values)), float(np.percentile(values, 90))


def summarise(rows: list[dict]) -> dict:
    table = {}
    for name, low, high in BUCKETS:
        chosen = [r for r in rows if low <= r["participation"] < high]
        if chosen:
            table[name] = _figures(chosen)
    large = [r for r in rows if r["participation"] > LARGE]
    summary = {"buckets": table}
    if large:
        figures = _figures(large)
        summary["large"] = figures
        router = figures["router"]["mean_bps"]
        others = {"router_vs_market": figures["market"]["mean_bps"], "router_vs_twap": figures["twap"]["mean_bps"]}
        others["router_vs_ac"] = figures["ac"]["mean_bps"]
        # As ratios where the other cost is positive; the goal itself is router <= limit * other,
        # which also reads right when the other way earns (a negative cost).
        summary["ratios"] = {k: router / v if v > 0 else None for k, v in others.items()}
        summary["goals_met"] = {k: router <= GOALS[k] * v for k, v in others.items()}
        summary["margins"] = {k: _margin(large, k) for k in GOALS}
    return summary


GOAL_OTHER = {"router_vs_market": "market", "router_vs_twap": "twap", "router_vs_ac": "ac"}


def _margin(rows: list[dict], key: str) -> dict:
    """The goal per order: router - limit * other (<= 0 meets it; its mean <= 0 is the goal
    on means). With its standard error over the orders, so a verdict within the noise of a
    few dozen orders reads as such: met or missed only when 1.96 standard errors agree."""
    other = GOAL_OTHER[key]
    margins = [r["router"]["bps"] - GOALS[key] * (r["ac_bps"] if other == "ac" else r[other]["bps"]) for r in rows]
    mean = float(np.mean(margins))
    se = float(np.std(margins, ddof=1) / math.sqrt(len(margins))) if len(margins) > 1 else None
    if se is None:
        verdict = "n/a"
    elif mean + 1.96 * se <= 0:
        verdict = "met"
    elif mean - 1.96 * se > 0:
        verdict = "missed"
    else:
        verdict = "within noise"
    return {"mean_bps": mean, "se_bps": se, "verdict": verdict}


def _figures(rows: list[dict]) -> dict:
    figures = {"orders": len(rows)}
    for way in WAYS:
        mean, p90 = stats([r[way]["bps"] for r in rows])
        figures[way] = {
            "mean_bps": mean,
            "p90_bps": p90,
            "mid_mean_bps": float(np.mean([r[way]["mid_bps"] for r in rows])),
            "raw_mean_bps": float(np.mean([r[way]["raw_bps"] for r in rows])),
            "fill": float(np.mean([r[way]["fill"] for r in rows])),
            "taker": float(np.mean([r[way]["taker"] for r in rows])),
            "dark": float(np.mean([r[way]["dark"] for r in rows])),
        }
    mean, p90 = stats([r["ac_bps"] for r in rows])
    figures["ac"] = {"mean_bps": mean, "p90_bps": p90}
    return figures


def render(rows: list[dict], summary: dict) -> list[str]:
    lines = ["Orders and the router's choice:"]
    lines.append(
        f"{'#':>3} {'sym':<4} {'side':<4} {'%ADV':>6} {'urg':<6} {'router':<22} "
        f"{'market':>8} {'twap':>8} {'router':>8} {'AC':>8}"
    )
    for r in rows:
        choice = f"{r['router_strategy']} ({r['router_rule']})"[:22]
        lines.append(
            f"{r['case']:>3} {r['symbol']:<4} {r['side']:<4} {100 * r['participation']:>6.1f} {r['urgency']:<6} "
            f"{choice:<22} {r['market']['bps']:>8.2f} {r['twap']['bps']:>8.2f} {r['router']['bps']:>8.2f} "
            f"{r['ac_bps']:>8.2f}"
        )
    lines.append("")
    lines.append(
        "Implementation shortfall, bps of arrival notional, the market's own move taken out, against the value"
    )
    lines.append("at arrival (vs mid: against the quoted arrival mid; raw: the market's move left in):")
    header = (
        f"{'bucket':<7} {'n':>3} {'way':<7} {'mean':>8} {'p90':>8} {'vs mid':>8} {'raw mean':>9} {'filled':>7} "
        f"{'taken':>6} {'dark':>6}   {'AC mean':>8}"
    )
    lines.append(header)
    lines.append("-" * len(header))
    sections = [*summary["buckets"].items()]
    if "large" in summary:
        sections.append((f">{100 * LARGE:.0f}%", summary["large"]))
    for name, figures in sections:
        for k, way in enumerate(WAYS):
            f = figures[way]
            ac = f"{figures['ac']['mean_bps']:>8.2f}" if k == 0 else ""
            lines.append(
                f"{name if k == 0 else '':<7} {figures['orders'] if k == 0 else '':>3} {way:<7} {f['mean_bps']:>8.2f} "
                f"{f['p90_bps']:>8.2f} {f['mid_mean_bps']:>8.2f} {f['raw_mean_bps']:>9.2f} {100 * f['fill']:>6.1f}% "
                f"{100 * f['taker']:>5.1f}% {100 * f['dark']:>5.1f}%   {ac:>8}"
            )
    if "ratios" in summary:
        lines.append("")
        lines.append(f"Goals on orders above {100 * LARGE:.0f}% of ADV (router mean / other mean):")
        for key, limit in GOALS.items():
            ratio = summary["ratios"][key]
            shown = "    n/a" if ratio is None else f"{ratio:>7.3f}"
            verdict = "met" if summary["goals_met"][key] else "MISSED"
            lines.append(f"  {key:<17} {shown}  (goal <= {limit:.2f})  {verdict}")
        lines.append("")
        lines.append("The same goals order by order: router - limit * other, bps (mean, 95% interval):")
        for key in GOALS:
            m = summary["margins"][key]
            spread = "" if m["se_bps"] is None else f"+/- {1.96 * m['se_bps']:.2f}"
            lines.append(f"  {key:<17} {m['mean_bps']:>8.2f} {spread:<10}  {m['verdict']}")
    return lines


def run(seeds: int | list[int], quick: bool, tick_seconds: float) -> tuple[list[str], dict]:
    """One seed's set of orders, or several seeds' sets pooled into one table (the goals'
    order-by-order intervals then cover all their orders)."""
    pooled = isinstance(seeds, list)
    cases = []
    for seed in seeds if pooled else [seeds]:
        cases += [replace(case, index=len(cases) + k) for k, case in enumerate(build_cases(seed, quick))]
    rows = [run_case(case, tick_seconds) for case in cases]
    summary = summarise(rows)
    figures = {
        "bench": "execution_quality",
        **({"seeds": seeds} if pooled else {"seed": seeds}),
        "quick": quick,
        "tick_seconds": tick_seconds,
        "orders": len(rows),
        **summary,
    }
    return render(rows, summary), figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--seeds", help="several seeds' orders pooled into one table, e.g. 13,14,15,16,17 (instead of --seed)"
    )
    parser.add_argument("--quick", action="store_true", help="a small set on a short window, for tests")
    parser.add_argument("--tick-seconds", type=float, default=10.0, help="algorithm tick in virtual seconds")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else args.seed
    started = time.perf_counter()
    lines, figures = run(seeds, args.quick, args.tick_seconds)
    print("\n".join(lines))
    figures["elapsed_seconds"] = round(time.perf_counter() - started, 2)
    print(json.dumps(figures, sort_keys=True, default=_rounded))


def _rounded(value):
    return str(value)


if __name__ == "__main__":
    main()
