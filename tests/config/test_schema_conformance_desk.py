"""The OpenAPI schema describes what the desk's API does too (executions, the kill switch,
RFQs, market data, TCA): Schemathesis generates valid and invalid requests from /api/schema/ and
runs every check on each answer, as a trader and as a PM, against the real app (in-process WSGI, the
test database). The order and router endpoints have their own test (tests/oms)."""

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import CHECKS

from tests.schema import loaded_schema

DESK = r"^/api/(executions|killswitch|rfqs|instruments|marketdata|venues|tca)"


@pytest.fixture
def api_schema(db):
    with loaded_schema("400", "404", "409") as loaded:
        yield loaded


schema = schemathesis.pytest.from_fixture("api_schema")


def _token(user, pm, portfolio, aapl) -> str:
    from oms import services

    services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=100)
    return Token.objects.create(user=user).key


@pytest.fixture
def trader_token(pm, trader, portfolio, aapl):
    return _token(trader, pm, portfolio, aapl)


@pytest.fixture
def pm_token(pm, portfolio, aapl):
    """A PM may read executions and RFQs of their own orders only, and start none."""
    return _token(pm, pm, portfolio, aapl)


def _check(case, token):
    if re.match(DESK, case.operation.path):
        case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS.get_all())


EXAMPLES = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@schema.parametrize()
@EXAMPLES
def test_the_desk_api_conforms_to_its_schema_for_a_trader(case, trader_token):
    _check(case, trader_token)


@schema.parametrize()
@EXAMPLES
def test_the_desk_api_conforms_to_its_schema_for_a_pm(case, pm_token):
    _check(case, pm_token)
