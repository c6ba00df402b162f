"""Packages in the OMS: one parent order per leg linked by a package, the delta hedge, and
compliance on each leg and on the package as a whole, rejecting every leg together."""

import math
from decimal import Decimal as D

import pytest
from django.utils import timezone

from oms.domain import compliance
from oms.models import ComplianceRule, Order, OrderEvent, Package, PackageLeg
from oms.packages import LegInput, PackageInvalid, package_submit

pytestmark = pytest.mark.django_db


def bs(spot, strike, years, vol, call):
    """Black-Scholes written out here, independently of marketdata.sim.pricing."""
    n = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    d1 = (math.log(spot / strike) + 0.5 * vol * vol * years) / (vol * math.sqrt(years))
    d2 = d1 - vol * math.sqrt(years)
    if call:
        return spot * n(d1) - strike * n(d2), n(d1)
    return strike * n(-d2) - spot * n(-d1), n(d1) - 1


def model(option, spot=190.0):
    years = max((option.expiry - timezone.now().date()).days, 1) / 365
    return bs(spot, float(option.strike), years, 0.016 * math.sqrt(252), option.option_right == "C")


def straddle(chain, side="BUY"):
    return [LegInput(chain["C200"], side, D(1)), LegInput(chain["P200"], side, D(1))]


def test_a_straddle_with_a_hedge_is_one_order_per_leg_linked_by_the_package(pm, portfolio, aapl_chain, aapl):
    package = package_submit(
        actor=pm, portfolio=portfolio, quantity=D(50), legs=straddle(aapl_chain), hedge=True, template="STRADDLE"
    )
    legs = list(package.legs.select_related("order__instrument"))
    call, put = model(aapl_chain["C200"]), model(aapl_chain["P200"])
    net_delta = 50 * 100 * (call[1] + put[1])
    hedge = round(-net_delta)
    assert [(x.order.instrument.symbol, x.order.side, x.order.quantity, x.ratio, x.is_hedge) for x in legs] == [
        ("AAPL-270319-C-200", "BUY", D(50), D(1), False),
        ("AAPL-270319-P-200", "BUY", D(50), D(1), False),
        ("AAPL", "BUY" if hedge > 0 else "SELL", D(abs(hedge)), (D(abs(hedge)) / 50).quantize(D("1E-8")), True),
    ]
    assert {x.order.status for x in legs} == {"ACCEPTED"}
    # The package's model values are Black-Scholes on the underlying's mid, as computed here.
    assert float(legs[0].model_price) == pytest.approx(call[0], abs=1e-6)
    assert float(legs[1].model_price) == pytest.approx(put[0], abs=1e-6)
    assert float(package.net_premium) == pytest.approx(50 * 100 * (call[0] + put[0]), abs=0.01)
    assert abs(float(package.net_delta)) <= 0.5  # hedged to the share
    assert (package.side, package.template, package.quantity) == ("BUY", "STRADDLE", D(50))


def test_a_butterfly_sized_in_package_units(pm, portfolio, aapl_chain):
    legs = [
        LegInput(aapl_chain["C190"], "BUY", D(1)),
        LegInput(aapl_chain["C200"], "SELL", D(2)),
        LegInput(aapl_chain["C210"], "BUY", D(1)),
    ]
    ComplianceRule.objects.create(kind="SHORT_SELL")
    portfolio.borrow_allowed = True
    portfolio.save()
    package = package_submit(actor=pm, portfolio=portfolio, quantity=D(10), legs=legs, template="BUTTERFLY")
    assert [(x.order.quantity, x.order.side) for x in package.legs.select_related("order")] == [
        (D(10), "BUY"),
        (D(20), "SELL"),
        (D(10), "BUY"),
    ]


@pytest.mark.parametrize(
    ("kind", "limit"),
    [
        (compliance.PACKAGE_MAX_NET_VEGA, D("1000")),
        (compliance.PACKAGE_MAX_NET_PREMIUM, D("5000")),
        (compliance.PACKAGE_MAX_NET_DELTA, D("10")),
    ],
)
def test_a_package_breach_rejects_every_leg_together(pm, portfolio, aapl_chain, kind, limit):
    ComplianceRule.objects.create(kind=kind, portfolio=portfolio, limit=limit)
    package = package_submit(actor=pm, portfolio=portfolio, quantity=D(50), legs=straddle(aapl_chain)[:1])
    orders = [x.order for x in package.legs.select_related("order")]
    assert [o.status for o in orders] == ["REJECTED"]
    assert package.rejection_reasons[0]["rule"] == kind
    assert orders[0].rejection_reasons[0]["rule"] == kind
    two = package_submit(actor=pm, portfolio=portfolio, quantity=D(50), legs=straddle(aapl_chain))
    assert [x.order.status for x in two.legs.select_related("order")] == ["REJECTED", "REJECTED"]


def test_one_legs_breach_rejects_the_other_legs_too(pm, portfolio, aapl_chain):
    ComplianceRule.objects.create(kind=compliance.RESTRICTED, instrument=aapl_chain["P200"])
    package = package_submit(actor=pm, portfolio=portfolio, quantity=D(5), legs=straddle(aapl_chain))
    call, put = (x.order for x in package.legs.select_related("order").order_by("index"))
    assert (call.status, put.status) == ("REJECTED", "REJECTED")
    assert put.rejection_reasons[0]["rule"] == compliance.RESTRICTED
    assert call.rejection_reasons[0]["rule"] == "PACKAGE"
    assert "AAPL-270319-P-200 is on the restricted list" in call.rejection_reasons[0]["message"]
    assert not package.rejection_reasons  # the package-wide rules passed
    assert OrderEvent.objects.filter(order=call, event="REJECT").count() == 1


def test_within_the_limits_every_leg_is_accepted(pm, portfolio, aapl_chain):
    ComplianceRule.objects.create(kind=compliance.PACKAGE_MAX_NET_VEGA, portfolio=portfolio, limit=D("100000000"))
    package = package_submit(actor=pm, portfolio=portfolio, quantity=D(5), legs=straddle(aapl_chain))
    assert {x.order.status for x in package.legs.select_related("order")} == {"ACCEPTED"}


@pytest.mark.parametrize(
    ("legs", "template", "field"),
    [
        (lambda c: [LegInput(c["C200"], "BUY", D(2)), LegInput(c["P200"], "BUY", D(2))], "", "legs"),
        (lambda c: [LegInput(c["C200"], "BUY", D("1.5")), LegInput(c["P200"], "BUY", D(1))], "", "legs"),
        (lambda c: [LegInput(c["C200"], "BUY", D(1)), LegInput(c["C200"], "BUY", D(1))], "", "legs"),
        (lambda c: [LegInput(c["C200"], "BUY", D(1)), LegInput(c["P180"], "BUY", D(1))], "STRADDLE", "template"),
        (lambda c: [LegInput(c["C200"], "BUY", D(1)), LegInput(c["P200"], "SELL", D(1))], "STRADDLE", "template"),
    ],
)
def test_malformed_packages_store_nothing(pm, portfolio, aapl_chain, legs, template, field):
    with pytest.raises(PackageInvalid) as exc:
        package_submit(actor=pm, portfolio=portfolio, quantity=D(5), legs=legs(aapl_chain), template=template)
    assert field in exc.value.errors
    assert (Package.objects.count(), PackageLeg.objects.count(), Order.objects.count()) == (0, 0, 0)


def test_api_creates_a_package_and_reads_it_back(api_client, pm, trader, portfolio, aapl_chain):
    body = {
        "portfolio": portfolio.pk,
        "quantity": "20",
        "template": "RISK_REVERSAL",
        "legs": [
            {"instrument": "AAPL-270319-P-180", "side": "SELL", "ratio": "1"},
            {"instrument": "AAPL-270319-C-210", "side": "BUY", "ratio": "1"},
        ],
    }
    portfolio.borrow_allowed = True
    portfolio.save()
    r = api_client(pm).post("/api/packages/", body, format="json")
    assert r.status_code == 201, r.json()
    data = r.json()
    assert [o["status"] for o in data["orders"]] == ["ACCEPTED", "ACCEPTED"]
    assert [(o["instrument"], o["side"], o["quantity"]) for o in data["orders"]] == [
        ("AAPL-270319-P-180", "SELL", "20.00000000"),
        ("AAPL-270319-C-210", "BUY", "20.00000000"),
    ]
    assert api_client(trader).get(f"/api/packages/{data['id']}/").json()["status"] == "ACCEPTED"
    assert api_client(trader).post("/api/packages/", body, format="json").status_code == 403
    bad = api_client(pm).post("/api/packages/", {**body, "template": "STRADDLE"}, format="json")
    assert bad.status_code == 400 and "template" in bad.json()
    assert Package.objects.count() == 1
