"""Desk pages: each role sees its pages and is refused the others'."""

from decimal import Decimal as D

import pytest

from oms import services
from oms.models import Position

pytestmark = pytest.mark.django_db


def test_login_page(client):
    r = client.get("/accounts/login/")
    assert r.status_code == 200 and b'name="csrfmiddlewaretoken"' in r.content


def test_anonymous_is_sent_to_login(client):
    r = client.get("/pm/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(("who", "target"), [("pm", "/pm/"), ("trader", "/trader/"), ("admin_user", "/admin/")])
def test_home_sends_each_role_to_its_desk(client, request, who, target):
    client.force_login(request.getfixturevalue(who))
    assert client.get("/")["Location"] == target


def test_pm_desk_shows_own_orders_and_positions(client, pm, pm2, portfolio, portfolio2, aapl):
    services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(123))
    services.order_submit(actor=pm2, portfolio=portfolio2, instrument=aapl, side="BUY", quantity=D(777))
    Position.objects.create(portfolio=portfolio, instrument=aapl, quantity=D(10), average_cost=D("180"))
    client.force_login(pm)
    page = client.get("/pm/").content.decode()
    assert "Alpha" in page and "Growth" not in page
    assert ">123<" in page and ">777<" not in page
    assert "100.00" in page  # unrealised: (190 - 180) x 10


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        ("trader", "/pm/", 403),
        ("admin_user", "/pm/", 403),
        ("pm", "/trader/", 403),
        ("trader", "/trader/", 200),
        ("pm", "/market/", 200),
        ("pm", "/market/AAPL/", 200),
        ("pm", "/market/NOPE/", 404),
    ],
)
def test_page_roles(client, request, aapl, who, path, status):
    client.force_login(request.getfixturevalue(who))
    assert client.get(path).status_code == status


def test_order_detail_only_for_owner_or_desk(client, pm, pm2, trader, portfolio, aapl):
    order = services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(5))
    client.force_login(pm2)
    assert client.get(f"/orders/{order.pk}/").status_code == 404
    client.force_login(trader)
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "Audit trail" in page and "ACCEPT" in page


def test_error_pages_have_no_trace(client, pm):
    client.force_login(pm)
    r = client.get("/orders/99999/")
    assert r.status_code == 404 and b"Traceback" not in r.content


def test_order_page_shows_compliance_values_for_people(client, pm, portfolio, aapl):
    from decimal import Decimal

    from oms import services
    from oms.models import ComplianceRule

    ComplianceRule.objects.create(kind="MAX_ORDER_NOTIONAL", limit=Decimal("1000.0000000000000000"))
    order = services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=Decimal(10000))
    client.force_login(pm)
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert '<td class="num">1,000</td><td class="num">1,900,000</td>' in html
    assert "0000000" not in html.split("Rejected by compliance")[1].split("</table>")[0]
