"""TCA of an order filled by an RFQ: every quote with its time, the chosen one and why,
price improvement against the mid and the second-best quote, leakage per provider against
the control window, markouts per counterparty, and the report's hit ratio per provider."""

import time
from decimal import Decimal as D

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from marketdata.models import MarketSample
from marketdata.selectors import snapshot_key
from rfq import services
from tca.services import tca_compute
from tests.rfq.conftest import at, counterparties, order  # noqa: F401

pytestmark = pytest.mark.django_db

PATH = [
    (-20, "189.90"),
    (-10, "189.95"),
    (0, "190.00"),
    (0.5, "190.02"),
    (1, "190.04"),
    (2, "190.05"),
    (61, "190.15"),
    (64, "190.20"),
]


@pytest.fixture
def rfq_filled(trader, order, counterparties):  # noqa: F811
    cache.set(snapshot_key("AAPL"), {"mid": "190.00", "published_at": time.time()})
    for seconds, mid in PATH:
        MarketSample.objects.create(instrument=order.instrument, at=at(seconds), mid=D(mid), volume=D(0))
    rfq = services.rfq_open(actor=trader, order_id=order.pk, now=at(0))
    services.rfq_disseminate(rfq_id=rfq.pk, now=at(0))

    def quote(name, ask, t):
        invitation = rfq.invitations.get(counterparty__name=name)
        return services.quote_submit(
            invitation_id=invitation.pk, bid=None, ask=D(ask), size=D("10000"), validity_seconds=5.0, now=at(t)
        )

    best = quote("Apex Markets", "190.05", 0.5)
    quote("Birch Capital", "190.12", 1.0)
    assert services.rfq_execute(actor=trader, rfq_id=rfq.pk, quote_id=best.pk, now=at(2)).accepted
    order.refresh_from_db()
    assert order.status == "FILLED"
    return order, rfq


def test_the_rfq_record_improvement_leakage_and_markouts(rfq_filled, trader):
    filled, rfq = rfq_filled
    stored = tca_compute(order_id=filled.pk, now=at(200))
    assert stored is not None and stored.strategy == "RFQ"
    client = APIClient()
    client.force_authenticate(trader)
    body = client.get(f"/api/tca/{filled.pk}/").json()
    [record] = body["rfqs"]
    assert [(q["provider"], q["price"], q["after_seconds"], q["chosen"]) for q in record["quotes"]] == [
        ("Apex Markets", "190.05000000", 0.5, True),
        ("Birch Capital", "190.12000000", 1.0, False),
    ]
    assert record["reason"] == "chosen by the trader"
    # (190.00 - 190.05) / 190.00 and (190.12 - 190.05) / 190.12, as rfq stored them
    assert (record["improvement_vs_mid_bps"], record["improvement_vs_second_bps"]) == ("-2.63", "3.68")
    leak = {r["provider"]: r for r in record["leakage"]["providers"]}
    # Apex: 190.00 -> 190.02 in 0.5 s (+1.05) against 189.95 -> 190.00 before (+2.63)
    assert (
        leak["Apex Markets"]["move_bps"],
        leak["Apex Markets"]["control_bps"],
        leak["Apex Markets"]["leakage_bps"],
    ) == ("1.05", "2.63", "-1.58")
    assert leak["Birch Capital"]["leakage_bps"] == "-0.52"  # +2.11 in 1 s against +2.63
    assert record["leakage"]["execution"]["leakage_bps"] == "0.00"  # +2.63 in 2 s against +2.63
    # Filled at the mid of its instant: no spread; the mid's move since the request is timing.
    assert body["shortfall"]["parts"]["spread"] == "0.00" and body["shortfall"]["parts"]["timing"] == "500.00"
    assert body["benchmarks"]["arrival"] == "190.00000000"
    # +60 s: 190.15 against the 190.05 paid
    assert body["markouts"]["by_counterparty"] == {"Apex Markets": {"1": "0.00", "10": "0.00", "60": "5.26"}}

    day = at(0).date().isoformat()
    groups = client.get("/api/tca/report/", {"start": day, "end": day}).json()["groups"]
    providers = {g["key"]: g for g in groups if g["dimension"] == "counterparty"}
    assert (
        providers["Apex Markets"]["rfq_hit_ratio"] == "1.0000"
        and providers["Birch Capital"]["rfq_hit_ratio"] == "0.0000"
    )
    assert providers["Apex Markets"]["mean_improvement_vs_second_bps"] == "3.68"
    assert next(g for g in groups if g["dimension"] == "strategy")["key"] == "RFQ"
    assert next(g for g in groups if g["dimension"] == "venue")["key"] == "RFQ Apex Markets"


def test_scorecards_take_markouts_and_leakage_from_tca(rfq_filled):
    from tca.selectors import execution_quality_by_party

    filled, _ = rfq_filled
    tca_compute(order_id=filled.pk, now=at(200))
    quality = execution_quality_by_party(at(-3600), at(3600))
    assert quality["counterparty"]["Apex Markets"] == {
        "orders": 1,
        "leakage_bps": "-1.58",
        "markout_10s_bps": "0.00",
        "markout_1s_bps": "0.00",
        "markout_60s_bps": "5.26",
    }
    assert quality["counterparty"]["Birch Capital"] == {"orders": 1, "leakage_bps": "-0.52"}
    assert quality["venue"]["RFQ Apex Markets"]["markout_60s_bps"] == "5.26"
    assert execution_quality_by_party(at(3600), at(7200)) == {"venue": {}, "counterparty": {}}
