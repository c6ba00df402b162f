# ruff: noqa: F811  (pytest fixtures imported from tests.ems.fixtures are parameters here)
"""The venue in its own process may restart alone (a new simulator: its book is gone). It
remembers, beside the streams, what it has seen and what was resting with it: the lost
orders are reported CANCELLED, as an exchange cancels on disconnect, and a resent order it
had seen is refused, so nothing trades twice and the EMS works on."""

import pytest

from core.streams import COMMANDS, REPORTS, MemoryStreams
from ems import services
from ems.models import ChildOrder
from tests.ems.fixtures import demo, market, memory_streams, submit, users  # noqa: F401

pytestmark = pytest.mark.django_db


def restart_venue(market):
    from marketdata.publisher import build_simulator
    from marketdata.venue import VenueService

    market.venue = VenueService(
        build_simulator(seed=99, clock=market.clock), market.streams, memory=market.venue.memory
    )


def test_a_restarted_venue_cancels_what_rested_and_refuses_resends(market, django_capture_on_commit_callbacks):
    from marketdata.venue import VenueService

    market.venue = VenueService(market.sim, market.streams, memory=MemoryStreams())  # the Redis set, in a test
    order = submit(quantity="5000", urgency="LOW")
    _, trader = users()
    execution = services.execution_start(actor=trader, order_id=order.pk, strategy="DARK")
    with django_capture_on_commit_callbacks(execute=True):
        services.execution_tick(execution_id=execution.pk)
    with django_capture_on_commit_callbacks(execute=True):
        market.round()
    resting = list(ChildOrder.objects.filter(execution=execution, status="ACKED").order_by("pk"))
    assert resting, "dark pegs rest at the venue"

    restart_venue(market)
    with django_capture_on_commit_callbacks(execute=True):
        market.round()
    for child in resting:
        child.refresh_from_db()
        assert child.status == "CANCELLED"
        assert child.events.order_by("pk").last().reason == "venue restarted: order lost"

    # The sweep's resend of a child the old session had: refused, nothing reported.
    before = market.streams.length(REPORTS)
    market.streams.publish(COMMANDS, services._command(resting[0]))
    market.venue_step()
    assert market.streams.length(REPORTS) == before
    # and the execution works on: its next tick places new children at the new venue
    with django_capture_on_commit_callbacks(execute=True):
        services.execution_tick(execution_id=execution.pk)
    assert ChildOrder.objects.filter(execution=execution, status__in=["NEW", "SENT"]).exists()
