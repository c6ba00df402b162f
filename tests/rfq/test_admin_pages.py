"""Counterparty curation in the admin console (Admin group only, audited) and the desk pages."""

import pytest
from django.test import Client

from rfq import services
from rfq.models import Counterparty, CounterpartyChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(admin_user):
    """The admin console needs staff status, as accounts.services gives every admin."""
    admin_user.is_staff = True
    admin_user.save()
    return admin_user


def logged_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_admin_list_shows_scorecard_columns_filters_and_search(admin_user, counterparties):
    c = logged_in(admin_user)
    r = c.get("/admin/rfq/counterparty/")
    assert r.status_code == 200
    html = r.content.decode().lower()
    for text in ["apex markets", "response rate", "hit ratio", "median response", "last-look rejections", "score"]:
        assert text in html
    assert "set tier 1" in html and "disable selected counterparties" in html
    filtered = c.get("/admin/rfq/counterparty/?asset_class=CRYPTO").content.decode()
    assert "Apex Markets" in filtered and "Cobalt Trading" in filtered and "Birch Capital" not in filtered
    searched = c.get("/admin/rfq/counterparty/?q=Dune").content.decode()
    assert "Dune Liquidity" in searched and "Apex Markets" not in searched
    detail = c.get(f"/admin/rfq/counterparty/{counterparties['Apex Markets'].pk}/change/").content.decode()
    assert "Requests received" in detail and "recent rfqs" in detail.lower()


def test_bulk_disable_and_set_tier_are_audited(admin_user, counterparties):
    c = logged_in(admin_user)
    ids = [counterparties["Apex Markets"].pk, counterparties["Birch Capital"].pk]
    r = c.post("/admin/rfq/counterparty/", {"action": "disable", "_selected_action": ids})
    assert r.status_code == 302
    assert list(Counterparty.objects.filter(pk__in=ids).values_list("enabled", flat=True)) == [False, False]
    c.post("/admin/rfq/counterparty/", {"action": "set_tier_3", "_selected_action": ids[:1]})
    assert Counterparty.objects.get(pk=ids[0]).tier == 3
    changes = list(
        CounterpartyChange.objects.exclude(action="create").values_list("actor__username", "action", "changes")
    )
    assert changes == [
        ("admin", "disable", {"enabled": [True, False]}),
        ("admin", "disable", {"enabled": [True, False]}),
        ("admin", "set tier", {"tier": [1, 3]}),
    ]


def test_admin_edit_form_is_audited(admin_user, counterparties):
    cp = counterparties["Dune Liquidity"]
    form = {
        "name": cp.name,
        "asset_classes": ["EQUITY", "CRYPTO"],
        "tier": "3",
        "enabled": "on",
        "max_notional": "75000000",
        "connection": cp.connection,
        "notes": "",
    }
    r = logged_in(admin_user).post(f"/admin/rfq/counterparty/{cp.pk}/change/", form)
    assert r.status_code == 302, r.content.decode()[:2000]
    ch = CounterpartyChange.objects.filter(counterparty=cp).last()
    assert ch.changes == {
        "asset_classes": [["EQUITY"], ["EQUITY", "CRYPTO"]],
        "max_notional": ["50000000.0000", "75000000"],
    }


@pytest.mark.parametrize("role", ["Trader", "PM"])
def test_only_admins_curate(make_user, counterparties, role):
    user = make_user(f"staff-{role}", role)
    user.is_staff = True
    user.save()
    c = logged_in(user)
    assert c.get("/admin/rfq/counterparty/").status_code == 403
    cp = counterparties["Apex Markets"]
    c.post("/admin/rfq/counterparty/", {"action": "disable", "_selected_action": [cp.pk]})
    cp.refresh_from_db()
    assert cp.enabled is True


def test_desk_pages(trader, pm, order, counterparties):
    c = logged_in(trader)
    ticket = c.get(f"/rfqs/new/{order.pk}/")
    assert ticket.status_code == 200 and "Send RFQ" in ticket.content.decode()
    assert "Request quotes" in c.get(f"/orders/{order.pk}/").content.decode()
    rfq = services.rfq_open(actor=trader, order_id=order.pk)
    assert c.get(f"/rfqs/{rfq.pk}/").status_code == 200
    assert f"#{rfq.pk}" in c.get("/rfqs/").content.decode()
    p = logged_in(pm)
    assert p.get(f"/rfqs/{rfq.pk}/").status_code == 403
    assert p.get(f"/rfqs/new/{order.pk}/").status_code == 403
    assert "Request quotes" not in p.get(f"/orders/{order.pk}/").content.decode()
