"""Rows -> the simulator's plain inputs: instruments and venues as specs, the simulator and
its feed over the active universe, and the decimal places of each instrument's grids."""

from datetime import date

from django.conf import settings
from django.utils import timezone

from core.decimals import decimal_places
from core.vocabulary import AssetClass, VenueKind
from marketdata.models import Instrument, Venue
from marketdata.sim import InstrumentSpec, MarketSimulator, SimParams, VenueSpec, WallClock
from marketdata.sim.pricing import years_to_expiry


def instrument_spec(row: Instrument, as_of: date | None = None) -> InstrumentSpec:
    """The simulator's view of an instrument; option expiry counts from `as_of` (today)."""
    option = row.asset_class == AssetClass.OPTION and row.underlying_id is not None
    years = None
    if option and row.expiry:
        years = years_to_expiry((row.expiry - (as_of or timezone.now().date())).days)
    return InstrumentSpec(
        symbol=row.symbol,
        asset_class=row.asset_class,
        reference_price=float(row.reference_price),
        tick_size=float(row.tick_size),
        lot_size=float(row.lot_size),
        adv=float(row.adv),
        daily_vol=float(row.daily_volatility),
        underlying=row.underlying.symbol if option else None,
        strike=float(row.strike) if option and row.strike else None,
        expiry_years=years,
        right=row.option_right or None,
        multiplier=float(row.multiplier),
    )


def venue_spec(row: Venue) -> VenueSpec:
    return VenueSpec(
        name=row.name,
        kind=row.kind,
        maker_fee_bps=float(row.maker_fee_bps),
        taker_fee_bps=float(row.taker_fee_bps),
        latency_ms=float(row.latency_ms),
        min_quantity=float(row.min_quantity),
        spread_mult=float(row.spread_multiplier),
        depth_mult=float(row.depth_multiplier),
        enabled=row.enabled,
    )


def build_simulator(
    seed: int | None = None, clock=None, params: SimParams | None = None, as_of: date | None = None
) -> MarketSimulator:
    """The market simulator over the active instruments and the lit and dark venues."""
    instruments = [
        instrument_spec(i, as_of) for i in Instrument.objects.filter(is_active=True).select_related("underlying")
    ]
    # Underlyings first, so options can price from them.
    instruments.sort(key=lambda s: s.underlying is not None)
    venues = [venue_spec(v) for v in Venue.objects.filter(kind__in=[VenueKind.LIT, VenueKind.DARK])]
    if params is None:
        params = SimParams(session_seconds=simulated_session_seconds())
    return MarketSimulator(
        instruments, venues, seed=settings.MARKETDATA_SEED if seed is None else seed, clock=clock, params=params
    )


def simulated_session_seconds() -> float:
    """The simulator's session: a regular session of the equity calendar (6.5 hours on XNYS)."""
    from marketdata import calendars

    return calendars.regular_session_seconds("XNYS")


def parse_feed(value: str) -> tuple[str, str | None, str | None]:
    """("simulator", None, None) or ("replay", trades, quotes) from a MARKETDATA_FEED value."""
    value = (value or "simulator").strip()
    if value == "simulator":
        return "simulator", None, None
    if value.startswith("replay:"):
        files = [part.strip() or None for part in value.removeprefix("replay:").split(",")]
        trades, quotes = (files + [None, None])[:2]
        if trades is None and quotes is None:
            raise ValueError("MARKETDATA_FEED=replay:<trades.csv>,<quotes.csv> needs at least one file")
        return "replay", trades, quotes
    raise ValueError(f"MARKETDATA_FEED={value!r}: use 'simulator' or 'replay:<trades.csv>,<quotes.csv>'")


def build_simulator_feed():
    """The feed the publisher runs: MARKETDATA_FEED chooses the simulator or a replay of
    recorded files (at MARKETDATA_REPLAY_SPEED), with the same pages, sockets and router on top."""
    from marketdata.feeds import ReplayFeed, SimulatorFeed

    kind, trades, quotes = parse_feed(settings.MARKETDATA_FEED)
    if kind == "replay":
        return ReplayFeed(trades, quotes, WallClock(speed=settings.MARKETDATA_REPLAY_SPEED))
    clock = WallClock()
    return SimulatorFeed(build_simulator(clock=clock), clock)


def instrument_grids() -> dict[str, tuple[int, int]]:
    """Per symbol, the decimal places of its prices and of its quantities."""
    return {
        i.symbol: (decimal_places(i.tick_size), decimal_places(i.lot_size))
        for i in Instrument.objects.filter(is_active=True)
    }
