"""The router through its API: the acceptance scenarios on the demo universe with live
simulated books, roles, bad input, stored decisions and the admin-edited matrix."""

from decimal import Decimal as D

import pytest
from django.contrib.auth.models import User

from marketdata.models import Instrument, Venue
from oms.models import Portfolio
from sor.models import RoutingDecision, SelectionRuleRecord

pytestmark = pytest.mark.django_db


def pretrade(api_client, user, symbol, fraction=None, urgency="MEDIUM", quantity=None, **extra):
    inst = Instrument.objects.get(symbol=symbol)
    if quantity is None:
        quantity = max(inst.lot_size, (inst.adv * D(str(fraction)) / inst.lot_size).to_integral_value() * inst.lot_size)
    r = api_client(user).post(
        "/api/pretrade/",
        {"instrument": symbol, "side": "BUY", "quantity": str(quantity), "urgency": urgency, **extra},
        format="json",
    )
    assert r.status_code == 200, r.content
    return r.json()


@pytest.fixture
def pm(live_market):
    return User.objects.get(username="pm")


def test_small_order_in_liquid_stock_is_direct_with_venues(api_client, pm, live_market):
    rec = pretrade(api_client, pm, "NVDA", 0.0001)
    assert rec["strategy"] == "DIRECT"
    # The decision names the book it saw: the one the publisher sent last.
    assert rec["market_data"]["fresh"] is True and rec["market_data"]["seq"] == live_market.seq["NVDA"]
    venues = {a["venue"] for a in rec["allocation"]}
    assert venues and venues <= {"NEXA", "LUMA", "ORBIT"}
    assert sum(D(a["quantity"]) for a in rec["allocation"]) == D("18000")
    assert any("ADV" in line for line in rec["rationale"])


def test_fifteen_percent_low_urgency_is_scheduled(api_client, pm):
    rec = pretrade(api_client, pm, "NVDA", 0.15, "LOW")
    assert rec["strategy"] == "VWAP" and rec["rule"] == "vwap-patient"
    assert any("15.0% of ADV" in line for line in rec["rationale"])


def test_fifteen_percent_high_urgency_trades_faster_and_costs_more(api_client, pm):
    low = pretrade(api_client, pm, "NVDA", 0.15, "LOW")
    high = pretrade(api_client, pm, "NVDA", 0.15, "HIGH")
    small = pretrade(api_client, pm, "NVDA", 0.0001)
    assert high["strategy"] == "IS"
    assert high["parameters"]["participation_rate"] > low["parameters"]["participation_rate"]
    assert D(high["estimated_cost_bps"]) > D(small["estimated_cost_bps"])
    assert D(high["estimated_risk_bps"]) < D(low["estimated_risk_bps"])  # faster means less timing risk


def test_block_in_illiquid_option_goes_to_rfq(api_client, pm):
    rec = pretrade(api_client, pm, "AAPL-270319-C-200", 0.3)
    assert rec["strategy"] == "RFQ" and rec["parameters"]["counterparties"] == 5
    assert rec["allocation"] == []


def test_a_what_if_is_answered_without_a_row(api_client, pm):
    rec = pretrade(api_client, pm, "MSFT", 0.02, "LOW")
    assert rec["id"] is None and rec["kind"] == "WHAT_IF" and rec["created_at"]
    assert D(rec["inputs"]["quantity"]) == D(440000) and rec["rationale"]
    assert RoutingDecision.objects.count() == 0


def test_a_saved_what_if_is_stored_with_its_inputs(api_client, pm):
    rec = pretrade(api_client, pm, "MSFT", 0.02, "LOW", save=True)
    stored = RoutingDecision.objects.get(pk=rec["id"])
    assert stored.kind == "WHAT_IF" and stored.requested_by == pm and stored.order is None
    assert D(stored.inputs["quantity"]) == D(440000) and stored.inputs["urgency"] == "LOW"
    assert stored.strategy == rec["strategy"] and stored.rationale == rec["rationale"]


def test_order_recommendation(api_client, pm, live_market):
    portfolio = Portfolio.objects.filter(owner=pm).first()
    body = {"portfolio": portfolio.pk, "instrument": "AAPL", "side": "BUY", "quantity": "8250000", "urgency": "LOW"}
    created = api_client(pm).post("/api/orders/", body, format="json")
    assert created.status_code == 201, created.content
    order_id = created.json()["id"]
    r = api_client(pm).get(f"/api/orders/{order_id}/recommendation/")
    assert r.status_code == 200 and r.json()["strategy"] == "VWAP" and r.json()["order"] == order_id
    trader = User.objects.get(username="trader")
    assert api_client(trader).get(f"/api/orders/{order_id}/recommendation/").json()["id"] == r.json()["id"]
    assert api_client(User.objects.get(username="pm2")).get(f"/api/orders/{order_id}/recommendation/").status_code == (
        404
    )
    listed = api_client(trader).get(f"/api/routing-decisions/?order={order_id}").json()["results"]
    assert [(d["id"], d["kind"]) for d in listed] == [(r.json()["id"], "RECOMMENDATION")]
    assert api_client(pm).get("/api/routing-decisions/").status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quantity": "-1"}, "quantity"),
        ({"quantity": "x"}, "quantity"),
        ({"instrument": "NOPE"}, "instrument"),
        ({"side": "SHORT"}, "side"),
        ({"urgency": "NOW"}, "urgency"),
        ({"limit_price": "0"}, "limit_price"),
    ],
)
def test_pretrade_bad_input(api_client, pm, body, field):
    base = {"instrument": "AAPL", "side": "BUY", "quantity": "100", "urgency": "LOW"}
    r = api_client(pm).post("/api/pretrade/", {**base, **body}, format="json")
    assert r.status_code == 400 and field in r.json()
    assert RoutingDecision.objects.count() == 0


def test_pretrade_needs_a_role(api_client, make_user, live_market):
    # Token authentication comes first, so an anonymous call is asked to authenticate: 401.
    anonymous = api_client().post("/api/pretrade/", {}, format="json")
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == "Token"
    nobody = make_user("nobody")
    assert api_client(nobody).post("/api/pretrade/", {}, format="json").status_code == 403


def test_admin_edits_to_the_matrix_change_the_decision(api_client, pm):
    assert pretrade(api_client, pm, "NVDA", 0.0001)["strategy"] == "DIRECT"
    SelectionRuleRecord.objects.create(
        priority=1,
        name="all-to-dark",
        strategy="DARK",
        asset_classes=["EQUITY"],
        rationale="desk policy: everything dark today",
    )
    rec = pretrade(api_client, pm, "NVDA", 0.0001)
    assert rec["strategy"] == "DARK" and rec["rule"] == "all-to-dark"
    assert rec["rationale"][0] == "desk policy: everything dark today"


def test_matrix_without_catch_all_falls_back_to_defaults(api_client, pm):
    SelectionRuleRecord.objects.exclude(priority=10).update(enabled=False)  # only the RFQ rule is left
    rec = pretrade(api_client, pm, "NVDA", 0.0001)
    assert rec["strategy"] == "DIRECT" and rec["rule"] == "direct-small"
    assert rec["rationale"][-1] == "No configured rule matched: the default matrix decided."


def test_an_empty_matrix_is_the_default_matrix(api_client, pm):
    SelectionRuleRecord.objects.all().delete()
    rec = pretrade(api_client, pm, "NVDA", 0.0001)
    assert rec["strategy"] == "DIRECT" and rec["rule"] == "direct-small"
    assert not any("default matrix" in line for line in rec["rationale"])


def test_disabled_venue_gets_nothing(api_client, pm):
    Venue.objects.filter(name="NEXA").update(enabled=False)
    rec = pretrade(api_client, pm, "NVDA", 0.0001)
    assert rec["allocation"] and "NEXA" not in {a["venue"] for a in rec["allocation"]}


def test_stale_market_is_said_out_loud(api_client, demo):
    pm = User.objects.get(username="pm")
    rec = pretrade(api_client, pm, "AAPL", 0.0001)
    assert rec["market_data"] == {"source": "reference data", "fresh": False}
    assert "No fresh market data" in rec["rationale"][-1] and rec["allocation"] == []


def test_a_near_deadline_changes_the_plan(api_client, pm):
    from datetime import timedelta

    from django.utils import timezone

    soon = (timezone.now() + timedelta(minutes=10)).isoformat()
    relaxed = pretrade(api_client, pm, "NVDA", 0.02, "LOW")
    rushed = pretrade(api_client, pm, "NVDA", 0.02, "LOW", end_time=soon)
    assert relaxed["strategy"] != "TWAP" and rushed["strategy"] == "TWAP"
    assert 590 <= D(rushed["inputs"]["time_left_seconds"]) <= 600  # numbers travel as strings
    assert D(rushed["estimated_risk_bps"]) < D(relaxed["estimated_risk_bps"])


def test_what_ifs_are_throttled_per_user(api_client, pm, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "pretrade", "3/min")
    body = {"instrument": "AAPL", "side": "BUY", "quantity": "100", "urgency": "LOW"}
    codes = [api_client(pm).post("/api/pretrade/", body, format="json").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert RoutingDecision.objects.count() == 0
