# ruff: noqa: F811  (pytest fixtures imported from tests.ems.fixtures are parameters here)
"""Counterfactuals through the product: the execution's start records the market at arrival
(ems.arrival), the EMS backtest runs from it (tca.services.counterfactuals_compute, on the
recorded seed: the same record gives the same figures), and the API, the report's CSV and
the page show them to who may see the order, never to another PM."""

import csv
import io
import json
from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.vocabulary import VenueKind
from ems import services
from ems.models import ExecutionArrival
from marketdata.models import Venue
from marketdata.selectors import latest_snapshot
from tca import services as tca_services
from tca.domain import counterfactual
from tca.models import OrderCounterfactuals
from tests.ems.fixtures import demo, market, memory_streams, submit, users  # noqa: F401

pytestmark = pytest.mark.django_db


def client_for(username):
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username=username))
    return client


@pytest.fixture
def started(market, settings):
    """A buy of 500,000 JPM (5.6% of its ADV), LOW urgency (the router: VWAP, then POV),
    started as a TWAP on the test bench's market."""
    settings.MARKETDATA_SEED = 11  # the seed the test bench's simulator runs (tests.ems.fixtures.Market)
    market.advance(1)
    order = submit(symbol="JPM", quantity="500000", urgency="LOW")
    _, trader = users()
    execution = services.execution_start(actor=trader, order_id=order.pk, strategy="TWAP")
    return order, execution, market


def test_the_start_records_the_market_at_arrival_once(started):
    order, execution, market = started
    arrival = ExecutionArrival.objects.get(execution=execution)
    snapshot = latest_snapshot("JPM")
    assert (arrival.seed, arrival.feed) == (11, "simulator")
    assert arrival.sim_time == snapshot["ts"] == market.sim.time == 6.0
    assert arrival.arrival_mid == execution.arrival_price
    state = arrival.state
    assert state["book"]["mid"] == snapshot["mid"] and state["book"]["venues"] == snapshot["venues"]
    assert state["book_fresh"] is True
    assert [i["symbol"] for i in state["instruments"]] == ["JPM"]
    assert state["instruments"][0]["adv"] == float(order.instrument.adv)
    venues = Venue.objects.filter(kind__in=[VenueKind.LIT, VenueKind.DARK])
    assert {v["name"] for v in state["venues"]} == set(venues.values_list("name", flat=True))
    assert state["params"]["session_seconds"] == market.sim.params.session_seconds
    second = state["second_choice"]
    assert second is not None and second["strategy"] != execution.decision.strategy
    # A second start returns the first execution: nothing recorded again.
    _, trader = users()
    assert services.execution_start(actor=trader, order_id=order.pk).pk == execution.pk
    assert ExecutionArrival.objects.count() == 1


def test_the_counterfactuals_run_from_the_record_the_same_each_time(started):
    order, execution, _ = started
    assert tca_services.counterfactual_view(order, request=False)["status"] == "pending"
    stored = tca_services.counterfactuals_compute(order_id=order.pk)
    assert stored is not None and tca_services.counterfactuals_compute(order_id=order.pk).pk == stored.pk
    rows = {r["way"]: r for r in stored.figures["rows"]}
    assert list(rows) == list(counterfactual.WAYS)
    assert rows["as_executed"]["strategy"] == "TWAP"
    assert rows["router_second_choice"]["strategy"] == execution.arrival.state["second_choice"]["strategy"]
    # Same record, same figures: the backtest is run again from the stored arrival.
    arrival = ExecutionArrival.objects.get(execution=execution)
    again = counterfactual.compute(tca_services._arrival_record(arrival), tca_services._counterfactual_order(execution))
    assert json.loads(json.dumps(again)) == stored.figures
    # The replay starts where the real order did: its mid anchored to the arrival mid.
    market = stored.figures["market"]
    assert market["anchored"] is True and market["seed"] == 11 and market["session_time"] == 6.0
    state, _ = counterfactual.market_state(tca_services._arrival_record(arrival), "JPM")
    assert abs(state.simulator().fair_value("JPM") / float(execution.arrival_price) - 1) < 1e-12
    # Sanity: 5.6% of ADV as one market order takes the main book and pays for it; a TWAP does not.
    single, twap = rows["single_market_order"], rows["one_venue_twap"]
    assert D(single["filled"]) < D(twap["filled"]) == execution.quantity
    assert single["adjusted_shortfall_bps"] > twap["adjusted_shortfall_bps"]
    assert single["shortfall_bps"] > twap["shortfall_bps"] and D(single["cost"]) > D(twap["cost"])


def test_the_api_the_csv_and_the_page_show_them_to_the_owner_never_to_pm2(started, django_capture_on_commit_callbacks):
    order, execution, _ = started
    tca_services.counterfactuals_compute(order_id=order.pk)
    body = client_for("trader").get(f"/api/tca/{order.pk}/").json()
    assert body["counterfactual"]["status"] == "computed"
    assert [r["way"] for r in body["counterfactuals"]] == list(counterfactual.WAYS)
    assert client_for("pm").get(f"/api/tca/{order.pk}/").json()["counterfactuals"] == body["counterfactuals"]
    assert client_for("pm2").get(f"/api/tca/{order.pk}/").status_code == 404
    for username, code in (("trader", 200), ("pm", 200), ("pm2", 404)):
        page = Client()
        page.force_login(get_user_model().objects.get(username=username))
        assert page.get(f"/orders/{order.pk}/tca/").status_code == code, username

    # Finished and stored: the report's CSV carries the simulated ways' mean shortfall.
    _, trader = users()
    with django_capture_on_commit_callbacks(execute=True):
        services.execution_cancel(actor=trader, execution_id=execution.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.execution_tick(execution_id=execution.pk)
    order.refresh_from_db()
    execution.refresh_from_db()
    assert (order.status, execution.status) == ("CANCELLED", "CANCELLED")
    stored = tca_services.tca_compute(order_id=order.pk, now=timezone.now() + tca_services.selectors.AFTER * 2)
    assert stored is not None
    assert [r["way"] for r in stored.figures["counterfactuals"]] == list(counterfactual.WAYS)
    day = stored.finished_at.date().isoformat()
    response = client_for("trader").get("/api/tca/report/", {"start": day, "end": day, "format": "csv"})
    table = list(csv.DictReader(io.StringIO(response.content.decode())))
    strategy = next(r for r in table if r["dimension"] == "strategy")
    rows = {r["way"]: r for r in OrderCounterfactuals.objects.get(order=order).figures["rows"]}
    assert strategy["counterfactual_orders"] == "1"
    assert D(strategy["mean_cf_market_order_bps"]) == D(str(rows["single_market_order"]["shortfall_bps"])).quantize(
        D("0.01")
    )
    assert D(strategy["mean_cf_twap_bps"]) == D(str(rows["one_venue_twap"]["shortfall_bps"])).quantize(D("0.01"))
    other = client_for("pm2").get("/api/tca/report/", {"start": day, "end": day, "format": "csv"})
    assert list(csv.DictReader(io.StringIO(other.content.decode()))) == []


def test_an_order_without_a_recorded_arrival_says_so(started):
    order, execution, _ = started
    ExecutionArrival.objects.filter(execution=execution).delete()
    assert tca_services.counterfactuals_compute(order_id=order.pk) is None
    view = tca_services.counterfactual_view(order)
    assert (view["status"], view["rows"]) == ("unavailable", [])
