"""The OpenAPI schema describes what the order and router API does: Schemathesis generates
valid and invalid requests from /api/schema/ and runs every check on each answer against
the real app (in-process WSGI, the test database)."""

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import CHECKS

from tests.schema import loaded_schema

# The endpoints of the OMS and the router (marketdata's are outside this test).
OURS = r"^/api/(orders|portfolios|positions|pretrade|routing-decisions)"


@pytest.fixture
def api_schema(db):
    with loaded_schema("400") as loaded:
        yield loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def pm_token(pm, portfolio, aapl):
    from oms import services

    services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=100)
    return Token.objects.create(user=pm).key


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_schema(case, pm_token):
    if not re.match(OURS, case.operation.path):
        return  # the desk's endpoints: tests/config/test_schema_conformance_desk.py
    case.call_and_validate(headers={"Authorization": f"Token {pm_token}"}, checks=CHECKS.get_all())


def test_a_system_event_has_a_null_actor_and_the_schema_allows_it(api_client, pm, portfolio, aapl):
    from oms import services

    order = services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=100)
    services.order_expire(order_id=order.pk)  # the system acts: no actor
    events = api_client(pm).get(f"/api/orders/{order.pk}/").json()["events"]
    assert [e["actor"] for e in events] == ["pm", "pm", None]
    schema = api_client().get("/api/schema/?format=json").json()
    actor = schema["components"]["schemas"]["OrderEvent"]["properties"]["actor"]
    assert actor.get("nullable") is True
