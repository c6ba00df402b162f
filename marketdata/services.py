"""Writes of market data: reference data (venues, instruments, option reference prices),
session statistics (simulated history and recorded files) and the instrument analytics
computed from them (formulas in `marketdata.analytics`)."""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from django.db import models, transaction
from django.utils import timezone

from core.decimals import decimal_places, to_step
from core.locks import lock_all, lock_one
from core.vocabulary import EQUITY_SESSION_SECONDS, AssetClass, OptionRight, VenueKind, parse_enum
from marketdata import analytics
from marketdata.analytics import SessionAccumulator, SessionFigures
from marketdata.models import Instrument, SessionSource, SessionStats, Venue

log = logging.getLogger(__name__)

ANALYTICS_SESSIONS = 20
SESSION_SECONDS = EQUITY_SESSION_SECONDS  # 6.5 hours, as the simulator's sessions
SESSION_BUCKETS = 13  # half-hour buckets
# Simulated history: coarse steps keep 20 sessions of the demo universe around a second or
# two; every SAMPLE_SECONDS the books are read once (volume, last trade, spread).
BACKFILL_STEP_SECONDS = 60.0
BACKFILL_SAMPLE_SECONDS = 300.0
US_EQUITY_OPEN_UTC = time(14, 30)


# ----------------------------------------------------------------------------- reference data


def _field_values(model: type[models.Model], row: dict, key: str) -> dict:
    """A plain-data row as model field values: decimals from strings (or ints, Decimals;
    floats are refused, they are not exact), unknown keys refused."""
    fields = {f.name: f for f in model._meta.concrete_fields}
    values = {}
    for name, value in row.items():
        field_ = fields.get(name)
        if field_ is None or field_.primary_key:
            raise ValueError(f"{model.__name__} {row.get(key)!r}: unknown field {name!r}")
        if isinstance(field_, models.DecimalField) and value is not None:
            if isinstance(value, float):
                raise ValueError(f"{model.__name__} {row.get(key)!r}: {name} must be a string or Decimal, not a float")
            value = Decimal(value)
        values[name] = value
    return values


@transaction.atomic
def venues_seed(*, rows: list[dict]) -> dict[str, Venue]:
    """Create or update venues by name. Each row holds `name` and any other Venue fields
    (`kind` "LIT", "DARK" or "RFQ"; fees, latency, minimum and multipliers as decimal
    strings); fields a row leaves out keep their stored (or default) values."""
    venues = {}
    for row in rows:
        values = _field_values(Venue, row, "name")
        name = values.pop("name")
        if "kind" in values:
            values["kind"] = parse_enum(VenueKind, values["kind"], f"venue {name!r}: kind")
        venues[name], _ = Venue.objects.update_or_create(name=name, defaults=values)
    return venues


@transaction.atomic
def instruments_seed(*, rows: list[dict]) -> dict[str, Instrument]:
    """Create or update instruments by symbol. Each row holds `symbol` and any other
    Instrument fields (decimals as strings, `expiry` a date); an option's `underlying` is
    the symbol of an instrument of these rows or already stored. Rows without an
    underlying are written first. Returns every seeded instrument by symbol."""
    instruments: dict[str, Instrument] = {}
    for row in sorted(rows, key=lambda r: r.get("underlying") is not None):
        values = _field_values(Instrument, {k: v for k, v in row.items() if k != "underlying"}, "symbol")
        symbol = values.pop("symbol")
        if "asset_class" in values:
            values["asset_class"] = parse_enum(AssetClass, values["asset_class"], f"{symbol}: asset_class")
        if values.get("option_right"):
            values["option_right"] = parse_enum(OptionRight, values["option_right"], f"{symbol}: option_right")
        if "underlying" in row:
            under = row["underlying"]
            values["underlying"] = (
                None if under is None else (instruments.get(under) or Instrument.objects.get(symbol=under))
            )
        instruments[symbol], _ = Instrument.objects.update_or_create(symbol=symbol, defaults=values)
    return instruments


@transaction.atomic
def option_reference_prices_refresh(*, today: date | None = None) -> int:
    """Set every active option's reference price to the model price the simulator quotes at
    the open: Black-Scholes from the underlying's reference price, with
    years = max(days to expiry, 1) / 365 and vol = the underlying's daily volatility *
    sqrt(trading days per year), rounded to the option's tick (never below one tick, the
    simulator's floor). Returns the number of options updated."""
    from marketdata.sim import SimParams
    from marketdata.sim.pricing import option_model_price

    today = today or timezone.now().date()
    trading_days = SimParams().trading_days_per_year
    options = lock_all(
        Instrument.objects.select_related("underlying").filter(
            is_active=True,
            asset_class=AssetClass.OPTION,
            underlying__isnull=False,
            strike__isnull=False,
            expiry__isnull=False,
        )
    )
    updated = []
    for option in options:
        under = option.underlying
        value = option_model_price(
            float(under.reference_price),
            float(option.strike),
            (option.expiry - today).days,
            float(under.daily_volatility),
            option.option_right == OptionRight.CALL,
            trading_days,
        )
        option.reference_price = max(to_step(Decimal(repr(value)), option.tick_size), option.tick_size)
        updated.append(option)
    Instrument.objects.bulk_update(updated, ["reference_price"])
    return len(updated)


# ----------------------------------------------------------------------------- analytics


@transaction.atomic
def analytics_refresh(*, instrument: Instrument, sessions: int = ANALYTICS_SESSIONS) -> bool:
    """Recompute ADV, daily volatility, average spread and the intraday volume profile from
    the instrument's last `sessions` sessions. Figures the data cannot support (no
    sessions at all; volatility from fewer than three sessions; spread without quotes)
    keep their previous values. Returns whether the instrument had sessions."""
    locked = lock_one(Instrument, instrument.pk)
    rows = list(SessionStats.objects.filter(instrument=locked).order_by("-session_date")[:sessions])
    if not rows:
        return False
    figures = analytics.instrument_analytics([_figures(row) for row in reversed(rows)])
    locked.adv = _on_grid(figures.adv, locked.lot_size)
    if figures.daily_volatility is not None:
        locked.daily_volatility = figures.daily_volatility
    if figures.avg_spread_bps is not None:
        locked.avg_spread_bps = figures.avg_spread_bps
    # Decimal strings: JSON carries decimals as strings, and these sum to exactly 1.
    locked.volume_profile = [str(share) for share in figures.volume_profile]
    locked.analytics_updated_at = timezone.now()
    locked.save(update_fields=["adv", "daily_volatility", "avg_spread_bps", "volume_profile", "analytics_updated_at"])
    return True


def _figures(row: SessionStats) -> SessionFigures:
    return SessionFigures(
        row.open, row.high, row.low, row.close, row.volume, row.avg_spread_bps, [Decimal(v) for v in row.bucket_volumes]
    )


def _on_grid(value: Decimal, step: Decimal) -> Decimal:
    """`value` rounded to a multiple of `step`, written with the step's decimals (100, 0.25)."""
    return to_step(value, step).quantize(Decimal(1).scaleb(-decimal_places(step)))


def _stats_fields(figures: SessionFigures, instrument: Instrument, source: str) -> dict:
    tick, lot = instrument.tick_size, instrument.lot_size
    return dict(
        open=_on_grid(figures.open, tick),
        high=_on_grid(figures.high, tick),
        low=_on_grid(figures.low, tick),
        close=_on_grid(figures.close, tick),
        volume=_on_grid(figures.volume, lot),
        avg_spread_bps=figures.avg_spread_bps,
        bucket_volumes=[str(_on_grid(v, lot)) for v in figures.bucket_volumes],
        source=source,
    )


# ----------------------------------------------------------------------------- simulated history


def trading_days_before(day: date, count: int) -> list[date]:
    """The `count` weekdays before `day`, oldest first (holidays are not modelled)."""
    days, cursor = [], day
    while len(days) < count:
        cursor -= timedelta(days=1)
        if cursor.weekday() < 5:
            days.append(cursor)
    return days[::-1]


def session_stats_backfill(
    *, sessions: int = ANALYTICS_SESSIONS, today: date | None = None, seed: int | None = None
) -> int:
    """Simulate the `sessions` trading days before `today` in virtual time and store the
    statistics of every (instrument, day) that has none yet; recorded sessions are never
    overwritten. The simulator draws volume from each instrument's ADV and prices from its
    volatility, so analytics refreshed from these sessions land near those inputs. Same
    seed, same instruments: same history. Returns the number of sessions created."""
    from marketdata.conversion import build_simulator
    from marketdata.sim import SimParams

    days = trading_days_before(today or timezone.now().date(), sessions)
    instruments = {i.symbol: i for i in Instrument.objects.filter(is_active=True)}
    have = set(
        SessionStats.objects.filter(instrument__in=instruments.values(), session_date__in=days).values_list(
            "instrument_id", "session_date"
        )
    )
    if all((i.pk, d) in have for i in instruments.values() for d in days):
        return 0
    simulator = build_simulator(seed=seed, params=SimParams(step_seconds=BACKFILL_STEP_SECONDS), as_of=days[0])
    session_seconds = simulator.params.session_seconds
    ticks = {symbol: instrument.tick_size for symbol, instrument in instruments.items()}
    samples = round(session_seconds / BACKFILL_SAMPLE_SECONDS)
    rows = []
    for index, day in enumerate(days):
        opened = index * session_seconds
        sessions_today = {s: SessionAccumulator(session_seconds, SESSION_BUCKETS) for s in simulator.symbols}
        traded_before = dict.fromkeys(simulator.symbols, Decimal(0))
        for sample in range(1, samples + 1):
            simulator.advance_to(opened + sample * BACKFILL_SAMPLE_SECONDS)
            # Volume traded since the last sample is booked at the middle of the interval.
            offset = (sample - 0.5) * BACKFILL_SAMPLE_SECONDS
            for symbol, accumulator in sessions_today.items():
                snap = simulator.snapshot(symbol)
                traded = Decimal(repr(snap.volume))
                price = snap.last_trade.price if snap.last_trade is not None else snap.mid
                # A worthless option trades at the simulator's floor, one tick (its prints on
                # an empty bid side can read 0).
                price = max(Decimal(repr(price)) if price == price else Decimal(0), ticks[symbol])
                accumulator.trade(offset, price, max(Decimal(0), traded - traded_before[symbol]))
                traded_before[symbol] = traded
                if snap.best_bid is not None and snap.best_ask is not None:
                    accumulator.quote(Decimal(repr(snap.best_bid)), Decimal(repr(snap.best_ask)))
        for symbol, accumulator in sessions_today.items():
            instrument = instruments[symbol]
            if (instrument.pk, day) in have:
                continue
            rows.append(
                SessionStats(
                    instrument=instrument,
                    session_date=day,
                    **_stats_fields(accumulator.figures(), instrument, SessionSource.SIMULATED),
                )
            )
    # A concurrent backfill may have stored some of these meanwhile: theirs stand.
    SessionStats.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


@transaction.atomic
def market_history_seed(*, sessions: int = ANALYTICS_SESSIONS, today: date | None = None) -> dict[str, int]:
    """Demo set-up: simulated history for the days that have none, then the analytics of
    every active instrument from its sessions (what the scheduled refresh also does)."""
    created = session_stats_backfill(sessions=sessions, today=today)
    active = Instrument.objects.filter(is_active=True)
    refreshed = sum(analytics_refresh(instrument=instrument, sessions=sessions) for instrument in active)
    return {"sessions_created": created, "instruments_refreshed": refreshed}


# ----------------------------------------------------------------------------- recorded files


@dataclass
class ImportResult:
    sessions: int = 0
    trades: int = 0
    quotes: int = 0
    unknown_symbols: set[str] = field(default_factory=set)
    instruments: list[Instrument] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SessionCalendar:
    """Where recorded rows fall: ISO-8601 timestamps by their UTC date, the session opening
    at `open_utc` that day; seconds timestamps count from the open of `first_date`, sessions
    back to back as in the simulator, one per weekday."""

    open_utc: time = US_EQUITY_OPEN_UTC
    session_seconds: float = SESSION_SECONDS
    first_date: date | None = None

    def locate(self, raw: str) -> tuple[date, float]:
        """(session date, seconds since that session's open) of a `ts` cell."""
        text = raw.strip()
        try:
            seconds = float(text)
        except ValueError:
            moment = datetime.fromisoformat(text)
            utc = UTC
            moment = moment.replace(tzinfo=utc) if moment.tzinfo is None else moment.astimezone(utc)
            opened = datetime.combine(moment.date(), self.open_utc, tzinfo=UTC)
            return moment.date(), (moment - opened).total_seconds()
        if self.first_date is None:
            raise ValueError("timestamps in seconds need the date of the first session")
        index = math.floor(seconds / self.session_seconds)
        day = self.first_date
        for _ in range(index):
            day += timedelta(days=1)
            while day.weekday() >= 5:
                day += timedelta(days=1)
        return day, seconds - index * self.session_seconds


def _decimal(text: str) -> Decimal | None:
    return Decimal(text) if text else None


@transaction.atomic
def session_stats_import(
    *,
    trades_csv: str | Path | None,
    quotes_csv: str | Path | None,
    calendar: SessionCalendar | None = None,
    buckets: int = SESSION_BUCKETS,
) -> ImportResult:
    """Turn recorded trades and quotes (the replay feed's CSV files, columns documented in
    `marketdata.feeds.replay`) into session statistics, replacing any stored for the same
    (instrument, day). Volume, OHLC and buckets come from the trades; the average spread
    is the mean, over every top-of-book (level 0) quote row, of the consolidated spread
    across venues after that row. Rows of unknown symbols are skipped and reported."""
    from marketdata.feeds.replay import QUOTE_COLUMNS, TRADE_COLUMNS, read_csv

    calendar = calendar or SessionCalendar()
    instruments = {i.symbol: i for i in Instrument.objects.all()}
    result = ImportResult()
    sessions: dict[tuple[str, date], SessionAccumulator] = {}

    def session(symbol: str, day: date) -> SessionAccumulator:
        key = (symbol, day)
        if key not in sessions:
            sessions[key] = SessionAccumulator(calendar.session_seconds, buckets)
        return sessions[key]

    if quotes_csv is not None:
        quotes = []
        for number, row in enumerate(read_csv(quotes_csv, QUOTE_COLUMNS)):
            if row["symbol"] not in instruments:
                result.unknown_symbols.add(row["symbol"])
                continue
            if (row.get("level") or "0") != "0":
                continue  # depth below the touch does not change the spread
            day, offset = calendar.locate(row["ts"])
            quotes.append((day, offset, number, row))
        # symbol -> venue -> [bid, ask]; a venue's touch stands until replaced or removed.
        touch: dict[str, dict[str, list[Decimal | None]]] = defaultdict(dict)
        for day, _offset, _, row in sorted(quotes, key=lambda q: q[:3]):
            venue = touch[row["symbol"]].setdefault(row["venue"], [None, None])
            sides = ((row["bid_price"], row["bid_size"]), (row["ask_price"], row["ask_size"]))
            for side, (price, size) in enumerate(sides):
                # As in the replay feed: an empty price or a zero size removes that side.
                venue[side] = _decimal(price) if price and size and Decimal(size) != 0 else None
            bids = [b for b, _ in touch[row["symbol"]].values() if b is not None]
            asks = [a for _, a in touch[row["symbol"]].values() if a is not None]
            if bids and asks:
                session(row["symbol"], day).quote(max(bids), min(asks))
            result.quotes += 1

    if trades_csv is not None:
        trades = []
        for number, row in enumerate(read_csv(trades_csv, TRADE_COLUMNS)):
            if row["symbol"] not in instruments:
                result.unknown_symbols.add(row["symbol"])
                continue
            day, offset = calendar.locate(row["ts"])
            trades.append((day, offset, number, row))
        for day, offset, _, row in sorted(trades, key=lambda t: t[:3]):
            session(row["symbol"], day).trade(offset, Decimal(row["price"]), Decimal(row["size"]))
            result.trades += 1

    touched = {}
    for (symbol, day), accumulator in sorted(sessions.items()):
        figures = accumulator.figures()
        if figures is None:
            continue
        instrument = instruments[symbol]
        SessionStats.objects.update_or_create(
            instrument=instrument, session_date=day, defaults=_stats_fields(figures, instrument, SessionSource.RECORDED)
        )
        touched[symbol] = instrument
        result.sessions += 1
    result.instruments = list(touched.values())
    if result.unknown_symbols:
        log.warning("import skipped rows of unknown symbols: %s", ", ".join(sorted(result.unknown_symbols)))
    return result
