from decimal import Decimal

import pytest

from core.vocabulary import Strategy
from sor.domain.planning import PLANNERS, plan_strategy
from tests.sor.factories import DAY, liquid_stock

PARAMETER_NAMES = [
    "horizon_seconds",
    "participation_rate",
    "slices",
    "display_quantity",
    "counterparties",
    "limit_price",
    "dark_fraction",
    "half_life_seconds",
]


def test_every_strategy_has_a_planner():
    assert set(PLANNERS) == set(Strategy)


@pytest.mark.parametrize("strategy", list(Strategy))
def test_every_plan_has_the_same_parameters_and_explains_itself(strategy):
    parameters, sentences, cost = plan_strategy(strategy, liquid_stock(quantity=Decimal(300_000)), {})
    assert list(parameters) == PARAMETER_NAMES
    assert sentences and all(isinstance(line, str) and line for line in sentences)
    assert cost.horizon_seconds == pytest.approx(parameters["horizon_seconds"], abs=0.5)
    if strategy in (Strategy.DIRECT, Strategy.RFQ):
        assert parameters["participation_rate"] is None and cost.participation_rate == 1.0
    else:
        assert parameters["participation_rate"] == pytest.approx(cost.participation_rate, abs=5e-5)


def test_direct_sweeps_now():
    parameters, sentences, cost = plan_strategy(Strategy.DIRECT, liquid_stock(quantity=Decimal(1_000)), {})
    assert parameters["horizon_seconds"] == 0 and parameters["slices"] == 1
    assert sentences == ["Sweep the lit book now for 1,000"]
    assert cost.timing_risk_bps == 0.0 and cost.spread_bps == 1.5 and cost.fees_bps == 0.3


def test_rfq_pays_no_fees_and_half_the_immediate_impact():
    inputs = liquid_stock(quantity=Decimal(300_000))
    direct = plan_strategy(Strategy.DIRECT, inputs, {})[2]
    parameters, sentences, rfq = plan_strategy(Strategy.RFQ, inputs, {"counterparties": 3, "max_horizon_seconds": 20})
    assert parameters["counterparties"] == 3 and parameters["horizon_seconds"] == 20
    assert sentences == ["Request quotes from 3 liquidity providers for the whole block, answering within 20 s"]
    assert rfq.fees_bps == 0.0 and rfq.impact_bps == pytest.approx(direct.impact_bps / 2)


def test_dark_fills_at_the_mid_pay_neither_spread_nor_fees():
    inputs = liquid_stock(quantity=Decimal(300_000))
    parameters, sentences, cost = plan_strategy(
        Strategy.DARK, inputs, {"dark_fraction": 1.0, "expected_dark_fill": 0.5, "max_horizon_seconds": 1800}
    )
    assert parameters["dark_fraction"] == 1.0 and parameters["horizon_seconds"] == 1800
    assert parameters["participation_rate"] == 0.39  # 3% of ADV in 1800 s of a 23,400 s day
    assert sentences == [
        "Rest 100% at the mid in 2 dark pool(s) for up to 30 min, expecting 50% filled, then sweep the residual"
    ]
    # Half is expected to fill in the dark: only the other half pays half-spread and fees.
    assert cost.spread_bps == pytest.approx(0.75) and cost.fees_bps == pytest.approx(0.15)


def test_a_schedule_at_its_target_rate_uses_the_time_it_needs():
    parameters, sentences, _ = plan_strategy(
        Strategy.VWAP, liquid_stock(quantity=Decimal(300_000)), {"participation_rate": 0.1}
    )
    assert parameters["horizon_seconds"] == 7020 and parameters["participation_rate"] == 0.1
    assert parameters["slices"] == 24
    assert sentences == ["VWAP over 1 h 57 min in 24 slices at 10.0% of volume"]


def test_a_capped_schedule_says_it_will_run_late():
    inputs = liquid_stock(quantity=Decimal(300_000), time_left_seconds=600)
    parameters, sentences, _ = plan_strategy(
        Strategy.TWAP, inputs, {"participation_rate": 0.1, "max_participation_rate": 0.2}
    )
    assert parameters["participation_rate"] == 0.2 and parameters["horizon_seconds"] == 3510
    assert parameters["slices"] == 12
    assert sentences == [
        "Finishing in 10 min would need 117% of the volume; capped at 20%, so the order will run past its deadline",
        "TWAP over 58 min in 12 slices at 20.0% of volume",
    ]


def test_an_urgent_schedule_uses_its_share_of_the_time_left():
    parameters, _, _ = plan_strategy(
        Strategy.POV, liquid_stock(quantity=Decimal(1_500_000)), {"participation_rate": 0.2, "horizon_share": 0.5}
    )
    assert parameters["horizon_seconds"] == DAY / 2 and parameters["participation_rate"] == 0.3


def test_is_front_loads_with_a_half_life():
    parameters, sentences, _ = plan_strategy(
        Strategy.IS,
        liquid_stock(quantity=Decimal(1_500_000)),
        {"participation_rate": 0.25, "horizon_share": 0.5, "front_loading": 3.0},
    )
    assert parameters["horizon_seconds"] == 11_700 and parameters["half_life_seconds"] == 3_900
    assert sentences == [
        "IS over 3 h 15 min in 39 slices at 30.0% of volume",
        "Front-loaded: holdings decay with a half-life of 1 h 05 min, 79% done by half time",
    ]
    flat, flat_sentences, _ = plan_strategy(
        Strategy.IS, liquid_stock(quantity=Decimal(1_500_000)), {"front_loading": 0.0}
    )
    assert flat["half_life_seconds"] is None and len(flat_sentences) == 1


@pytest.mark.parametrize(
    ("quantity", "lot_size", "display"),
    [
        (Decimal(30_000), Decimal(1), "3000"),
        (Decimal(30_050), Decimal(100), "3000"),
        (Decimal(50), Decimal(100), "50"),
        (Decimal(700), Decimal(100), "100"),
        (Decimal("1.5"), Decimal("0.001"), "0.15"),
    ],
)
def test_an_iceberg_shows_whole_lots_of_a_tenth(quantity, lot_size, display):
    parameters, _, _ = plan_strategy(
        Strategy.ICEBERG, liquid_stock(quantity=quantity, lot_size=lot_size), {"display_fraction": 0.1}
    )
    assert parameters["display_quantity"] == display
