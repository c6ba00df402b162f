"""The admin console: rule edits are validated, and the history says old and new values."""

from decimal import Decimal as D

import pytest
from django.contrib.admin.models import LogEntry

from oms.domain import compliance
from oms.models import ComplianceRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(client, admin_user):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    return client


def _form(rule, **change):
    data = {
        "kind": rule.kind,
        "name": rule.name,
        "portfolio": "",
        "instrument": "",
        "limit": rule.limit,
        "enabled": "on",
    }
    return {k: v for k, v in {**data, **change}.items() if v is not None}


@pytest.mark.parametrize(
    ("kind", "limit", "error"),
    [
        (compliance.PRICE_COLLAR, "-5", "A limit cannot be negative."),
        (compliance.PRICE_COLLAR, "0", "This rule needs a limit above zero."),
        (compliance.MAX_POSITION, "-1", "A limit cannot be negative."),
        (compliance.FAT_FINGER_HARD, "", "This rule needs a limit."),
    ],
)
def test_invalid_limits_are_refused(console, kind, limit, error):
    rule = ComplianceRule.objects.create(kind=kind, limit=D(10))
    r = console.post(f"/admin/oms/compliancerule/{rule.pk}/change/", _form(rule, limit=limit))
    assert r.status_code == 200 and error in r.content.decode()
    rule.refresh_from_db()
    assert rule.limit == D(10)


def test_history_records_old_and_new_values(console):
    rule = ComplianceRule.objects.create(kind=compliance.PRICE_COLLAR, limit=D(10), name="collar")
    r = console.post(f"/admin/oms/compliancerule/{rule.pk}/change/", _form(rule, limit="12.5"))
    assert r.status_code == 302
    entry = LogEntry.objects.get(object_id=str(rule.pk))
    assert entry.get_change_message() == "Changed Limit: 10 -> 12.5."


def test_portfolio_history_records_old_and_new_values(console, portfolio):
    data = {
        "name": "Alpha Prime",
        "owner": portfolio.owner_id,
        "base_currency": portfolio.base_currency,
        "cash": portfolio.cash,
        "borrow_allowed": "on",
    }
    r = console.post(f"/admin/oms/portfolio/{portfolio.pk}/change/", data)
    assert r.status_code == 302, r.content.decode()[:2000]
    entry = LogEntry.objects.get(object_id=str(portfolio.pk))
    assert entry.get_change_message() == "Changed Name: Alpha -> Alpha Prime; Borrow allowed: False -> True."
