"""Feed -> cache + channel layer. Runs on the web server's event loop in the embedded mode
(config.asgi lifespan) and as `manage.py run_marketdata` in production.

Each published book carries its symbol's sequence number from `core.sequence` (stream
`marketdata.groups.book_stream`): increasing across restarts and unique across publisher
processes. A client seeing a gap re-fetches GET /api/marketdata/{symbol}/. Rows become
simulator inputs in `marketdata.conversion`; books become JSON in `marketdata.wire`."""

import asyncio
import logging
import time
from collections.abc import Callable

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache

from core.sequence import next_sequence
from marketdata.conversion import build_simulator, build_simulator_feed, instrument_grids
from marketdata.groups import book_group, book_stream
from marketdata.sampling import MarketSampler
from marketdata.selectors import snapshot_key
from marketdata.wire import book_payload

# build_simulator and instrument_grids are imported from here by callers that predate the split.
__all__ = ["Publisher", "build_simulator", "instrument_grids", "publish_forever"]

log = logging.getLogger(__name__)


def book_sequences(symbols: list[str]) -> dict[str, int]:
    """The next sequence number of each symbol's book."""
    return {symbol: next_sequence(book_stream(symbol)) for symbol in symbols}


class Publisher:
    """`wall_clock` (epoch seconds) stamps each publication's `published_at`, from which
    readers tell a book's age. A `sampler` (marketdata.sampling) sees every publication and
    stores the market history at its own interval."""

    def __init__(
        self,
        feed,
        grids: dict[str, tuple[int, int]],
        layer=None,
        *,
        wall_clock: Callable[[], float] = time.time,
        sampler: MarketSampler | None = None,
    ):
        self.feed, self.grids = feed, grids
        self.layer = layer or get_channel_layer()
        self.wall_clock = wall_clock
        self.sampler = sampler
        self.seq: dict[str, int] = {}  # the last sequence number this publisher sent, per symbol

    async def publish_once(self) -> int:
        changed = [snap for snap in self.feed.poll() if snap.symbol in self.grids]
        if self.sampler is not None:
            # Before the early return: a quiet market still gets its sample.
            self.sampler.observe(changed)
            now = self.wall_clock()
            if self.sampler.due(now):
                # In this loop's sync thread, as every ORM call of the loop; flush keeps its
                # connection healthy itself (a long-lived loop is not a request).
                await sync_to_async(self.sampler.flush)(now)
        if not changed:
            return 0
        # One thread hop for all the cache round trips of this publication.
        sequences = await sync_to_async(book_sequences, thread_sensitive=False)([s.symbol for s in changed])
        published_at = self.wall_clock()
        books = {}
        for snap in changed:
            tick, lot = self.grids[snap.symbol]
            books[snap.symbol] = {
                **book_payload(snap, tick, lot, published_at=published_at),
                "seq": sequences[snap.symbol],
            }
        self.seq.update(sequences)
        await cache.aset_many({snapshot_key(s): b for s, b in books.items()}, timeout=None)
        for symbol, book in books.items():
            await self.layer.group_send(book_group(symbol), {"type": "book.update", "book": book})
        return len(books)


async def publish_forever(feed=None, interval: float | None = None):
    interval = settings.MARKETDATA_PUBLISH_INTERVAL if interval is None else interval
    if feed is None:
        feed = await database_sync_to_async(build_simulator_feed)()
    grids = await database_sync_to_async(instrument_grids)()
    publisher = Publisher(feed, grids, sampler=MarketSampler(grids))
    log.info("market data publisher started: %d instruments every %.2fs", len(publisher.grids), interval)
    venue = _venue_service(feed)
    while True:
        started = time.monotonic()
        try:
            if venue is not None:
                # Orders first, so the published books include them: this loop owns the simulator.
                await venue.astep()
            await publisher.publish_once()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("market data publish failed")
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))


def _venue_service(feed):
    """The simulated venue over this feed's simulator (marketdata.venue), when enabled."""
    simulator = getattr(feed, "simulator", None)
    if simulator is None or not getattr(settings, "EMS_VENUE_ENABLED", True):
        return None
    from core.streams import streams
    from marketdata.venue import VenueService

    # A venue in its own process (production) remembers its orders in Redis, across its restarts.
    own_process = not getattr(settings, "MARKETDATA_EMBEDDED", True)
    return VenueService(simulator, streams(), memory=streams() if own_process else None)
