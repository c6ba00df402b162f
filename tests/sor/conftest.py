import io

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command


@pytest.fixture
def demo(db):
    """The demo universe: venues, instruments, users, portfolios, limits."""
    call_command("seed_demo", without_history=True, stdout=io.StringIO())


@pytest.fixture
def live_market(demo):
    """One round of real snapshots from the simulator through the publisher into the cache."""
    from marketdata.feeds import SimulatorFeed
    from marketdata.publisher import Publisher, build_simulator, instrument_grids
    from marketdata.sim import VirtualClock

    clock = VirtualClock()
    feed = SimulatorFeed(build_simulator(seed=11, clock=clock), clock)
    publisher = Publisher(feed, instrument_grids())
    clock.advance(5)
    assert async_to_sync(publisher.publish_once)() == len(publisher.grids)
    return publisher
