from decimal import Decimal

import pytest

from sor.domain import estimate_cost, rationale


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (59.4, "59 s"), (60, "1 min"), (3_599, "59 min"), (3_600, "1 h 00 min"), (11_700, "3 h 15 min")],
)
def test_durations(seconds, text):
    assert rationale.duration_text(seconds) == text


@pytest.mark.parametrize(
    ("quantity", "text"), [(Decimal(1_500_000), "1,500,000"), (Decimal("0.125"), "0.125"), (2.5, "2.5")]
)
def test_quantities(quantity, text):
    assert rationale.quantity_text(quantity) == text


def test_the_rule_sentence_fills_its_template():
    assert rationale.rule_sentence("{participation_pct:.1f}% of ADV", {"participation_pct": 15}) == "15.0% of ADV"


def test_the_cost_sentence_names_every_part():
    cost = estimate_cost(quantity=1_000, price=100, adv=10_000_000, daily_vol=0.02, spread_bps=4, fee_bps=0.3)
    assert rationale.cost_sentence(cost) == (
        f"Estimated cost {cost.cost_bps:.1f} bps (half-spread 2.0, impact {cost.impact_bps:.1f}, fees 0.3) "
        f"= {cost.cost:,.2f}; timing risk 0.0 bps"
    )


def test_the_stored_rationale_says_the_rate_chosen_then_why_to_look_twice():
    said = rationale.decision_rationale(
        ["LOW urgency, so POV (target 12% of volume)", "Estimated cost 3.0 bps"],
        {"participation_rate": 0.35},
        default_matrix=True,
        fresh_market=False,
    )
    assert said == [
        "LOW urgency, so POV (at 35% of volume)",
        "Estimated cost 3.0 bps",
        rationale.DEFAULT_MATRIX_NOTE,
        rationale.STALE_MARKET_NOTE,
    ]
    assert rationale.decision_rationale(
        ["sweep (target 10% of volume) now"], {}, default_matrix=False, fresh_market=True
    ) == ["sweep now"]
