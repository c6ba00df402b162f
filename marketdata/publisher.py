"""Feed -> cache + channel layer. Runs on the web server's event loop in the embedded mode
(config.asgi lifespan) and as `manage.py run_marketdata` in production.

Each published book carries a per-symbol sequence number; a client seeing a gap re-fetches
GET /api/marketdata/{symbol}/."""
import asyncio
import logging
import time
from collections import defaultdict
from datetime import date
from decimal import Decimal

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from marketdata.consumers import book_group
from marketdata.models import AssetClass, Instrument, Venue, VenueKind
from marketdata.selectors import snapshot_key

log = logging.getLogger(__name__)
CONSOLIDATED_LEVELS = 10


def instrument_spec(row: Instrument, as_of: date | None = None):
    """The simulator's view of an instrument; option expiry counts from `as_of` (today)."""
    from marketdata.sim import InstrumentSpec

    option = row.asset_class == AssetClass.OPTION and row.underlying_id is not None
    years = None
    if option and row.expiry:
        years = max((row.expiry - (as_of or timezone.now().date())).days, 1) / 365.0
    return InstrumentSpec(
        symbol=row.symbol, asset_class=row.asset_class, reference_price=float(row.reference_price),
        tick_size=float(row.tick_size), lot_size=float(row.lot_size), adv=float(row.adv),
        daily_vol=float(row.daily_volatility), underlying=row.underlying.symbol if option else None,
        strike=float(row.strike) if option and row.strike else None, expiry_years=years,
        right=row.option_right or None, multiplier=float(row.multiplier),
    )


def venue_spec(row: Venue):
    from marketdata.sim import VenueSpec

    return VenueSpec(
        name=row.name, kind=row.kind, maker_fee_bps=float(row.maker_fee_bps), taker_fee_bps=float(row.taker_fee_bps),
        latency_ms=float(row.latency_ms), min_quantity=float(row.min_quantity),
        spread_mult=float(row.spread_multiplier), depth_mult=float(row.depth_multiplier), enabled=row.enabled,
    )


def build_simulator(seed: int | None = None, clock=None, params=None, as_of: date | None = None):
    """The market simulator over the active instruments and the lit and dark venues."""
    from marketdata.sim import MarketSimulator

    instruments = [instrument_spec(i, as_of)
                   for i in Instrument.objects.filter(is_active=True).select_related("underlying")]
    # Underlyings first, so options can price from them.
    instruments.sort(key=lambda s: s.underlying is not None)
    venues = [venue_spec(v) for v in Venue.objects.filter(kind__in=[VenueKind.LIT, VenueKind.DARK])]
    return MarketSimulator(instruments, venues, seed=settings.MARKETDATA_SEED if seed is None else seed, clock=clock,
                           params=params)


def build_simulator_feed():
    from marketdata.feeds import SimulatorFeed
    from marketdata.sim import WallClock

    clock = WallClock()
    return SimulatorFeed(build_simulator(clock=clock), clock)


def _q(value: float, places: int) -> str:
    # The feed's prices and sizes already sit on the tick and lot grids: fixed-point
    # formatting gives the same string as a Decimal quantize, an order of magnitude faster.
    return f"{value:.{places}f}"


def book_payload(snap, tick: int, lot: int) -> dict:
    """A sim/replay Snapshot as the JSON consolidated book: decimals as strings with the tick's
    and lot's decimal places (`tick`, `lot`), per-venue depth, and the merged top levels."""
    venues, merged_bids, merged_asks = {}, defaultdict(float), defaultdict(float)
    best_bid = best_ask = None
    for name, book in snap.venues.items():
        venues[name] = {
            "bids": [[_q(p, tick), _q(q, lot)] for p, q in book.bids],
            "asks": [[_q(p, tick), _q(q, lot)] for p, q in book.asks],
        }
        for p, q in book.bids:
            merged_bids[p] += q
        for p, q in book.asks:
            merged_asks[p] += q
        if book.bids and (best_bid is None or book.bids[0][0] > best_bid[0]):
            best_bid = (book.bids[0][0], book.bids[0][1], name)
        if book.asks and (best_ask is None or book.asks[0][0] < best_ask[0]):
            best_ask = (book.asks[0][0], book.asks[0][1], name)
    level = lambda lv: {"price": _q(lv[0], tick), "size": _q(lv[1], lot), "venue": lv[2]} if lv else None  # noqa: E731
    spread_bps = None
    if best_bid and best_ask and snap.mid:
        spread_bps = round((best_ask[0] - best_bid[0]) / snap.mid * 1e4, 2)
    trade = snap.last_trade
    return {
        "symbol": snap.symbol,
        "ts": snap.ts,
        "published_at": time.time(),
        "mid": _q(snap.mid, tick + 1) if snap.mid else None,
        "best_bid": level(best_bid),
        "best_ask": level(best_ask),
        "spread_bps": spread_bps,
        "venues": venues,
        "consolidated": {
            "bids": [[_q(p, tick), _q(q, lot)] for p, q in sorted(merged_bids.items(), reverse=True)[:CONSOLIDATED_LEVELS]],
            "asks": [[_q(p, tick), _q(q, lot)] for p, q in sorted(merged_asks.items())[:CONSOLIDATED_LEVELS]],
        },
        "last_trade": None if trade is None else {
            "price": _q(trade.price, tick), "size": _q(trade.size, lot), "venue": trade.venue, "side": trade.side,
            "ts": trade.ts,
        },
        "volume": _q(snap.volume, lot),
    }


def decimal_places(step: Decimal) -> int:
    """The decimal places a tick or lot needs: 0.01000000 -> 2, 100 -> 0."""
    return max(0, -step.normalize().as_tuple().exponent)


def instrument_grids() -> dict[str, tuple[int, int]]:
    """Per symbol, the decimal places of its prices and of its quantities."""
    return {i.symbol: (decimal_places(i.tick_size), decimal_places(i.lot_size))
            for i in Instrument.objects.filter(is_active=True)}


class Publisher:
    def __init__(self, feed, grids: dict[str, tuple[int, int]], layer=None):
        self.feed, self.grids = feed, grids
        self.layer = layer or get_channel_layer()
        self.seq: dict[str, int] = defaultdict(int)

    async def publish_once(self) -> int:
        books = {}
        for snap in self.feed.poll():
            if snap.symbol not in self.grids:
                continue
            tick, lot = self.grids[snap.symbol]
            self.seq[snap.symbol] += 1
            books[snap.symbol] = {**book_payload(snap, tick, lot), "seq": self.seq[snap.symbol]}
        if books:
            await cache.aset_many({snapshot_key(s): b for s, b in books.items()}, timeout=None)
            for symbol, book in books.items():
                await self.layer.group_send(book_group(symbol), {"type": "book.update", "book": book})
        return len(books)


async def publish_forever(feed=None, interval: float | None = None):
    interval = settings.MARKETDATA_PUBLISH_INTERVAL if interval is None else interval
    if feed is None:
        feed = await database_sync_to_async(build_simulator_feed)()
    publisher = Publisher(feed, await database_sync_to_async(instrument_grids)())
    log.info("market data publisher started: %d instruments every %.2fs", len(publisher.grids), interval)
    while True:
        started = time.monotonic()
        try:
            await publisher.publish_once()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - one bad tick must not stop the market data
            log.exception("market data publish failed")
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))
