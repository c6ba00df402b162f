"""The RFQ REST API: shapes, roles, visibility, per-field 400s, execution refusals."""

from decimal import Decimal as D

import pytest

from rfq import services
from rfq.models import Rfq

pytestmark = pytest.mark.django_db


def test_trader_opens_an_rfq(api_client, trader, order, counterparties):
    r = api_client(trader).post("/api/rfqs/", {"order": order.pk, "window_seconds": 5}, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert set(body) == {
        "id", "seq", "order", "instrument", "side", "quantity", "two_way", "execution_mode", "min_trade_quantity",
        "legs", "status", "outcome", "window_seconds", "sent_at", "window_ends_at", "time_left", "as_of",
        "auto_execute_price", "auto_execute_bps", "mid", "counterparties", "ladder", "rejections", "execution",
    }  # fmt: skip
    assert (body["order"], body["status"], body["quantity"], body["window_seconds"], body["ladder"]) == (
        order.pk,
        "DRAFT",
        "10000.00000000",
        5,
        [],
    )
    assert body["execution_mode"] == "ALL_OR_NONE"
    assert body["legs"] == [{"index": 0, "instrument": "AAPL", "side": "BUY", "ratio": "1.0000", "order": order.pk}]
    assert len(body["counterparties"]) == 5
    assert api_client(trader).get(f"/api/rfqs/{body['id']}/").json()["id"] == body["id"]
    assert [x["id"] for x in api_client(trader).get("/api/rfqs/").json()["results"]] == [body["id"]]


def test_roles_and_visibility(api_client, pm, trader, order, counterparties, make_user):
    assert api_client(pm).post("/api/rfqs/", {"order": order.pk}, format="json").status_code == 403
    assert api_client().post("/api/rfqs/", {"order": order.pk}, format="json").status_code == 401
    nobody = make_user("nobody")
    assert api_client(nobody).post("/api/rfqs/", {"order": order.pk}, format="json").status_code == 403
    r = api_client(trader).post("/api/rfqs/", {"order": 999999}, format="json")
    assert r.status_code == 404 and r.json()["detail"] == "order 999999 does not exist"
    rfq = services.rfq_open(actor=trader, order_id=order.pk)
    assert api_client(pm).get(f"/api/rfqs/{rfq.pk}/").status_code == 403
    assert api_client(pm).post(f"/api/rfqs/{rfq.pk}/execute/", {"quote": 1}, format="json").status_code == 403
    assert api_client(trader).get("/api/rfqs/999999/").status_code == 404
    assert Rfq.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "order"),
        ({"order": "x"}, "order"),
        ({"order": 1.5}, "order"),
        ({"order": True}, "order"),
        ({"order": 1, "quantity": "abc"}, "quantity"),
        ({"order": 1, "quantity": "-5"}, "quantity"),
        ({"order": 1, "window_seconds": 0}, "window_seconds"),
        ({"order": 1, "window_seconds": 301}, "window_seconds"),
        ({"order": 1, "counterparties": ["x"]}, "counterparties"),
        ({"order": 1, "counterparties": []}, "counterparties"),
        ({"order": 1, "auto_execute_price": "1e3"}, "auto_execute_price"),
        ({"order": 1, "auto_execute_price": "100", "auto_execute_bps": "3"}, "auto_execute_bps"),
    ],
)
def test_malformed_requests_are_400_per_field(api_client, trader, body, field):
    r = api_client(trader).post("/api/rfqs/", body, format="json")
    assert r.status_code == 400 and field in r.json(), r.content
    assert Rfq.objects.count() == 0


def test_domain_refusals(api_client, trader, order, counterparties):
    r = api_client(trader).post("/api/rfqs/", {"order": order.pk, "quantity": "20000"}, format="json")
    assert r.status_code == 400 and "at most the unfilled" in r.json()["detail"]
    assert api_client(trader).post("/api/rfqs/", {"order": order.pk}, format="json").status_code == 201
    assert api_client(trader).post("/api/rfqs/", {"order": order.pk}, format="json").status_code == 409


def _quoting(trader, order):
    rfq = services.rfq_open(actor=trader, order_id=order.pk)
    services.rfq_disseminate(rfq_id=rfq.pk)
    inv = rfq.invitations.get(counterparty__name="Apex Markets")
    q = services.quote_submit(invitation_id=inv.pk, bid=None, ask=D("190.05"), size=D("10000"), validity_seconds=60)
    return rfq, q


def test_execute_and_refusals(api_client, trader, order, counterparties):
    rfq, q = _quoting(trader, order)
    client = api_client(trader)
    snap = client.get(f"/api/rfqs/{rfq.pk}/").json()
    assert [(r["quote"], r["provider"], r["price"], r["size"]) for r in snap["ladder"]] == [
        (q.pk, "Apex Markets", "190.05000000", "10000.00000000")
    ]
    assert set(snap["ladder"][0]) == {
        "id",
        "quote",
        "provider",
        "price",
        "size",
        "time_left",
        "received_at",
        "valid_until",
        "bps_from_mid",
    }
    assert client.post(f"/api/rfqs/{rfq.pk}/execute/", {"quote": "x"}, format="json").status_code == 400
    assert client.post(f"/api/rfqs/{rfq.pk}/execute/", {"quote": 999999}, format="json").status_code == 404
    r = client.post(f"/api/rfqs/{rfq.pk}/execute/", {"quote": q.pk}, format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["status"], body["outcome"], body["attempt"]) == (
        "EXECUTED",
        "FILLED",
        {"quote": q.pk, "accepted": True},
    )
    assert body["execution"]["price"] == "190.05000000" and body["execution"]["provider"] == "Apex Markets"
    again = client.post(f"/api/rfqs/{rfq.pk}/execute/", {"quote": q.pk}, format="json")
    assert again.status_code == 409 and again.json()["detail"] == f"RFQ {rfq.pk} is EXECUTED: it cannot be executed"


def test_counterparty_list_for_the_ticket(api_client, trader, pm, counterparties):
    rows = api_client(trader).get("/api/counterparties/").json()["results"]
    assert [r["name"] for r in rows] == sorted(counterparties)
    assert rows[0]["score"] == 0.5 and rows[0]["asset_classes"] == ["EQUITY", "OPTION", "CRYPTO"]
    assert api_client(pm).get("/api/counterparties/").status_code == 403
