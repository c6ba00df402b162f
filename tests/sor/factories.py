"""Plain inputs for the pure router tests (no database)."""

from decimal import Decimal

from core.vocabulary import EQUITY_SESSION_SECONDS
from sor.domain import SelectionInputs

DAY = EQUITY_SESSION_SECONDS  # 23,400 s


def liquid_stock(**overrides) -> SelectionInputs:
    """A liquid large cap: 10M shares a day, 3 bps spread, 1.8% daily vol, 2 dark pools."""
    fields = dict(
        side="BUY",
        quantity=Decimal(1_000),
        price=Decimal("100.00"),
        adv=Decimal(10_000_000),
        daily_vol=0.018,
        spread_bps=3.0,
        displayed_depth=Decimal(50_000),
        urgency="MEDIUM",
        asset_class="EQUITY",
        time_left_seconds=DAY,
        venue_count_dark=2,
    )
    fields.update(overrides)
    return SelectionInputs(**fields)


def illiquid_option(**overrides) -> SelectionInputs:
    """A 1,000-contract-a-day option, 350 bps wide, 5 contracts shown, 100 per contract."""
    fields = dict(
        side="BUY",
        quantity=Decimal(300),
        price=Decimal("2.40"),
        adv=Decimal(1_000),
        daily_vol=0.05,
        spread_bps=350.0,
        displayed_depth=Decimal(5),
        urgency="MEDIUM",
        asset_class="OPTION",
        time_left_seconds=DAY,
        multiplier=100,
    )
    fields.update(overrides)
    return SelectionInputs(**fields)
