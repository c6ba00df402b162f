# ruff: noqa: F811  (pytest fixtures imported from tests.ems.fixtures are parameters here)
"""Closing the loop: orders worked on the real simulator, their TCA stored, the impact
coefficient re-fitted from them within its step bound, its history (with the orders) in the
admin, and the router's next decision using the new value."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from ems import services
from marketdata.models import Instrument
from marketdata.publisher import instrument_grids
from marketdata.sampling import MarketSampler
from tca.models import ImpactRefit
from tca.services import impact_refit, tca_compute
from tca.tasks import impact_refit_all
from tests.ems.fixtures import demo, market, memory_streams, submit, users  # noqa: F401

pytestmark = pytest.mark.django_db


def work_direct(market, capture, quantity):
    order = submit(quantity=quantity)
    _, trader = users()
    execution = services.execution_start(actor=trader, order_id=order.pk, strategy="DIRECT")
    with capture(execute=True):
        services.execution_tick(execution_id=execution.pk)
    with capture(execute=True):
        market.round()
    market.advance(2)
    with capture(execute=True):
        services.execution_tick(execution_id=execution.pk)
    assert tca_compute(order_id=order.pk, now=timezone.now() + timedelta(seconds=120)) is not None
    return order


def test_the_refit_moves_the_coefficient_within_its_bound_and_the_router_uses_it(
    market, django_capture_on_commit_callbacks, settings
):
    settings.TCA_REFIT_MIN_ORDERS = 3
    market.publisher.sampler = MarketSampler(instrument_grids(), interval=1e-9)  # every publication
    market.advance(1)
    aapl = Instrument.objects.get(symbol="AAPL")
    before = aapl.impact_coefficient
    orders = [work_direct(market, django_capture_on_commit_callbacks, q) for q in ("2000", "3000")]
    assert impact_refit(instrument_id=aapl.pk) is None  # two orders: not enough
    assert not ImpactRefit.objects.exists()
    orders.append(work_direct(market, django_capture_on_commit_callbacks, "4000"))

    refit = impact_refit(instrument_id=aapl.pk, max_step=0.2)
    assert refit is not None
    aapl.refresh_from_db()
    assert aapl.impact_coefficient == refit.coefficient and refit.previous == before
    assert abs(refit.coefficient - before) <= before * D("0.2") + D("0.0001")
    assert [row["order"] for row in refit.orders] == [o.pk for o in orders]
    assert all(row["predicted_impact_bps"] > 0 for row in refit.orders)
    assert impact_refit(instrument_id=aapl.pk) is None  # nothing new since: nothing changes
    assert impact_refit_all() == 0 and ImpactRefit.objects.count() == 1

    # The router's next decision reads the new coefficient.
    nxt = submit(quantity="100")
    execution = services.execution_start(actor=users()[1], order_id=nxt.pk, strategy="DIRECT")
    assert D(execution.decision.inputs["impact_coef"]) == refit.coefficient

    admin = Client()
    admin.force_login(get_user_model().objects.get(username="admin"))
    page = admin.get("/admin/tca/impactrefit/")
    assert page.status_code == 200 and b"AAPL" in page.content
    detail = admin.get(f"/admin/tca/impactrefit/{refit.pk}/change/")
    assert detail.status_code == 200 and str(orders[0].pk).encode() in detail.content
