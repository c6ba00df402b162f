"""The OMS REST API: roles on every endpoint, per-field 400s with nothing stored, cancel."""

from decimal import Decimal as D

import pytest
from rest_framework.authtoken.models import Token

from oms import services
from oms.models import ComplianceRule, Order, OrderEvent, Position

pytestmark = pytest.mark.django_db


@pytest.fixture
def valid(portfolio, aapl):
    return {"portfolio": portfolio.pk, "instrument": "AAPL", "side": "BUY", "quantity": "100", "urgency": "LOW"}


def test_token_login(client, pm):
    r = client.post("/api/auth/token/", {"username": "pm", "password": "pw"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["token"] == Token.objects.get(user=pm).key
    r = client.post("/api/auth/token/", {"username": "pm", "password": "nope"}, content_type="application/json")
    assert r.status_code == 400 and "non_field_errors" in r.json()


def test_token_authenticates(client, pm, portfolio):
    token = Token.objects.create(user=pm)
    r = client.get("/api/portfolios/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert r.status_code == 200 and [p["id"] for p in r.json()["results"]] == [portfolio.pk]


@pytest.mark.parametrize("path", ["/api/orders/", "/api/portfolios/", "/api/positions/", "/api/instruments/"])
def test_anonymous_is_refused(api_client, path):
    # Token authentication comes first, so DRF answers 401 with a Token challenge.
    r = api_client().get(path)
    assert (r.status_code, r.headers["WWW-Authenticate"]) == (401, "Token")


def test_user_without_role_sees_nothing(api_client, make_user):
    nobody = make_user("nobody")
    assert api_client(nobody).get("/api/orders/").status_code == 403


def test_pm_creates_order(api_client, pm, valid):
    r = api_client(pm).post("/api/orders/", valid, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "ACCEPTED" and body["quantity"] == "100.00000000" and body["instrument"] == "AAPL"
    assert Order.objects.get(pk=body["id"]).created_by == pm


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": -5}, "quantity"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": "abc"}, "quantity"),
        ({"side": "HOLD"}, "side"),
        ({"instrument": "NO-SUCH"}, "instrument"),
        ({"urgency": "SOON"}, "urgency"),
        ({"portfolio": None}, "portfolio"),
        ({"portfolio": 999999}, "portfolio"),
        ({"limit_price": "-1"}, "limit_price"),
        ({"limit_price": "1e400"}, "limit_price"),
        ({"start_time": "2026-01-02T10:00:00Z", "end_time": "2026-01-02T09:00:00Z"}, "end_time"),
        ({"end_time": "2001-01-01T00:00:00Z"}, "end_time"),
        ({"quantity": "9999999999999999"}, "quantity"),  # beyond any real order, and beyond SQLite's exactness
        ({"quantity": "123456789.12345678"}, "quantity"),  # 17 significant digits
        ({"limit_price": "9999999999.5"}, "limit_price"),
        ({"quantity": "1_000"}, "quantity"),
        ({"quantity": "\uff11\uff12"}, "quantity"),  # full-width digits
        ({"quantity": True}, "quantity"),
        ({"portfolio": 1.5}, "portfolio"),
        ({"portfolio": "1.0"}, "portfolio"),
        ({"side": ["BUY"]}, "side"),
    ],
)
def test_malformed_order_is_400_per_field_and_stores_nothing(api_client, pm, valid, change, field):
    body = {**valid, **change}
    body = {k: v for k, v in body.items() if v is not None}
    r = api_client(pm).post("/api/orders/", body, format="json")
    assert r.status_code == 400 and field in r.json(), r.content
    assert Order.objects.count() == 0 and OrderEvent.objects.count() == 0


def test_non_json_body_is_400(api_client, pm):
    r = api_client(pm).post("/api/orders/", "{not json", content_type="application/json")
    assert r.status_code == 400 and "detail" in r.json()


def test_pm_cannot_order_into_anothers_portfolio(api_client, pm2, valid):
    r = api_client(pm2).post("/api/orders/", valid, format="json")
    assert r.status_code == 400 and "portfolio" in r.json()
    assert Order.objects.count() == 0


@pytest.mark.parametrize("who", ["trader", "admin_user"])
def test_desk_cannot_create_pm_orders(api_client, request, valid, who):
    r = api_client(request.getfixturevalue(who)).post("/api/orders/", valid, format="json")
    assert r.status_code == 403 and Order.objects.count() == 0


def test_compliance_breach_is_stored_rejected(api_client, pm, valid, portfolio):
    ComplianceRule.objects.create(kind="MAX_ORDER_NOTIONAL", portfolio=portfolio, limit=D(1000))
    r = api_client(pm).post("/api/orders/", valid, format="json")
    assert r.status_code == 201
    assert r.json()["status"] == "REJECTED"
    assert r.json()["rejection_reasons"][0]["rule"] == "MAX_ORDER_NOTIONAL"


def test_visibility(api_client, pm, pm2, trader, portfolio, portfolio2, aapl):
    mine = services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(1))
    theirs = services.order_submit(actor=pm2, portfolio=portfolio2, instrument=aapl, side="BUY", quantity=D(2))
    ids = lambda r: {o["id"] for o in r.json()["results"]}  # noqa: E731
    assert ids(api_client(pm).get("/api/orders/")) == {mine.pk}
    assert ids(api_client(trader).get("/api/orders/")) == {mine.pk, theirs.pk}
    assert api_client(pm).get(f"/api/orders/{theirs.pk}/").status_code == 404
    assert api_client(pm2).get("/api/portfolios/").json()["results"][0]["id"] == portfolio2.pk
    assert api_client(pm).get(f"/api/portfolios/{portfolio2.pk}/").status_code == 404
    detail = api_client(trader).get(f"/api/orders/{mine.pk}/").json()
    assert [e["event"] for e in detail["events"]] == ["SUBMIT", "ACCEPT"] and detail["fills"] == []


def test_positions_visible_only_to_owner_and_desk(api_client, pm, pm2, trader, portfolio, aapl):
    Position.objects.create(portfolio=portfolio, instrument=aapl, quantity=D(10), average_cost=D(1))
    assert len(api_client(pm).get("/api/positions/").json()["results"]) == 1
    assert api_client(pm2).get("/api/positions/").json()["results"] == []
    assert len(api_client(trader).get(f"/api/positions/?portfolio={portfolio.pk}").json()["results"]) == 1


def test_filters(api_client, pm, portfolio, aapl, btc):
    services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(1))
    services.order_submit(actor=pm, portfolio=portfolio, instrument=btc, side="BUY", quantity=D("0.5"))
    client = api_client(pm)
    assert len(client.get("/api/orders/?instrument=BTC-USD").json()["results"]) == 1
    assert len(client.get("/api/orders/?status=ACCEPTED").json()["results"]) == 2
    assert len(client.get("/api/orders/?status=FILLED").json()["results"]) == 0
    assert len(client.get(f"/api/orders/?portfolio={portfolio.pk}&side=BUY").json()["results"]) == 2
    assert client.get("/api/orders/?status=BOGUS").status_code == 400


def test_cancel(api_client, pm, pm2, trader, portfolio, aapl):
    order = services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(1))
    assert api_client(pm2).post(f"/api/orders/{order.pk}/cancel/").status_code == 404
    r = api_client(pm).post(f"/api/orders/{order.pk}/cancel/")
    assert r.status_code == 200 and r.json()["status"] == "CANCELLED"
    again = api_client(pm).post(f"/api/orders/{order.pk}/cancel/")
    assert again.status_code == 409 and "cannot CANCEL" in again.json()["detail"]
    other = services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(1))
    assert api_client(trader).post(f"/api/orders/{other.pk}/cancel/").json()["status"] == "CANCELLED"


def test_blotter_rows_say_whether_a_cancel_may_be_asked(api_client, pm, portfolio, aapl):
    accepted = services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(1))
    pending = services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(2))
    services.order_work(order_id=pending.pk)
    services.order_cancel(actor=pm, order_id=pending.pk)
    cancelled = services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(3))
    services.order_cancel(actor=pm, order_id=cancelled.pk)
    rows = {o["id"]: (o["status"], o["is_cancellable"]) for o in api_client(pm).get("/api/orders/").json()["results"]}
    assert rows == {
        accepted.pk: ("ACCEPTED", True),
        pending.pk: ("CANCEL_PENDING", False),
        cancelled.pk: ("CANCELLED", False),
    }


def test_preview_endpoint(api_client, pm, trader, valid, portfolio):
    ComplianceRule.objects.create(kind="MAX_ORDER_NOTIONAL", portfolio=portfolio, limit=D(1000))
    r = api_client(pm).post("/api/orders/preview/", valid, format="json")
    assert r.status_code == 200 and r.json()["passes"] is False
    assert r.json()["breaches"][0]["rule"] == "MAX_ORDER_NOTIONAL"
    assert Order.objects.count() == 0
    assert api_client(trader).post("/api/orders/preview/", valid, format="json").status_code == 403


def test_instruments(api_client, pm, aapl, option):
    rows = api_client(pm).get("/api/instruments/").json()["results"]
    by_symbol = {r["symbol"]: r for r in rows}
    assert by_symbol["AAPL"]["asset_class"] == "EQUITY" and by_symbol["AAPL"]["adv"] == "55000000.00000000"
    opt = api_client(pm).get("/api/instruments/AAPL-270319-C-200/").json()
    assert (opt["underlying"], opt["option_right"], opt["strike"], opt["multiplier"]) == (
        "AAPL",
        "C",
        "200.00000000",
        "100.00000000",
    )


def test_schema_and_docs(client):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_unknown_api_path_is_json_404(client):
    r = client.get("/api/nope/")
    assert r.status_code == 404


@pytest.mark.parametrize("path", ["/api/orders/", "/api/auth/token/"])
def test_nested_json_is_a_400_not_a_crash(api_client, pm, path):
    body = '{"a":' * 5000 + "1" + "}" * 5000
    r = api_client(pm).post(path, body, content_type="application/json")
    assert r.status_code == 400 and "nested" in r.json()["detail"]


@pytest.mark.parametrize("fmt", ["json", "form"])
@pytest.mark.parametrize("path", ["/api/orders/", "/api/auth/token/"])
def test_oversized_body_is_refused(api_client, pm, settings, path, fmt):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"pad": "x" * 2000}
    if fmt == "form":
        from urllib.parse import urlencode

        r = api_client(pm).post(path, urlencode(body), content_type="application/x-www-form-urlencoded")
    else:
        r = api_client(pm).post(path, body, format="json")
    assert r.status_code == 400 and "too large" in r.json()["detail"]


def test_too_many_fields_is_a_400(api_client, pm):
    query = "&".join(f"f{i}=1" for i in range(1500))
    r = api_client(pm).get(f"/api/orders/?{query}")
    assert r.status_code == 400 and r.json()["detail"]
    from django.test.client import encode_multipart

    r = api_client(pm).post(
        "/api/orders/preview/",
        encode_multipart("BoUnDaRy", {f"f{i}": "1" for i in range(1500)}),
        content_type="multipart/form-data; boundary=BoUnDaRy",
    )
    assert r.status_code == 400


def test_page_size_is_bounded(api_client, pm, portfolio, aapl):
    r = api_client(pm).get("/api/orders/?limit=9223372036854775808")
    assert (r.status_code, r.json()) == (400, {"limit": ["Give a whole number between 1 and 1000."]})
    assert api_client(pm).get("/api/orders/?limit=1000").status_code == 200


def test_pm_cannot_filter_on_anothers_portfolio(api_client, pm, pm2, portfolio2, aapl):
    services.order_submit(actor=pm2, portfolio=portfolio2, instrument=aapl, side="BUY", quantity=D(1))
    r = api_client(pm).get(f"/api/orders/?portfolio={portfolio2.pk}")
    assert r.status_code == 400 and "portfolio" in r.json()


def test_api_speaks_json_only(api_client, pm):
    r = api_client(pm).get("/api/orders/?format=api")
    assert r.status_code == 404
