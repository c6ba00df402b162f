"""Every console change is recorded with old and new values, the user and the time, shown
on the object's history page and searchable."""

from decimal import Decimal as D

import pytest
from django.contrib.auth.models import User

from core.models import ConsoleChange
from oms.domain import compliance
from oms.models import ComplianceRule

pytestmark = pytest.mark.django_db


def _changes_of(obj):
    return list(
        ConsoleChange.objects.filter(object_id=str(obj.pk), object_repr=str(obj)).values_list(
            "action", "actor__username", "changes"
        )
    )


def test_a_rule_change_keeps_old_and_new(console):
    rule = ComplianceRule.objects.create(kind=compliance.PRICE_COLLAR, limit=D(10), name="collar")
    data = {"kind": rule.kind, "name": "collar", "limit": "12.5", "enabled": "on"}
    assert console.post(f"/admin/oms/compliancerule/{rule.pk}/change/", data).status_code == 302
    change = ConsoleChange.objects.get(object_id=str(rule.pk), content_type__model="compliancerule")
    assert (change.action, change.actor.username, change.changes) == ("CHANGE", "admin", {"Limit": ["10", "12.5"]})
    page = console.get(f"/admin/oms/compliancerule/{rule.pk}/history/").content.decode()
    assert '<td>Limit</td><td class="old">10</td><td class="new">12.5</td>' in page
    assert " UTC</td>" in page


def test_the_rule_list_edits_are_recorded_too(console):
    rule = ComplianceRule.objects.create(kind=compliance.PRICE_COLLAR, limit=D(10), name="collar")
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": rule.pk,
        "form-0-limit": "15",
        "form-0-enabled": "on",
        "_save": "Save",
    }
    assert console.post("/admin/oms/compliancerule/", data).status_code == 302
    change = ConsoleChange.objects.get(content_type__model="compliancerule")
    assert change.changes == {"Limit": ["10", "15"]}


def test_a_portfolio_change_keeps_old_and_new(console, portfolio, pm2):
    pm2.groups.add(*portfolio.owner.groups.all())
    data = {"name": "Alpha", "owner": pm2.pk, "base_currency": "USD", "borrow_allowed": "on"}
    assert console.post(f"/admin/oms/portfolio/{portfolio.pk}/change/", data).status_code == 302
    change = ConsoleChange.objects.get(content_type__model="portfolio")
    assert change.changes == {"Owner": ["pm", "pm2"], "Borrow allowed": ["False", "True"]}
    page = console.get(f"/admin/oms/portfolio/{portfolio.pk}/history/").content.decode()
    assert '<td>Owner</td><td class="old">pm</td><td class="new">pm2</td>' in page


def test_a_user_change_keeps_old_and_new_and_never_the_password(console, pm):
    data = {
        "username": "pm",
        "first_name": "Pat",
        "last_name": "",
        "email": "",
        "role": "Trader",
        "is_active": "on",
        "last_login_0": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    r = console.post(f"/admin/auth/user/{pm.pk}/change/", data)
    assert r.status_code == 302, r.content.decode()[-3000:]
    change = ConsoleChange.objects.get(content_type__model="user")
    assert change.changes == {"First name": ["-", "Pat"], "Role": ["PM", "Trader"]}
    pm = User.objects.get(pk=pm.pk)
    assert list(pm.groups.values_list("name", flat=True)) == ["Trader"]
    page = console.get(f"/admin/auth/user/{pm.pk}/history/").content.decode()
    assert '<td>Role</td><td class="old">PM</td><td class="new">Trader</td>' in page
    assert "pbkdf2" not in str(ConsoleChange.objects.values_list("changes", "summary"))


def test_the_console_changes_are_searchable(console):
    rule = ComplianceRule.objects.create(kind=compliance.PRICE_COLLAR, limit=D(10), name="collar")
    data = {"kind": rule.kind, "name": "collar", "limit": "11", "enabled": "on"}
    console.post(f"/admin/oms/compliancerule/{rule.pk}/change/", data)
    found = console.get("/admin/core/consolechange/", {"q": "Limit: 10 -> 11"}).content.decode()
    missing = console.get("/admin/core/consolechange/", {"q": "Limit: 10 -> 99"}).content.decode()
    assert "Limit: 10 -&gt; 11" in found and "0 console changes" in missing
    change = ConsoleChange.objects.get()
    assert console.get(f"/admin/core/consolechange/{change.pk}/delete/").status_code == 403


def test_numbers_show_with_the_currency_and_instrument_precision(console, books):
    portfolio, order = books
    portfolios = console.get("/admin/oms/portfolio/").content.decode()
    assert f"{portfolio.cash:,.2f}" in portfolios and str(portfolio.cash) not in portfolios
    positions = console.get("/admin/oms/position/").content.decode()
    assert '<span class="num">600</span>' in positions  # lot size 1
    assert "600.00000000" not in positions
    orders = console.get("/admin/oms/order/").content.decode()
    assert " UTC</td>" in orders


def test_every_app_admin_records_old_and_new(console):
    """Not only the OMS: a venue's fee edited in the console is recorded the same way."""
    from django.contrib import admin

    from core.admin import AuditedAdmin
    from tests.factories import VenueFactory

    assert all(isinstance(model_admin, AuditedAdmin) for model_admin in admin.site._registry.values())
    venue = VenueFactory(name="NEXA", taker_fee_bps=D("3.0"))
    form = console.get(f"/admin/marketdata/venue/{venue.pk}/change/").context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data["taker_fee_bps"] = "2.5"
    r = console.post(f"/admin/marketdata/venue/{venue.pk}/change/", data)
    assert r.status_code == 302, r.content.decode()[-2000:]
    change = ConsoleChange.objects.get(content_type__model="venue")
    assert change.changes == {"Taker fee bps": ["3", "2.5"]}
