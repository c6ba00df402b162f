"""Audit search and CSV export across all orders: filters, documented columns, and every
export audited."""

import csv
import io
import pathlib
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from core.models import ConsoleChange
from oms import audit, services
from oms.models import OrderEvent

pytestmark = pytest.mark.django_db
DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "console.md"


@pytest.fixture
def two_portfolios(books, pm2, portfolio2, aapl):
    other = services.order_submit(
        actor=pm2, portfolio=portfolio2, instrument=aapl, side="SELL", quantity=D(5), urgency="LOW"
    )
    return books[0], portfolio2, books[1], other


def _csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_the_columns_are_documented():
    doc = DOC.read_text()
    for column in audit.COLUMNS:
        assert f"`{column}`" in doc, column
    assert audit.__doc__ and all(column in audit.__doc__ for column in audit.COLUMNS)


def test_export_of_one_portfolio_has_its_rows_only_and_is_audited(console, two_portfolios, admin_user):
    mine, theirs, order, other = two_portfolios
    r = console.get("/admin/audit/export.csv", {"portfolio": mine.pk})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = _csv(r)
    assert list(rows[0]) == list(audit.COLUMNS)
    assert {row["portfolio_id"] for row in rows} == {str(mine.pk)}
    assert [row["event"] for row in rows] == ["SUBMIT", "ACCEPT", "PARTIAL_FILL", "FILL"]
    assert rows[2]["at_utc"].endswith("Z") and '"fill_id":"b1"' in rows[2]["payload"]
    assert int(r["X-Audit-Rows"]) == 4
    export = ConsoleChange.objects.get(action="EXPORT")
    assert export.actor == admin_user
    assert export.changes == {"filters": {"portfolio_id": str(mine.pk)}, "rows": 4}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (lambda p, q, o, x: {"user": x.created_by_id}, ["SUBMIT", "ACCEPT"]),
        (lambda p, q, o, x: {"event": "FILL"}, ["FILL"]),
        (lambda p, q, o, x: {"instrument": "AAPL", "portfolio": q.pk}, ["SUBMIT", "ACCEPT"]),
        (lambda p, q, o, x: {"instrument": "NOPE"}, None),
        (lambda p, q, o, x: {"start": (timezone.now() + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")}, []),
        (lambda p, q, o, x: {"end": (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")}, []),
    ],
)
def test_the_search_filters(console, two_portfolios, filters, expected):
    params = filters(*two_portfolios)
    page = console.get("/admin/audit/", params)
    assert page.status_code == 200
    if expected is None:  # an unknown instrument is a form error, not an empty answer
        assert "errornote" in page.content.decode()
        return
    assert [e.event for e in reversed(page.context["events"])] == expected
    assert [row["event"] for row in _csv(console.get("/admin/audit/export.csv", params))] == expected


def test_the_time_range_keeps_what_is_inside(console, two_portfolios):
    first = OrderEvent.objects.order_by("id").first()
    start = first.at - timedelta(seconds=1)
    params = {
        "start": start.strftime("%Y-%m-%d %H:%M:%S"),
        "end": (timezone.now() + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S"),
    }
    rows = _csv(console.get("/admin/audit/export.csv", params))
    assert len(rows) == OrderEvent.objects.count() == 6
