# ruff: noqa: F811  (pytest fixtures imported from tests.ems.fixtures are parameters here)
"""TCA of an order worked end to end on the real simulator, venue service and EMS, with the
publisher's sampler storing the market: the figures come from the rows the product wrote."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from ems import services
from marketdata.models import MarketSample
from marketdata.publisher import instrument_grids
from marketdata.sampling import MarketSampler
from oms.models import Order
from tca.domain.shortfall import Fill, shortfall_direct
from tca.models import OrderTca
from tca.services import tca_compute
from tca.tasks import tca_compute_finished
from tests.ems.fixtures import demo, market, memory_streams, submit, users  # noqa: F401

pytestmark = pytest.mark.django_db


def test_a_direct_order_gets_its_tca_stored_from_the_rows_the_product_wrote(market, django_capture_on_commit_callbacks):
    market.publisher.sampler = MarketSampler(instrument_grids(), interval=1e-9)  # every publication
    market.advance(1)
    order = submit(quantity="300")
    _, trader = users()
    execution = services.execution_start(actor=trader, order_id=order.pk, strategy="DIRECT")
    # Each block runs its on-commit sends at its end, as the worker would after commit.
    with django_capture_on_commit_callbacks(execute=True):
        services.execution_tick(execution_id=execution.pk)
    with django_capture_on_commit_callbacks(execute=True):
        market.round()
    market.advance(1)
    with django_capture_on_commit_callbacks(execute=True):
        services.execution_tick(execution_id=execution.pk)
    order.refresh_from_db()
    execution.refresh_from_db()
    assert (order.status, execution.status) == ("FILLED", "DONE")
    assert MarketSample.objects.filter(instrument=order.instrument).exists()

    assert tca_compute_finished() == 0  # the markouts' minute has not passed
    stored = tca_compute(order_id=order.pk, now=timezone.now() + timedelta(seconds=120))
    assert stored is not None and OrderTca.objects.count() == 1
    figures = stored.figures
    parts = {k: D(v) for k, v in figures["shortfall"]["parts"].items()}
    assert sum(parts.values()) == D(figures["shortfall"]["total"]) == stored.shortfall
    fills = [Fill(f.quantity, f.price, 0, fee=f.fee) for f in Order.objects.get(pk=order.pk).fills.all()]
    direct = shortfall_direct(
        side="BUY",
        ordered_quantity=order.quantity,
        decision_price=order.arrival_price,
        end_price=D(figures["benchmarks"]["end"]),
        fills=fills,
        multiplier=order.instrument.multiplier,
    )
    assert stored.shortfall == direct.quantize(D("0.01"))
    assert parts["opportunity"] == 0  # filled in full
    assert (stored.strategy, stored.estimate_bps) == ("DIRECT", execution.decision.estimated_cost_bps)
    assert figures["price_path"]["source"] == "samples"
    assert figures["profile"]["aggressive_pct"] == "100.00"
    assert sum(D(v["filled_quantity"]) for v in figures["profile"]["venues"]) == D(300)
