"""The router's record of why: one decision stored when an order is accepted, with its
inputs; reading it writes nothing; a fresh what-if only on request and only for an open
order; numbers as strings; sentences that say the parameters chosen."""

from decimal import Decimal as D

import pytest
from django.contrib.auth.models import User

from oms import services as oms_services
from oms.models import Order, Portfolio
from sor.domain import rationale
from sor.models import RoutingDecision

pytestmark = pytest.mark.django_db


@pytest.fixture
def pm(live_market):
    return User.objects.get(username="pm")


@pytest.fixture
def body(pm):
    portfolio = Portfolio.objects.filter(owner=pm).first()
    return {"portfolio": portfolio.pk, "instrument": "AAPL", "side": "BUY", "quantity": "400000", "urgency": "MEDIUM"}


def test_accepting_an_order_stores_its_decision_once(api_client, pm, body):
    first = api_client(pm).post("/api/orders/", {**body, "client_order_id": "t-1"}, format="json")
    again = api_client(pm).post("/api/orders/", {**body, "client_order_id": "t-1"}, format="json")
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    stored = RoutingDecision.objects.get()
    assert (stored.kind, stored.order_id, stored.requested_by) == ("RECOMMENDATION", first.json()["id"], pm)
    assert D(stored.inputs["quantity"]) == D(400000) and stored.inputs["urgency"] == "MEDIUM"
    assert stored.market_data["fresh"] is True


def test_reading_the_recommendation_writes_nothing(api_client, pm, body):
    order_id = api_client(pm).post("/api/orders/", body, format="json").json()["id"]
    before = list(RoutingDecision.objects.values_list("id", flat=True))
    answers = {api_client(pm).get(f"/api/orders/{order_id}/recommendation/").json()["id"] for _ in range(3)}
    assert answers == set(before) and list(RoutingDecision.objects.values_list("id", flat=True)) == before


def test_a_rejected_order_has_no_decision(api_client, pm, body):
    r = api_client(pm).post("/api/orders/", {**body, "side": "SELL", "quantity": "99999999"}, format="json")
    assert r.json()["status"] == "REJECTED"
    assert RoutingDecision.objects.count() == 0
    got = api_client(pm).get(f"/api/orders/{r.json()['id']}/recommendation/")
    assert (got.status_code, got.json()["detail"]) == (404, "No routing decision was stored for this order.")


def test_fresh_what_if_on_request_for_open_orders_only(api_client, pm, body):
    order_id = api_client(pm).post("/api/orders/", body, format="json").json()["id"]
    fresh = api_client(pm).post(f"/api/orders/{order_id}/recommendation/")
    assert fresh.status_code == 200 and (fresh.json()["kind"], fresh.json()["order"]) == ("WHAT_IF", order_id)
    assert fresh.json()["id"] is None  # answered, not kept: a look is not a decision
    assert RoutingDecision.objects.filter(order_id=order_id).count() == 1
    saved = api_client(pm).post(f"/api/orders/{order_id}/recommendation/", {"save": True}, format="json")
    assert saved.status_code == 200 and RoutingDecision.objects.get(pk=saved.json()["id"]).kind == "WHAT_IF"
    stored = api_client(pm).get(f"/api/orders/{order_id}/recommendation/").json()
    assert stored["kind"] == "RECOMMENDATION" and stored["id"] != saved.json()["id"]
    assert (
        api_client(pm).post(f"/api/orders/{order_id}/recommendation/", {"save": "x"}, format="json").status_code == 400
    )
    oms_services.order_cancel(actor=pm, order_id=order_id)
    finished = api_client(pm).post(f"/api/orders/{order_id}/recommendation/")
    assert finished.status_code == 409
    assert RoutingDecision.objects.filter(order_id=order_id).count() == 2


def test_pm2_cannot_run_a_what_if_against_pms_portfolio(api_client, pm, body):
    pm2 = User.objects.get(username="pm2")
    what_if = {k: body[k] for k in ("portfolio", "instrument", "side", "quantity")}
    r = api_client(pm2).post("/api/pretrade/", what_if, format="json")
    assert r.status_code == 400 and list(r.json()) == ["portfolio"]
    assert RoutingDecision.objects.count() == 0
    assert api_client(pm).post("/api/pretrade/", what_if, format="json").status_code == 200


def _floats(value):
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for v in value.values() for f in _floats(v)]
    if isinstance(value, list):
        return [f for v in value for f in _floats(v)]
    return []


def test_numbers_travel_as_strings(api_client, pm, body):
    order_id = api_client(pm).post("/api/orders/", body, format="json").json()["id"]
    rec = api_client(pm).get(f"/api/orders/{order_id}/recommendation/").json()
    assert _floats(rec["cost_breakdown"]) == [] and _floats(rec["inputs"]) == []
    assert rec["cost_breakdown"] and all(isinstance(v, str) for v in rec["cost_breakdown"].values())
    assert all(len(D(v).as_tuple().digits) <= 10 for v in rec["cost_breakdown"].values())


@pytest.mark.parametrize(
    ("sentence", "parameters", "said"),
    [
        (
            "MEDIUM urgency, so POV (target 12% of volume)",
            {"participation_rate": 0.35},
            "MEDIUM urgency, so POV (at 35% of volume)",
        ),
        ("x: POV (target 20%) at once", {"participation_rate": 0.2}, "x: POV (at 20% of volume) at once"),
        ("sweep (target 10% of volume) now", {}, "sweep now"),
    ],
)
def test_rationale_names_the_rate_chosen(sentence, parameters, said):
    assert rationale.restate_targets(sentence, parameters) == said


def test_long_durations_read_as_days():
    assert rationale.duration_text(605963) == "7 d 0 h 19 min"
    assert rationale.duration_text(590000) == "6 d 19 h 53 min"


def test_orders_entered_by_services_only_are_not_given_one(pm, body):
    # The decision belongs to the order entry edge; other callers (FIX, tasks) ask for it.
    order = oms_services.order_submit(
        actor=pm,
        portfolio=Portfolio.objects.get(pk=body["portfolio"]),
        instrument=Order._meta.get_field("instrument").related_model.objects.get(symbol="AAPL"),
        side="BUY",
        quantity=D(100),
    )
    assert RoutingDecision.objects.filter(order=order).count() == 0


def test_accepting_an_order_over_the_api_takes_a_fixed_set_of_queries(client, pm, body):
    """The whole POST: the token with the user and the role in one query, the two inputs,
    then one transaction: portfolio lock, replay check, position, rules, order, its two
    events, the venues and selection rules the router reads, its decision. Nothing read twice."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=pm)

    def post(**extra):
        return client.post(
            "/api/orders/", {**body, **extra}, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}"
        )

    post(client_order_id="warm")  # the first request of a process loads content types and the like
    with CaptureQueriesContext(connection) as queries:
        response = post(client_order_id="counted")
    assert response.status_code == 201 and response.json()["status"] == "ACCEPTED"

    def shape(sql: str) -> str:
        words = sql.split()
        if words[0] in ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"):
            return words[0]
        table = next(w for w in words if w.startswith('"') and "_" in w).split(".")[0].strip('"')
        return f"{words[0]} {table}"

    assert [shape(q["sql"]) for q in queries.captured_queries] == [
        "SELECT authtoken_token",
        "SELECT oms_portfolio",
        "SELECT marketdata_instrument",
        "SAVEPOINT",  # BEGIN outside the test's own transaction
        "SELECT oms_portfolio",
        "SELECT oms_order",
        "SELECT oms_position",
        "SELECT oms_compliancerule",
        "INSERT oms_order",
        "INSERT oms_orderevent",
        "SELECT marketdata_venue",
        "SELECT sor_selectionrulerecord",
        "INSERT sor_routingdecision",
        "RELEASE",  # COMMIT
    ]
    assert RoutingDecision.objects.filter(order_id=response.json()["id"]).count() == 1
