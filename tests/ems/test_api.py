# ruff: noqa: F811  (pytest fixtures imported from tests.ems.fixtures are parameters here)
"""The execution API: roles, per-field 400s, the detail shape, controls, the kill switch."""

from decimal import Decimal as D

import pytest
from rest_framework.test import APIClient

from ems.models import Execution
from tests.ems.fixtures import demo, market, memory_streams, submit, users  # noqa: F401

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_pm_cannot_start_or_steer_an_execution(market):
    order = submit()
    pm, trader = users()
    response = client_for(pm).post("/api/executions/", {"order": order.pk}, format="json")
    assert response.status_code == 403
    assert Execution.objects.count() == 0
    assert client_for(pm).post("/api/killswitch/").status_code == 403


def test_bad_input_is_a_400_per_field_and_stores_nothing(market):
    _, trader = users()
    response = client_for(trader).post(
        "/api/executions/",
        {"order": "x", "strategy": "MAGIC", "parameters": {"horizon_seconds": -1, "colour": 1}},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"order", "strategy", "parameters"}
    assert Execution.objects.count() == 0


def test_trader_starts_reads_and_controls_an_execution(market, django_capture_on_commit_callbacks):
    order = submit(quantity="5000", urgency="LOW")
    _, trader = users()
    api = client_for(trader)
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post(
            "/api/executions/",
            {"order": order.pk, "strategy": "DARK", "parameters": {"horizon_seconds": 600}},
            format="json",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["order"] == order.pk
    assert body["strategy"] == "DARK"
    assert body["status"] == "RUNNING"
    assert body["parameters"]["horizon_seconds"] == 600.0
    assert D(body["quantity"]) == D("5000")
    assert {"children", "fills", "events", "schedule", "decision", "progress", "slippage_bps"} <= set(body)
    again = api.post("/api/executions/", {"order": order.pk}, format="json")
    assert again.json()["id"] == body["id"]
    listed = api.get("/api/executions/", {"status": "RUNNING", "instrument": "AAPL"}).json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]
    pause = api.post(f"/api/executions/{body['id']}/pause/")
    assert pause.status_code == 200 and pause.json()["status"] == "PAUSED"
    resume = api.post(f"/api/executions/{body['id']}/resume/")
    assert resume.json()["status"] == "RUNNING"
    cancel = api.post(f"/api/executions/{body['id']}/cancel/")
    assert cancel.status_code == 200
    assert cancel.json()["status"] == "CANCELLED"  # nothing was open: confirmed at once
    assert cancel.json()["order_status"] == "CANCELLED"
    assert api.post(f"/api/executions/{body['id']}/cancel/").status_code == 409


def test_a_pm_sees_only_executions_of_their_orders(market, make_user):
    order = submit()
    _, trader = users()
    client_for(trader).post("/api/executions/", {"order": order.pk, "strategy": "DIRECT"}, format="json")
    pm, _ = users()
    assert len(client_for(pm).get("/api/executions/").json()["results"]) == 1
    other = make_user("pm3", "PM")
    assert client_for(other).get("/api/executions/").json()["results"] == []
    assert client_for(other).get(f"/api/executions/{Execution.objects.get().pk}/").status_code == 404


def test_kill_switch_answers_how_many_it_stopped(market):
    order = submit()
    _, trader = users()
    client_for(trader).post("/api/executions/", {"order": order.pk, "strategy": "DARK"}, format="json")
    response = client_for(trader).post("/api/killswitch/")
    assert response.status_code == 200
    assert response.json() == {"stopped": 1}


def test_the_child_order_pacing_parameters_are_taken_exactly_and_checked(market):
    order = submit(quantity="5000")
    _, trader = users()
    api = client_for(trader)
    bad = api.post(
        "/api/executions/",
        {"order": order.pk, "strategy": "POV", "parameters": {"reprice_seconds": -1}},
        format="json",
    )
    assert bad.status_code == 400 and "reprice_seconds" in str(bad.json()["parameters"])
    response = api.post(
        "/api/executions/",
        {"order": order.pk, "strategy": "POV", "parameters": {"reprice_seconds": 10, "min_clip": "250"}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["parameters"]["reprice_seconds"] == 10.0
    assert response.json()["parameters"]["min_clip"] == "250"
