"""The query guard: at a realistic size (40,000 orders with their events, fills and
decisions, PostgreSQL's statistics up to date), every query the desk's lists and pages run
is planned without a sequential scan of a big table, and none of them counts the history.
The queries are the ones the real requests run (captured), explained as PostgreSQL would
run them; a request runs the same handful of queries whatever its page holds (no query per
row)."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from demo.history import BIG_TABLES, history_grow
from oms.models import Portfolio
from tests.conftest import postgres_only
from tests.factories import InstrumentFactory, PortfolioFactory

pytestmark = [postgres_only, pytest.mark.django_db]

ORDERS = 40_000
BIG = set(BIG_TABLES)  # executions are not in the bulk history (demo.history)


@pytest.fixture
def history(pm, pm2, trader, portfolio, portfolio2, aapl, btc, make_user):
    """A desk of 10 PMs with 20 portfolios and 10 instruments, and its history."""
    for n in range(8):
        owner = make_user(f"pm-{n}", "PM")
        for k in range(2):
            PortfolioFactory(name=f"Book {n}-{k}", owner=owner)
    PortfolioFactory(name="Beta", owner=pm)
    for n in range(8):
        InstrumentFactory(symbol=f"EQ{n}")
    from marketdata.models import Instrument

    portfolios = list(Portfolio.objects.order_by("id").values_list("id", "owner_id"))
    instruments = list(Instrument.objects.order_by("id").values_list("id", flat=True))
    with connection.cursor() as cursor:
        history_grow(cursor, start=0, end=ORDERS, portfolios=portfolios, instruments=instruments)
        for table in BIG_TABLES:
            cursor.execute(f"ANALYZE {table}")
    return {"pm": pm, "trader": trader, "portfolio": portfolio}


def _scans(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _scans(child)


def _explain(sql: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        raw = cursor.fetchone()[0]
    return (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]


def _guard(client, path: str, *, method: str = "get", body=None, max_queries: int = 12):
    """Run the request, then check the plan of every SELECT it ran."""
    with CaptureQueriesContext(connection) as ran:
        response = getattr(client, method)(path, body, format="json") if body else getattr(client, method)(path)
    assert response.status_code in (200, 201), (path, response.content[:300])
    selects = [q["sql"] for q in ran.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(ran.captured_queries) <= max_queries, (path, len(ran.captured_queries))
    for sql in selects:
        assert "COUNT(" not in sql.upper() or "oms_order" not in sql, f"{path} counts the history: {sql}"
        assert not sql.upper().startswith("SELECT DISTINCT"), f"{path}: DISTINCT sorts every match: {sql}"
        for node in _scans(_explain(sql)):
            if node["Node Type"] == "Seq Scan":
                assert node["Relation Name"] not in BIG, f"{path}: sequential scan of {node['Relation Name']}: {sql}"
    return response


def test_the_lists_and_pages_read_an_index_range_whatever_the_history(history, api_client, client):
    pm, trader, portfolio = history["pm"], history["trader"], history["portfolio"]
    as_pm, as_trader = api_client(pm), api_client(trader)
    for who in (as_pm, as_trader):
        first = _guard(who, "/api/orders/")
        assert len(first.json()["results"]) == 100
        _guard(who, first.json()["next"])
        _guard(who, "/api/orders/?status=CANCELLED")
        _guard(who, "/api/orders/?status=EXPIRED&side=SELL")
        _guard(who, "/api/orders/?status=FILLED&instrument=AAPL")
        _guard(who, "/api/orders/?instrument=EQ3")
        _guard(who, f"/api/orders/?portfolio={portfolio.pk}")
        _guard(who, "/api/orders/?urgency=HIGH&limit=500")
        _guard(who, "/api/executions/")
        _guard(who, "/api/positions/")
    _guard(as_trader, "/api/routing-decisions/")
    _guard(as_trader, "/api/routing-decisions/?kind=RECOMMENDATION&strategy=TWAP")
    an_order = first.json()["results"][-1]["id"]
    _guard(as_trader, f"/api/orders/{an_order}/")
    _guard(as_trader, f"/api/orders/{an_order}/recommendation/")
    order = {"portfolio": portfolio.pk, "instrument": "AAPL", "side": "BUY", "quantity": "10", "urgency": "LOW"}
    _guard(as_pm, "/api/orders/", method="post", body=order, max_queries=25)
    _guard(as_pm, "/api/pretrade/", method="post", body={k: order[k] for k in ("instrument", "side", "quantity")})

    client.force_login(trader)
    _guard(client, "/trader/")
    _guard(client, f"/orders/{an_order}/")
    client.force_login(pm)
    _guard(client, "/pm/", max_queries=20)
