"""Reference-data services: venues and instruments seeded from plain rows (idempotent), and
option reference prices from the simulator's Black-Scholes model."""

from datetime import date
from decimal import Decimal as D

import pytest

from marketdata.models import Instrument, Venue
from marketdata.services import instruments_seed, option_reference_prices_refresh, venues_seed

pytestmark = pytest.mark.django_db

VENUES = [
    {
        "name": "NEXA",
        "kind": "LIT",
        "maker_fee_bps": "-2.0",
        "taker_fee_bps": "3.0",
        "latency_ms": "0.8",
        "depth_multiplier": "1.4",
    },
    {"name": "UMBRA", "kind": "DARK", "taker_fee_bps": "1.0", "min_quantity": "100", "dark_fill_rate": "0.30"},
]
INSTRUMENTS = [
    # The option comes first: the service writes underlyings before their options.
    {
        "symbol": "AAPL-270319-C-200",
        "name": "AAPL call",
        "asset_class": "OPTION",
        "underlying": "AAPL",
        "option_right": "C",
        "strike": "200",
        "expiry": date(2027, 3, 19),
        "tick_size": "0.05",
        "lot_size": "1",
        "reference_price": "6.85",
        "multiplier": "100",
        "adv": "8000",
        "daily_volatility": "0.045",
    },
    {
        "symbol": "AAPL",
        "name": "Apple Inc.",
        "asset_class": "EQUITY",
        "tick_size": "0.01",
        "lot_size": "1",
        "reference_price": "190.00",
        "adv": "55000000",
        "daily_volatility": "0.016",
        "avg_spread_bps": "1.2",
    },
]


def test_venues_seed_creates_then_updates_by_name():
    venues = venues_seed(rows=VENUES)
    assert set(venues) == {"NEXA", "UMBRA"}
    nexa = Venue.objects.get(name="NEXA")
    assert (nexa.kind, nexa.maker_fee_bps, nexa.taker_fee_bps, nexa.depth_multiplier) == (
        "LIT",
        D("-2.0"),
        D("3.0"),
        D("1.4"),
    )
    assert Venue.objects.get(name="UMBRA").min_quantity == D("100")

    again = venues_seed(rows=[{**VENUES[0], "taker_fee_bps": "2.5"}, VENUES[1]])
    assert Venue.objects.count() == 2 and again["NEXA"].pk == venues["NEXA"].pk
    assert Venue.objects.get(name="NEXA").taker_fee_bps == D("2.5")


@pytest.mark.parametrize(
    "row,message",
    [
        ({"name": "X", "kind": "OTC"}, "kind"),
        ({"name": "X", "kind": "LIT", "colour": "red"}, "unknown field 'colour'"),
        ({"name": "X", "kind": "LIT", "taker_fee_bps": 3.0}, "not a float"),
    ],
)
def test_venues_seed_refuses_bad_rows_and_writes_nothing(row, message):
    with pytest.raises(ValueError, match=message):
        venues_seed(rows=[VENUES[0], row])
    assert Venue.objects.count() == 0


def test_instruments_seed_resolves_underlyings_and_is_idempotent():
    seeded = instruments_seed(rows=INSTRUMENTS)
    assert set(seeded) == {"AAPL", "AAPL-270319-C-200"}
    option = Instrument.objects.select_related("underlying").get(symbol="AAPL-270319-C-200")
    assert (option.underlying.symbol, option.option_right, option.strike, option.expiry, option.multiplier) == (
        "AAPL",
        "C",
        D("200"),
        date(2027, 3, 19),
        D("100"),
    )
    assert Instrument.objects.get(symbol="AAPL").reference_price == D("190.00")

    again = instruments_seed(rows=[{**INSTRUMENTS[1], "reference_price": "191.00"}])
    assert Instrument.objects.count() == 2 and again["AAPL"].pk == seeded["AAPL"].pk
    assert Instrument.objects.get(symbol="AAPL").reference_price == D("191.00")
    # An option row may name an underlying stored earlier.
    instruments_seed(rows=[{**INSTRUMENTS[0], "symbol": "AAPL-270319-C-210", "strike": "210"}])
    assert Instrument.objects.get(symbol="AAPL-270319-C-210").underlying_id == seeded["AAPL"].pk


def test_instruments_seed_refuses_an_unknown_underlying_and_writes_nothing():
    with pytest.raises(Instrument.DoesNotExist):
        instruments_seed(rows=[INSTRUMENTS[1], {**INSTRUMENTS[0], "underlying": "NOPE"}])
    assert Instrument.objects.count() == 0


def test_option_reference_prices_come_from_the_simulators_model():
    instruments_seed(rows=INSTRUMENTS)
    put = {
        **INSTRUMENTS[0],
        "symbol": "AAPL-260320-P-150",
        "option_right": "P",
        "strike": "150",
        "expiry": date(2026, 3, 20),
    }
    instruments_seed(rows=[put])
    # One year to the call's expiry: Black-Scholes with S=190, K=200, T=1,
    # vol=0.016*sqrt(252) gives 15.1042..., 15.10 on the 0.05 tick.
    assert option_reference_prices_refresh(today=date(2026, 3, 19)) == 2
    assert Instrument.objects.get(symbol="AAPL-270319-C-200").reference_price == D("15.10")
    # A day from expiry, far out of the money: worth nothing, floored at one tick like the simulator.
    assert Instrument.objects.get(symbol="AAPL-260320-P-150").reference_price == D("0.05")
    assert Instrument.objects.get(symbol="AAPL").reference_price == D("190.00")  # options only


def test_option_reference_prices_skip_inactive_options():
    instruments_seed(rows=INSTRUMENTS)
    Instrument.objects.filter(symbol="AAPL-270319-C-200").update(is_active=False)
    assert option_reference_prices_refresh(today=date(2026, 3, 19)) == 0
    assert Instrument.objects.get(symbol="AAPL-270319-C-200").reference_price == D("6.85")
