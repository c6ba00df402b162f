"""The stored market history: the publisher's sampler writes one row per instrument per
interval, quiet or not, in one bulk insert; windows read back in time order; old rows purge."""

from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync

from marketdata.feeds import SimulatorFeed
from marketdata.models import Instrument, MarketSample
from marketdata.publisher import Publisher, build_simulator, instrument_grids
from marketdata.sampling import MarketSampler, market_samples_purge
from marketdata.selectors import market_samples
from marketdata.sim import VirtualClock

pytestmark = pytest.mark.django_db


class Wall:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def sampled(aapl, btc, lit_venues, no_snapshots):
    clock, wall = VirtualClock(), Wall(1_800_000_000.0)
    grids = instrument_grids()
    publisher = Publisher(
        SimulatorFeed(build_simulator(seed=5, clock=clock), clock),
        grids,
        wall_clock=wall,
        sampler=MarketSampler(grids, interval=1.0),
    )
    return clock, wall, publisher


def test_one_row_per_instrument_per_interval(sampled):
    clock, wall, publisher = sampled
    publish = async_to_sync(publisher.publish_once)
    for _ in range(12):  # 0.25 s apart: three seconds of publishing
        clock.advance(0.25)
        publish()
        wall.t += 0.25
    aapl = Instrument.objects.get(symbol="AAPL")
    rows = market_samples(aapl.pk, datetime.fromtimestamp(wall.t - 10, UTC), datetime.fromtimestamp(wall.t, UTC))
    assert [r["at"].timestamp() for r in rows] == [1_800_000_000.0, 1_800_000_001.0, 1_800_000_002.0]
    assert MarketSample.objects.count() == 6  # and three of BTC-USD
    last = rows[-1]
    assert last["mid"] > 0 and last["best_bid"] < last["mid"] < last["best_ask"]
    assert last["volume"] >= rows[0]["volume"]


def test_a_quiet_market_is_still_sampled(sampled):
    clock, wall, publisher = sampled
    publish = async_to_sync(publisher.publish_once)
    clock.advance(0.5)
    publish()
    before = MarketSample.objects.count()
    wall.t += 1.0  # the feed's clock stands still: nothing changed, a sample is still due
    assert publish() == 0
    assert MarketSample.objects.count() == before * 2


def test_sampling_off_writes_nothing(aapl, lit_venues, no_snapshots):
    clock = VirtualClock()
    grids = instrument_grids()
    publisher = Publisher(
        SimulatorFeed(build_simulator(seed=5, clock=clock), clock), grids, sampler=MarketSampler(grids, interval=0)
    )
    clock.advance(1)
    async_to_sync(publisher.publish_once)()
    assert not MarketSample.objects.exists()


def test_purge_keeps_the_retention(aapl):
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    for hours in (1, 71, 73, 100):
        MarketSample.objects.create(instrument=aapl, at=now - timedelta(hours=hours), mid=1, volume=0)
    assert market_samples_purge(now=now, retention_hours=72) == 2
    assert market_samples_purge(now=now, retention_hours=72) == 0
    assert sorted(round((now - s.at).total_seconds() / 3600) for s in MarketSample.objects.all()) == [1, 71]


@pytest.mark.django_db(transaction=True)
def test_the_serving_publisher_stores_samples(settings):
    """The product's own loop (config.asgi lifespan -> publish_forever) writes the history."""
    import io
    import time

    from django.core.management import call_command

    from tests.browser import ServerThread

    settings.MARKETDATA_EMBEDDED = True
    call_command("seed_demo", without_history=True, stdout=io.StringIO())
    with ServerThread():
        deadline = time.monotonic() + 30
        while MarketSample.objects.values("at").distinct().count() < 2:
            assert time.monotonic() < deadline, "no two samples stored within 30 s"
            time.sleep(0.1)
    instruments = Instrument.objects.filter(is_active=True).count()
    first_at = MarketSample.objects.order_by("at").values_list("at", flat=True).first()
    assert MarketSample.objects.filter(at=first_at).count() == instruments  # one row per instrument
