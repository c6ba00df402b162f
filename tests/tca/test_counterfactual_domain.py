"""tca.domain.counterfactual on a fixed recorded arrival, no database: the same record gives
the same rows, the replay starts at the recorded mid and session time, and a large order
costs more as one market order than as a TWAP."""

import dataclasses
import json
from decimal import Decimal as D

import pytest

from core.vocabulary import Side, Strategy, Urgency
from marketdata.sim import InstrumentSpec, SimParams, VenueSpec
from tca.domain.counterfactual import WAYS, CounterfactualOrder, compute, market_state

ACME = InstrumentSpec("ACME", "EQUITY", 100.0, 0.01, 1.0, 2_000_000, 0.02)
VENUES = (
    VenueSpec("XA", "LIT", -0.2, 0.3, 1.0),
    VenueSpec("XB", "LIT", -0.1, 0.25, 1.0, spread_mult=1.2, depth_mult=0.7),
    VenueSpec("DK", "DARK", 0.1, 0.1, 1.0),
)
PARAMS = SimParams(session_seconds=23_400.0)


def record(sim_time=23_400.0 + 1_800.0, arrival_mid="101.37", second=None):
    """As ems.arrival stores it (through JSON): the second session, 30 minutes in."""
    return json.loads(
        json.dumps(
            {
                "seed": 7,
                "sim_time": sim_time,
                "arrival_mid": arrival_mid,
                "feed": "simulator",
                "state": {
                    "params": dataclasses.asdict(PARAMS),
                    "instruments": [dataclasses.asdict(ACME)],
                    "venues": [dataclasses.asdict(v) for v in VENUES],
                    "dark_fill_rates": {"DK": 0.3},
                    "book": None,
                    "second_choice": second,
                },
            }
        )
    )


def order(quantity="200000", window=1_800.0, strategy=Strategy.VWAP, side=Side.BUY):
    return CounterfactualOrder(7, "ACME", side, D(quantity), window, strategy, {}, None, Urgency.LOW)


SECOND = {"strategy": "POV", "rule": "catch-all", "parameters": {"participation_rate": 0.1}}


@pytest.fixture(scope="module")
def large():
    # 10% of ADV in 30 minutes: four times what the main venue's book shows.
    return compute(record(second=SECOND), order())


def test_the_rows_and_where_they_started(large):
    assert [r["way"] for r in large["rows"]] == list(WAYS)
    assert [r["strategy"] for r in large["rows"]] == ["VWAP", "DIRECT", "TWAP", "POV"]
    assert large["rows"][-1]["rule"] == "catch-all"
    market = large["market"]
    assert (market["seed"], market["session_time"], market["anchored"]) == (7, 1_800.0, True)
    assert (market["window_seconds"], market["window_capped"]) == (1_800.0, False)
    assert json.loads(json.dumps(large)) == large  # stored as JSON as it is


def test_the_same_record_gives_the_same_rows(large):
    assert compute(record(second=SECOND), order()) == large


def test_the_replay_starts_at_the_recorded_mid_and_session_time():
    state, _ = market_state(record(), "ACME")
    sim = state.simulator()
    assert state.arrival == 1_800.0 and sim.time == 1_800.0
    assert sim.fair_value("ACME") == pytest.approx(101.37, rel=1e-12)
    # Without a published book the simulator's clock is unknown: the session's open.
    opened, source = market_state(record(sim_time=None), "ACME")
    assert opened.arrival == 0.0 and source["sim_time"] is None


def test_a_large_market_order_costs_more_than_a_twap(large):
    rows = {r["way"]: r for r in large["rows"]}
    single, twap = rows["single_market_order"], rows["one_venue_twap"]
    assert D(single["filled"]) < D(twap["filled"]) == D(200_000)
    assert single["adjusted_shortfall_bps"] > twap["adjusted_shortfall_bps"]
    assert single["shortfall_bps"] > twap["shortfall_bps"] and D(single["cost"]) > D(twap["cost"])


def test_no_second_choice_and_a_window_longer_than_a_session():
    rows = compute(record(), order("2000", window=3 * 23_400.0, strategy=Strategy.DIRECT))
    second = rows["rows"][-1]
    assert (second["strategy"], second["cost"]) == (None, None)
    assert second["note"] == "the router had no second choice for this order"
    assert (rows["market"]["window_seconds"], rows["market"]["window_capped"]) == (23_400.0, True)
