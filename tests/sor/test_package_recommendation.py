"""The router recommends an RFQ for a package, with the rationale."""

from decimal import Decimal as D

import pytest

from oms.packages import LegInput, package_submit
from sor.domain.packages import PackageLegMarket, package_recommendation


def test_a_multi_leg_package_is_an_rfq_for_legging_risk_and_option_liquidity():
    legs = [
        PackageLegMarket("AAPL-270319-C-200", "OPTION", 500, 8000, 150),
        PackageLegMarket("AAPL-270319-P-200", "OPTION", 500, 7000, 180),
        PackageLegMarket("AAPL", "EQUITY", 1200, 55000000, 1.2, is_hedge=True),
    ]
    r = package_recommendation(legs, allow_leg_work=False)
    assert r["strategy"] == "RFQ" and r["parameters"]["execution_mode"] == "ALL_OR_NONE"
    text = " ".join(r["rationale"])
    assert "legging risk" in text
    assert "AAPL-270319-P-200, shows a 180 bps spread" in text
    assert "AAPL-270319-P-200, is 7.1% of its average daily volume" in text
    assert "delta hedge of 1200 AAPL" in text
    assert "did not allow working a leg alone" in text
    assert "may still start an execution" in " ".join(package_recommendation(legs, allow_leg_work=True)["rationale"])


@pytest.mark.django_db
def test_the_api_answers_the_packages_recommendation(api_client, pm, pm2, trader, portfolio, aapl_chain):
    legs = [LegInput(aapl_chain["C200"], "BUY", D(1)), LegInput(aapl_chain["P200"], "BUY", D(1))]
    package = package_submit(actor=pm, portfolio=portfolio, quantity=D(20), legs=legs, template="STRADDLE")
    r = api_client(trader).get(f"/api/packages/{package.pk}/recommendation/")
    assert r.status_code == 200 and r.json()["strategy"] == "RFQ"
    assert api_client(pm).get(f"/api/packages/{package.pk}/recommendation/").status_code == 200
    assert api_client(pm2).get(f"/api/packages/{package.pk}/recommendation/").status_code == 404
