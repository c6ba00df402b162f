"""Fixtures of the Django side of market data: venues for the simulator and a clean cache."""

from decimal import Decimal as D

import pytest


@pytest.fixture
def lit_venues(db):
    from marketdata.models import Venue

    return [
        Venue.objects.create(
            name=name, kind="LIT", taker_fee_bps=D(fee), spread_multiplier=D(spread), depth_multiplier=D(depth)
        )
        for name, fee, spread, depth in [
            ("NEXA", "3.0", "1.0", "1.4"),
            ("LUMA", "2.2", "1.1", "1.0"),
            ("ORBIT", "1.2", "1.3", "0.6"),
        ]
    ]


@pytest.fixture
def no_snapshots():
    """Forget cached books (in CI the cache is the shared Redis) before and after a test."""
    from django.core.cache import cache

    from marketdata.selectors import snapshot_key

    symbols = ["AAPL", "MSFT", "BTC-USD", "AAPL-270319-C-200"]
    cache.delete_many([snapshot_key(s) for s in symbols])
    yield
    cache.delete_many([snapshot_key(s) for s in symbols])
