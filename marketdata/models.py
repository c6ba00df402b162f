from decimal import Decimal

from django.db import models

from core.choices import AssetClass, OptionRight, VenueKind
from core.fields import PriceField, QuantityField

# The choices come from the one vocabulary; importing them from here keeps working.
__all__ = [
    "AssetClass",
    "Instrument",
    "MarketSample",
    "OptionRight",
    "SessionSource",
    "SessionStats",
    "Venue",
    "VenueKind",
]


class Venue(models.Model):
    name = models.CharField(max_length=32, unique=True)
    kind = models.CharField(max_length=8, choices=VenueKind.choices)
    maker_fee_bps = models.DecimalField(max_digits=8, decimal_places=3, default=Decimal("0"))
    taker_fee_bps = models.DecimalField(max_digits=8, decimal_places=3, default=Decimal("0"))
    latency_ms = models.DecimalField(max_digits=8, decimal_places=3, default=Decimal("1"))
    min_quantity = QuantityField(default=Decimal("0"), help_text="Minimum order size (dark pools).")
    # How this venue's simulated book compares with the market's typical spread and depth.
    spread_multiplier = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("1"))
    depth_multiplier = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("1"))
    dark_fill_rate = models.DecimalField(
        max_digits=5, decimal_places=4, default=Decimal("0"), help_text="Historical fill rate of resting dark orders."
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self):
        return self.name


class Instrument(models.Model):
    symbol = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=120, blank=True)
    asset_class = models.CharField(max_length=8, choices=AssetClass.choices)
    currency = models.CharField(max_length=3, default="USD")
    tick_size = PriceField()
    lot_size = QuantityField()
    reference_price = PriceField()
    multiplier = QuantityField(default=Decimal("1"))
    # Options
    underlying = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="options")
    strike = PriceField(null=True, blank=True)
    expiry = models.DateField(null=True, blank=True)
    option_right = models.CharField(max_length=1, choices=OptionRight.choices, blank=True)
    # Analytics: seeded, then recomputed from data by marketdata.tasks.analytics_refresh_all.
    adv = QuantityField(help_text="Average daily volume, in units.")
    daily_volatility = models.DecimalField(
        max_digits=10, decimal_places=6, help_text="Daily return volatility (0.02 = 2%)."
    )
    avg_spread_bps = models.DecimalField(max_digits=10, decimal_places=3, default=Decimal("0"))
    volume_profile = models.JSONField(default=list, blank=True, help_text="Fraction of the day's volume per bucket.")
    impact_coefficient = models.DecimalField(
        max_digits=8, decimal_places=4, default=Decimal("0.7"), help_text="Y in the square-root impact law."
    )
    analytics_updated_at = models.DateTimeField(null=True, blank=True)
    analytics_basis = models.JSONField(
        default=dict, blank=True, help_text="Per figure, which sessions the analytics used (marketdata.analytics rule)."
    )
    calendar = models.CharField(
        max_length=16,
        blank=True,
        help_text="Trading calendar (exchange-calendars code: XNYS, XNAS, XLON, 24/7); blank: by asset class.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["asset_class", "symbol"]
        constraints = [
            models.CheckConstraint(condition=models.Q(tick_size__gt=0), name="instrument_tick_positive"),
            models.CheckConstraint(condition=models.Q(lot_size__gt=0), name="instrument_lot_positive"),
        ]

    def __str__(self):
        return self.symbol

    @property
    def calendar_code(self) -> str:
        from marketdata.calendars import calendar_code

        return calendar_code(self.asset_class, self.calendar)


class SessionSource(models.TextChoices):
    SIMULATED = "SIMULATED", "Simulated history"
    RECORDED = "RECORDED", "Imported file"
    LIVE = "LIVE", "Live feed"


class SessionStats(models.Model):
    """One instrument's statistics for one trading session: the data the instrument's
    analytics (ADV, volatility, spread, volume profile) are computed from."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="sessions")
    session_date = models.DateField()
    open = PriceField()
    high = PriceField()
    low = PriceField()
    close = PriceField()
    volume = QuantityField()
    avg_spread_bps = models.DecimalField(
        max_digits=10,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="Mean consolidated spread; empty when no two-sided quotes were seen.",
    )
    # Decimal strings, one per equal time bucket of the session, summing to `volume`.
    bucket_volumes = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=10, choices=SessionSource.choices)
    origin = models.CharField(max_length=255, blank=True, help_text="The files or feed the session came from.")
    coverage = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("1"),
        help_text="Share of the trading day the data covers (first to last record, within the session).",
    )
    session_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="The session's length on its calendar."
    )
    used_for = models.JSONField(
        default=list, blank=True, help_text="The analytics figures this session fed at the last refresh."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["instrument", "-session_date"]
        verbose_name_plural = "session stats"
        constraints = [
            models.UniqueConstraint(fields=["instrument", "session_date"], name="session_stats_one_per_day"),
            models.CheckConstraint(condition=models.Q(volume__gte=0), name="session_stats_volume_non_negative"),
            models.CheckConstraint(
                condition=models.Q(coverage__gte=0, coverage__lte=1), name="session_stats_coverage_fraction"
            ),
        ]

    def __str__(self):
        return f"{self.instrument_id} {self.session_date}"


class MarketSample(models.Model):
    """The consolidated market of one instrument at one instant, written by the publisher
    every MARKETDATA_SAMPLE_SECONDS (marketdata.sampling): the stored history post-trade
    analysis reads (markouts, interval VWAP and TWAP, market volume), kept for
    MARKETDATA_SAMPLE_RETENTION_HOURS. `volume` is the session's cumulative traded volume,
    so the volume between two samples is their difference."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    mid = PriceField()
    best_bid = PriceField(null=True, blank=True)
    best_ask = PriceField(null=True, blank=True)
    volume = QuantityField()

    class Meta:
        ordering = ["instrument", "at"]
        # Every read is one instrument's window, and the purge is by time: one index each.
        indexes = [
            models.Index(fields=["instrument", "at"], name="market_sample_window"),
            models.Index(fields=["at"], name="market_sample_at"),
        ]

    def __str__(self):
        return f"{self.instrument_id} {self.at:%H:%M:%S} {self.mid}"
