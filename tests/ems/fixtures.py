"""The EMS test bench: the demo universe, the real simulator behind the real venue service
on in-memory streams (core.streams), the real publisher filling the snapshot cache, and the
real gateway; `Market.round()` is one turn of the loop that owns the simulator followed by
applying the reports, as the beat task does."""

import io
from decimal import Decimal as D

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command

from core import streams as streams_module


class Market:
    def __init__(self, seed: int = 11):
        from marketdata.feeds import SimulatorFeed
        from marketdata.publisher import Publisher, build_simulator, instrument_grids
        from marketdata.sim import VirtualClock
        from marketdata.venue import VenueService

        self.clock = VirtualClock()
        self.sim = build_simulator(seed=seed, clock=self.clock)
        self.feed = SimulatorFeed(self.sim, self.clock)
        self.publisher = Publisher(self.feed, instrument_grids())
        self.streams = streams_module.streams()
        self.venue = VenueService(self.sim, self.streams)
        self.clock.advance(5)
        self.publish()

    def publish(self) -> None:
        async_to_sync(self.publisher.publish_once)()

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.publish()

    def venue_step(self) -> int:
        return self.venue.step()

    def apply_reports(self) -> int:
        from ems.tasks import reports_apply_pending

        return reports_apply_pending()

    def round(self) -> int:
        self.venue_step()
        return self.apply_reports()


@pytest.fixture
def memory_streams():
    streams_module.reset_streams()
    instance = streams_module.MemoryStreams()
    streams_module._instance = instance
    yield instance
    streams_module.reset_streams()


@pytest.fixture
def demo(db):
    call_command("seed_demo", without_history=True, stdout=io.StringIO())


@pytest.fixture
def market(demo, memory_streams):
    return Market()


def users():
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    return user_model.objects.get(username="pm"), user_model.objects.get(username="trader")


def submit(symbol="AAPL", side="BUY", quantity="300", limit_price=None, urgency="HIGH"):
    from marketdata.models import Instrument
    from oms.models import Portfolio
    from oms.services import order_submit

    pm, _ = users()
    portfolio = Portfolio.objects.filter(owner=pm).order_by("pk").first()
    order = order_submit(
        actor=pm,
        portfolio=portfolio,
        instrument=Instrument.objects.get(symbol=symbol),
        side=side,
        quantity=D(quantity),
        limit_price=None if limit_price is None else D(limit_price),
        urgency=urgency,
    )
    assert order.status == "ACCEPTED", order.rejection_reasons
    return order
