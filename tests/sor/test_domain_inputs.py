import json
import math
from decimal import Decimal

import pytest

from core.vocabulary import AssetClass, Side, Urgency
from sor.domain import VolatilityRegime
from sor.domain.inputs import SAMPLE_FEATURES, selection_features
from tests.sor.factories import liquid_stock


def test_volatility_regimes_per_asset_class():
    assert liquid_stock(daily_vol=0.011).volatility_regime is VolatilityRegime.LOW
    assert liquid_stock(daily_vol=0.02).volatility_regime is VolatilityRegime.NORMAL
    assert liquid_stock(daily_vol=0.031).volatility_regime is VolatilityRegime.HIGH
    assert liquid_stock(asset_class="CRYPTO", daily_vol=0.04).volatility_regime is VolatilityRegime.NORMAL
    assert liquid_stock(asset_class="OPTION", daily_vol=0.07).volatility_regime is VolatilityRegime.NORMAL


def test_derived_inputs():
    inputs = liquid_stock(quantity=Decimal(20_000), displayed_depth=Decimal(5_000), limit_price=Decimal("100.25"))
    assert inputs.participation == 0.002
    assert inputs.depth_ratio == 0.25
    assert inputs.limit_distance_bps == pytest.approx(25.0)
    assert liquid_stock(side="SELL", limit_price=Decimal("100.25")).limit_distance_bps == pytest.approx(-25.0)
    assert liquid_stock().limit_distance_bps is None


def test_strings_become_the_core_vocabulary():
    inputs = liquid_stock()
    assert inputs.side is Side.BUY and inputs.urgency is Urgency.MEDIUM and inputs.asset_class is AssetClass.EQUITY


@pytest.mark.parametrize(("asset_class", "seconds"), [("EQUITY", 23_400), ("OPTION", 23_400), ("CRYPTO", 86_400)])
def test_the_trading_day_depends_on_the_asset_class(asset_class, seconds):
    assert liquid_stock(asset_class=asset_class).trading_day_seconds == seconds


def test_features_without_a_limit_put_it_at_infinity():
    features = selection_features(liquid_stock(quantity=Decimal(20_000), displayed_depth=Decimal(5_000)))
    assert features["limit_distance_bps"] == math.inf
    assert features["participation_pct"] == 0.2 and features["lots_shown"] == 5_000.0
    assert features["time_left_minutes"] == 390.0 and features["venue_count_dark"] == 2
    assert set(features) == set(SAMPLE_FEATURES)


def test_inputs_to_dict_is_plain_json():
    plain = liquid_stock(limit_price=Decimal("100.25")).to_dict()
    assert json.loads(json.dumps(plain)) == plain
    assert plain["quantity"] == "1000" and plain["limit_price"] == "100.25"
    assert plain["side"] == "BUY" and type(plain["side"]) is str


@pytest.mark.parametrize(
    "overrides",
    [
        {"side": "HOLD"},
        {"urgency": "ASAP"},
        {"asset_class": "BOND"},
        {"quantity": Decimal(0)},
        {"adv": Decimal(0)},
        {"daily_vol": -0.01},
        {"limit_price": Decimal(0)},
        {"time_left_seconds": -1},
    ],
)
def test_inputs_reject_nonsense(overrides):
    with pytest.raises(ValueError):
        liquid_stock(**overrides)
