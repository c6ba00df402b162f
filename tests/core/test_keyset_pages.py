"""Cursor pages of the lists that grow for years (core.api.KeysetPagination): newest first
by (created_at, id), the same rows in the same order page after page, none repeated or
skipped while orders arrive between pages, ties in time ordered by id, `previous` going
back exactly, and a bad cursor or an offset refused with a message."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from oms import services
from oms.models import Order

pytestmark = pytest.mark.django_db


def _submit(pm, portfolio, instrument, n=1):
    return [
        services.order_submit(actor=pm, portfolio=portfolio, instrument=instrument, side="BUY", quantity=D(1))
        for _ in range(n)
    ]


def _newest_first(qs):
    return list(qs.order_by("-created_at", "-id").values_list("id", flat=True))


def _walk(client, first_url, *, between=None):
    seen, url, pages = [], first_url, 0
    while url:
        body = client.get(url).json()
        assert "count" not in body and set(body) == {"next", "previous", "results"}
        seen += [row["id"] for row in body["results"]]
        url, pages = body["next"], pages + 1
        if between and url:
            between()
    return seen, pages


def test_pages_cover_the_history_once_while_orders_arrive(api_client, pm, portfolio, aapl):
    _submit(pm, portfolio, aapl, 23)
    expected = _newest_first(Order.objects.all())
    arrived = []

    seen, pages = _walk(
        api_client(pm), "/api/orders/?limit=5", between=lambda: arrived.extend(_submit(pm, portfolio, aapl, 2))
    )

    assert seen == expected and pages == 5  # 23 rows, 5 a page: no repeat, no gap
    assert len(arrived) == 8
    fresh = api_client(pm).get("/api/orders/?limit=5").json()["results"]
    assert [r["id"] for r in fresh] == [o.pk for o in reversed(arrived)][:5]  # they lead a new first page


def test_equal_times_are_ordered_by_id(api_client, trader, pm, portfolio, aapl):
    orders = _submit(pm, portfolio, aapl, 9)
    same = timezone.now() - timedelta(hours=1)
    Order.objects.filter(pk__in=[o.pk for o in orders[2:7]]).update(created_at=same)
    expected = _newest_first(Order.objects.all())

    seen, _ = _walk(api_client(trader), "/api/orders/?limit=2")

    assert seen == expected and len(set(seen)) == 9


def test_previous_goes_back_to_the_same_rows(api_client, pm, portfolio, aapl):
    _submit(pm, portfolio, aapl, 12)
    client = api_client(pm)
    first = client.get("/api/orders/?limit=4").json()
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()
    assert third["next"] is None and len(third["results"]) == 4
    back = client.get(third["previous"]).json()
    assert back["results"] == second["results"]
    assert client.get(back["previous"]).json()["results"] == first["results"]
    assert client.get(back["previous"]).json()["previous"] is None


def test_filters_and_visibility_hold_on_every_page(api_client, pm, pm2, portfolio, portfolio2, aapl, btc):
    _submit(pm, portfolio, aapl, 4)
    _submit(pm, portfolio, btc, 3)
    _submit(pm2, portfolio2, aapl, 5)
    mine, _ = _walk(api_client(pm), "/api/orders/?limit=2&instrument=AAPL")
    assert mine == _newest_first(Order.objects.filter(portfolio=portfolio, instrument=aapl))
    theirs, _ = _walk(api_client(pm2), "/api/orders/?limit=2")
    assert theirs == _newest_first(Order.objects.filter(portfolio=portfolio2))


@pytest.mark.parametrize(
    "cursor", ["nonsense", "eyJhdCI6IDF9", "", "eyJhdCI6ICIyMDI2LTAxLTAxIiwgImlkIjogMSwgImJhY2siOiBmYWxzZX0"]
)
def test_a_bad_cursor_is_a_400(api_client, pm, portfolio, aapl, cursor):
    _submit(pm, portfolio, aapl)
    r = api_client(pm).get(f"/api/orders/?cursor={cursor}")
    assert r.status_code == 400 and list(r.json()) == ["cursor"]


def test_an_offset_is_refused_with_the_way_to_page(api_client, pm, portfolio, aapl):
    r = api_client(pm).get("/api/orders/?offset=100")
    assert r.status_code == 400 and "next" in r.json()["offset"][0]


def test_executions_and_routing_decisions_page_by_cursor(api_client, trader, pm, portfolio, aapl):
    from sor.services import order_recommend

    for order in _submit(pm, portfolio, aapl, 5):
        order_recommend(order=order, actor=pm)
    from sor.models import RoutingDecision

    seen, pages = _walk(api_client(trader), "/api/routing-decisions/?limit=2")
    assert seen == _newest_first(RoutingDecision.objects.all()) and pages == 3
    assert set(api_client(trader).get("/api/executions/").json()) == {"next", "previous", "results"}
