"""Reads of market data: the latest consolidated snapshot per instrument lives in the Django
cache (Redis in production), written by the publisher; rows hold reference data."""

import time
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache

from core.decimals import to_step
from marketdata.models import Instrument

SNAPSHOT_KEY = "md:snapshot:{symbol}"


def snapshot_key(symbol: str) -> str:
    return SNAPSHOT_KEY.format(symbol=symbol)


def latest_snapshot(symbol: str, *, now: float | None = None) -> dict | None:
    """The consolidated book last published for `symbol`, with its `age_seconds` at `now`
    (epoch seconds, default the wall clock), or None."""
    snap = cache.get(snapshot_key(symbol))
    if snap is None:
        return None
    now = time.time() if now is None else now
    return {**snap, "age_seconds": round(max(0.0, now - snap["published_at"]), 3)}


def latest_snapshots(symbols, *, now: float | None = None) -> dict[str, dict]:
    """`latest_snapshot` of several instruments in one cache round trip; those never
    published are missing from the answer."""
    keys = {snapshot_key(symbol): symbol for symbol in symbols}
    found = cache.get_many(list(keys))
    now = time.time() if now is None else now
    return {
        keys[key]: {**snap, "age_seconds": round(max(0.0, now - snap["published_at"]), 3)}
        for key, snap in found.items()
    }


def is_fresh(snapshot: dict | None, max_age: float | None = None) -> bool:
    if snapshot is None:
        return False
    return snapshot["age_seconds"] <= (settings.MARKETDATA_STALE_SECONDS if max_age is None else max_age)


def mid_price(instrument: Instrument) -> Decimal:
    """The fresh consolidated mid on the tick grid, else the instrument's reference price."""
    snap = latest_snapshot(instrument.symbol)
    if is_fresh(snap) and snap.get("mid"):
        return to_step(Decimal(snap["mid"]), instrument.tick_size)
    return instrument.reference_price


def session_end_of_day(instrument: Instrument, now: datetime | None = None) -> datetime:
    """End of day for an order in `instrument` working at `now` (default the wall clock):
    the close of its calendar's session open now, else of the next one, in UTC. Half days,
    holidays and daylight saving come from the calendar; a 24/7 market closes at 00:00 UTC."""
    from django.utils import timezone

    from marketdata import calendars

    return calendars.session_end(instrument.calendar_code, now or timezone.now())


def trading_day_seconds(instrument: Instrument, now: datetime | None = None) -> float:
    """The length of the instrument's trading day at `now`: its calendar's session open now,
    else the next one (6.5 hours on XNYS, 3.5 on a half day, 8.5 on XLON, 24 for crypto).
    The router's default horizon for an order without an end time."""
    from django.utils import timezone

    from marketdata import calendars

    return calendars.current_or_next_session(instrument.calendar_code, now or timezone.now()).seconds


def market_samples(instrument_id: int, start: datetime, end: datetime) -> list[dict]:
    """The stored samples of one instrument with start <= at <= end, oldest first, as plain
    rows {at, mid, best_bid, best_ask, volume} (one index range scan)."""
    from marketdata.models import MarketSample

    return list(
        MarketSample.objects.filter(instrument_id=instrument_id, at__gte=start, at__lte=end)
        .order_by("at")
        .values("at", "mid", "best_bid", "best_ask", "volume")
    )


def model_value(instrument: Instrument, *, spot: Decimal | None = None, today=None) -> tuple[Decimal, Decimal, Decimal]:
    """(price, delta, vega per vol point) per unit on the simulator's model: an option is
    priced by Black-Scholes from its underlying's mid (or `spot`), as the simulator quotes it;
    anything else is its mid with delta 1 and no vega."""
    if instrument.asset_class != "OPTION" or instrument.underlying_id is None:
        return mid_price(instrument), Decimal(1), Decimal(0)
    from django.utils import timezone

    from marketdata.sim import SimParams
    from marketdata.sim.pricing import option_model_value

    under = instrument.underlying
    spot = mid_price(under) if spot is None else spot
    today = today or timezone.now().date()
    price, delta, vega = option_model_value(
        float(spot),
        float(instrument.strike),
        (instrument.expiry - today).days,
        float(under.daily_volatility),
        instrument.option_right == "C",
        SimParams().trading_days_per_year,
    )
    places = Decimal("0.00000001")
    return (
        Decimal(repr(price)).quantize(places),
        Decimal(repr(delta)).quantize(places),
        Decimal(repr(vega)).quantize(places),
    )
