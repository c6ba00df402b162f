"""run_tick: the re-evaluation's verdict, the strategy in force and the actions."""

from decimal import Decimal as D

from core.vocabulary import Strategy
from ems.algos import NewChild, Remember, run_tick
from ems.algos.base import ChildType
from tests.ems.algo_fixtures import lit, market, state


def test_first_tick_keeps_the_strategy_and_remembers_the_market_at_start():
    result = run_tick(state(), market(), 0.0)
    assert result.strategy is Strategy.DIRECT and result.switch is None
    assert result.reevaluation["action"] == "KEEP"
    assert result.actions == [
        NewChild("XA", ChildType.MARKET, D("500"), D("100.01"), "direct: sweep the lit venues"),
        Remember({"at_start": {"mid": 100.0, "adv": 1e6, "daily_vol": 0.02, "spread_bps": 2.0, "depth": 500.0}}),
    ]


def test_a_volatility_spike_switches_a_twap_to_is_with_the_reason():
    at_start = {"mid": 100.0, "adv": 1e6, "daily_vol": 0.02, "spread_bps": 2.0, "depth": 500.0}
    s = state(strategy=Strategy.TWAP, memory={"at_start": at_start, "seed": 7}, parameters={"horizon_seconds": 600})
    result = run_tick(s, market(lit(), daily_vol=0.05), 10.0)
    assert result.switch is not None
    assert (result.switch.from_strategy, result.switch.to_strategy) == (Strategy.TWAP, Strategy.IS)
    assert result.switch.reason.startswith("volatility 5.0% a day is 2.5x the 2.0% at start")
    assert result.strategy is Strategy.IS
    remembered = [a for a in result.actions if isinstance(a, Remember)]
    assert remembered[0].values["phase_start"] == 10.0 and remembered[0].values["phase_filled"] == "0"


def test_run_tick_is_idempotent():
    s = state(strategy=Strategy.TWAP, parameters={"horizon_seconds": 600})
    assert run_tick(s, market(), 3.0) == run_tick(s, market(), 3.0)


def test_a_crossed_consolidated_book_is_re_evaluated_as_no_spread_not_an_error():
    # One venue's bid above another's ask: the consolidated spread is negative for a moment.
    crossed = market(lit("XA", bid=100.02, ask=100.04), lit("XB", bid=99.98, ask=100.01), spread_bps=-1.0)
    at_start = {"mid": 100.0, "adv": 1e6, "daily_vol": 0.02, "spread_bps": -1.0, "depth": 500.0}
    s = state(strategy=Strategy.TWAP, memory={"at_start": at_start, "seed": 7}, parameters={"horizon_seconds": 600})
    result = run_tick(s, crossed, 10.0)
    assert result.reevaluation["action"] in ("KEEP", "SWITCH")


def test_a_resting_child_chases_the_touch_only_after_it_rested_reprice_seconds():
    from dataclasses import replace

    from ems.algos.common import REPRICE_SECONDS, stale_passive
    from tests.ems.algo_fixtures import child

    resting = replace(child("c1", limit="99.95"), sent_at=100.0)  # the bid has moved up to 99.99
    s = state(strategy=Strategy.POV, open_children=(resting,))
    moved = market(lit(bid=99.99, ask=100.03))
    assert stale_passive(s, moved, now=100.0 + REPRICE_SECONDS - 0.5) == []
    assert stale_passive(s, moved, now=100.0 + REPRICE_SECONDS) == [resting]
    eager = replace(s, parameters={"reprice_seconds": 0})
    assert stale_passive(eager, moved, now=100.5) == [resting]


def test_a_short_horizon_is_still_a_schedule_of_several_slices():
    from ems.algos.schedule import twap_schedule
    from tests.ems.algo_fixtures import market

    short = state(strategy=Strategy.TWAP, quantity=D("3000"), end=20.0, parameters={"horizon_seconds": 20})
    assert len(twap_schedule(short, market()).times) == 4  # 5 s slices, the shortest there are
    long = state(strategy=Strategy.TWAP, quantity=D("3000"), end=3600.0, parameters={"horizon_seconds": 3600})
    assert len(twap_schedule(long, market()).times) == 12  # one per 300 s
