# ruff: noqa: F811  (pytest fixtures imported from tests.ems.fixtures are parameters here)
"""TCA through the database and the API: the hand-computed example of tests/tca/test_domain
stored as real rows (order, execution, child orders, fills through the OMS, market samples),
computed once when final, and shown only to who may see the order."""

import csv
import io
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from tca.domain.report import COLUMNS
from tca.models import OrderTca
from tca.services import tca_compute
from tests.ems.fixtures import demo  # noqa: F401
from tests.tca.conftest import finished  # noqa: F401

pytestmark = pytest.mark.django_db


def client_for(username):
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username=username))
    return client


HAND_PARTS = {
    "delay": "70.00",
    "spread": "20.00",
    "impact": "20.00",
    "timing": "30.00",
    "fees": "2.00",
    "opportunity": "90.00",
}


def test_stored_once_final_with_the_hand_computed_figures(finished):
    order, t = finished
    assert tca_compute(order_id=order.pk, now=t + timedelta(seconds=60)) is None  # markouts not known yet
    live = client_for("trader").get(f"/api/tca/{order.pk}/")
    assert live.status_code == 200 and live.json()["final"] is False
    assert not OrderTca.objects.exists()

    stored = tca_compute(order_id=order.pk, now=t + timedelta(seconds=200))
    assert stored is not None and tca_compute(order_id=order.pk, now=t + timedelta(seconds=900)).pk == stored.pk
    assert OrderTca.objects.count() == 1
    body = client_for("trader").get(f"/api/tca/{order.pk}/").json()
    assert body["final"] is True
    assert body["shortfall"]["parts"] == HAND_PARTS
    assert (body["shortfall"]["total"], body["shortfall"]["total_bps"]) == ("232.00", "23.20")
    assert body["benchmarks"]["decision"] == "100.00000000" and body["benchmarks"]["arrival"] == "100.10000000"
    assert D(body["benchmarks"]["interval_twap"]) == D("100.212")
    assert D(body["benchmarks"]["interval_vwap"]) == D("100.167")
    assert body["markouts"]["overall"] == {"1": "-3.70", "10": "4.28", "60": "14.26"}
    assert body["profile"]["participation_pct"] == "35.00" and body["profile"]["dark_pct"] == "42.86"
    assert body["price_path"]["source"] == "samples"
    assert body["counterfactuals"] == [] and body["counterfactual"]["status"] == "unavailable"  # nothing recorded
    # The realised cost as the counterfactuals measure theirs: from the arrival, unfilled at
    # the end mid: 700 x (100.20 - 100.10) + 2.00 + 300 x (100.30 - 100.10) = 132.00.
    realised = body["counterfactual"]["realised"]
    assert (realised["cost"], realised["shortfall_bps"], realised["strategy"]) == ("132.00", "13.19", "TWAP")
    assert (stored.strategy, stored.shortfall, stored.shortfall_bps) == ("TWAP", D("232.00"), D("23.20"))


def test_who_may_see_it(finished, make_user):
    order, t = finished
    tca_compute(order_id=order.pk, now=t + timedelta(seconds=200))
    assert client_for("pm").get(f"/api/tca/{order.pk}/").status_code == 200
    assert client_for("pm2").get(f"/api/tca/{order.pk}/").status_code == 404
    assert APIClient().get(f"/api/tca/{order.pk}/").status_code in (401, 403)
    from django.test import Client

    for username, code in (("trader", 200), ("pm", 200), ("pm2", 404)):
        page = Client()
        page.force_login(get_user_model().objects.get(username=username))
        assert page.get(f"/orders/{order.pk}/tca/").status_code == code, username


def test_the_report_json_and_csv(finished):
    order, t = finished
    tca_compute(order_id=order.pk, now=t + timedelta(seconds=200))
    day = t.date().isoformat()
    report = client_for("trader").get("/api/tca/report/", {"start": day, "end": day}).json()
    assert report["orders"] == 1 and report["columns"] == list(COLUMNS)
    strategy = next(g for g in report["groups"] if g["dimension"] == "strategy")
    assert (strategy["key"], strategy["orders"], strategy["mean_shortfall_bps"], strategy["notional"]) == (
        "TWAP",
        1,
        "23.20",
        "100000.00",
    )
    assert {g["key"] for g in report["groups"] if g["dimension"] == "venue"} == {"XNAS", "DARKX"}
    response = client_for("trader").get("/api/tca/report/", {"start": day, "end": day, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == list(COLUMNS) and len(rows) == 1 + len(report["groups"])
    assert rows[1][:5] == ["strategy", "TWAP", "1", "100000.00", "23.20"]
    # pm2 owns none of it: an empty report, on JSON and on CSV
    assert client_for("pm2").get("/api/tca/report/", {"start": day, "end": day}).json()["orders"] == 0
    other = client_for("pm2").get("/api/tca/report/", {"start": day, "end": day, "format": "csv"})
    assert list(csv.reader(io.StringIO(other.content.decode()))) == [list(COLUMNS)]
    assert client_for("pm").get("/api/tca/report/", {"start": day, "end": day}).json()["orders"] == 1
    bad = client_for("trader").get("/api/tca/report/", {"start": "yesterday", "end": day})
    assert bad.status_code == 400 and "start" in bad.json()
    odd = client_for("trader").get("/api/tca/report/", {"format": "xml"})
    assert odd.status_code == 400 and odd.json() == {"format": ["json or csv"]}


def test_the_report_page_is_for_every_role_and_the_order_page_links_the_tca(finished):
    from django.test import Client

    order, _ = finished
    for username in ("pm", "pm2", "trader", "admin"):
        page = Client()
        page.force_login(get_user_model().objects.get(username=username))
        assert page.get("/tca/report/").status_code == 200, username
    trader = Client()
    trader.force_login(get_user_model().objects.get(username="trader"))
    assert f'href="/orders/{order.pk}/tca/"'.encode() in trader.get(f"/orders/{order.pk}/").content
    assert Client().get("/tca/report/").status_code == 302  # to the login page


def test_the_sweep_stores_finished_orders_once_and_skips_working_ones(finished):
    from ems.models import Execution
    from tca.selectors import orders_awaiting_tca
    from tca.services import tca_compute_pending
    from tca.tasks import tca_compute_finished

    order, t = finished
    later = t + timedelta(seconds=200)
    Execution.objects.filter(order=order).update(status="COMPLETING")
    assert orders_awaiting_tca(now=later) == []
    Execution.objects.filter(order=order).update(status="CANCELLED")
    assert orders_awaiting_tca(now=later) == [order.pk]
    assert orders_awaiting_tca(now=t + timedelta(seconds=40)) == []  # the markout minute first
    assert tca_compute_pending(now=later) == 1 and tca_compute_pending(now=later) == 0
    assert OrderTca.objects.filter(order=order).count() == 1
    assert tca_compute_finished() == 0  # the beat task: nothing left
