"""The stored market history: every MARKETDATA_SAMPLE_SECONDS the publisher hands the
sampler the latest consolidated snapshot of each symbol and the sampler writes one
`MarketSample` row per symbol in one bulk insert. Post-trade analysis (tca) reads windows of
it through `marketdata.selectors.market_samples`; `market_samples_purge` keeps
MARKETDATA_SAMPLE_RETENTION_HOURS of it.

Sampling at a fixed interval rather than on every change keeps the cost flat whatever the
feed's rate (one row per symbol per second at the default), and a symbol whose book did not
change still gets its row, so a window read never has to look back for the last change."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from marketdata.models import Instrument, MarketSample

log = logging.getLogger(__name__)


def _price(value: float | None, places: int) -> Decimal | None:
    return None if value is None else Decimal(f"{value:.{places}f}")


class MarketSampler:
    """Collects the latest snapshot per symbol (`observe`) and writes one row per symbol when
    `due(now)` (`flush`). `interval` 0 switches sampling off. Not thread-safe: it lives in
    the one loop that owns the feed."""

    def __init__(self, grids: dict[str, tuple[int, int]], *, interval: float | None = None):
        self.grids = grids
        self.interval = settings.MARKETDATA_SAMPLE_SECONDS if interval is None else interval
        self.latest: dict = {}
        self.last_flush: float | None = None
        self.instrument_ids: dict[str, int] | None = None
        self.written = 0

    def observe(self, snapshots) -> None:
        for snap in snapshots:
            if snap.mid:
                self.latest[snap.symbol] = snap

    def due(self, now: float) -> bool:
        if self.interval <= 0 or not self.latest:
            return False
        return self.last_flush is None or now - self.last_flush >= self.interval

    def rows(self, now: float) -> list[MarketSample]:
        if self.instrument_ids is None:
            self.instrument_ids = dict(Instrument.objects.filter(symbol__in=self.grids).values_list("symbol", "id"))
        at = datetime.fromtimestamp(now, tz=UTC)
        rows = []
        for symbol, snap in self.latest.items():
            instrument_id = self.instrument_ids.get(symbol)
            if instrument_id is None:
                continue
            tick, lot = self.grids[symbol]
            rows.append(
                MarketSample(
                    instrument_id=instrument_id,
                    at=at,
                    mid=_price(snap.mid, tick + 1),
                    best_bid=_price(snap.best_bid, tick),
                    best_ask=_price(snap.best_ask, tick),
                    volume=_price(snap.volume, lot),
                )
            )
        return rows

    def flush(self, now: float) -> int:
        """Write this instant's rows (synchronous ORM: call it from a thread). A database
        error loses this one sample, never the publisher: the books keep flowing."""
        self.last_flush = now
        try:
            rows = self.rows(now)
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    # A sample is one second of history: losing the last few in a server
                    # crash costs nothing, waiting for the WAL flush on each costs the loop
                    # ~4x the insert (bench/market_samples.py).
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL synchronous_commit TO OFF")
                MarketSample.objects.bulk_create(rows, batch_size=500)
        except DatabaseError:
            log.warning("market sample at %.3f not stored", now, exc_info=True)
            connection.close_if_unusable_or_obsolete()
            return 0
        self.written += len(rows)
        return len(rows)


def market_samples_purge(*, now: datetime | None = None, retention_hours: float | None = None) -> int:
    """Delete samples older than the retention; returns how many. Idempotent."""
    hours = settings.MARKETDATA_SAMPLE_RETENTION_HOURS if retention_hours is None else retention_hours
    cutoff = (now or timezone.now()) - timedelta(hours=hours)
    deleted, _ = MarketSample.objects.filter(at__lt=cutoff).delete()
    return deleted
