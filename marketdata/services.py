"""Writes of market data: reference data (venues, instruments, option reference prices),
session statistics (simulated history and recorded files) and the instrument analytics
computed from them (formulas in `marketdata.analytics`)."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
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
SIMULATED_CALENDAR = "XNYS"


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
    the instrument's sessions, under the rule of `marketdata.analytics` (recorded sessions
    win over simulated ones figure by figure; partial sessions scaled or left out; the last
    `sessions` that serve each figure). Figures no session can support keep their previous
    values. The instrument's `analytics_basis` and each session's `used_for` record which
    sessions fed which figure. Returns whether the instrument had sessions."""
    locked = lock_one(Instrument, instrument.pk)
    stored = SessionStats.objects.filter(instrument=locked).order_by("-session_date")
    recorded = list(stored.exclude(source=SessionSource.SIMULATED)[:sessions])
    simulated = list(stored.filter(source=SessionSource.SIMULATED)[:sessions])
    rows = sorted(recorded + simulated, key=lambda r: r.session_date, reverse=True)
    if not rows:
        return False
    records = [
        analytics.SessionRecord(row.session_date, row.source == SessionSource.SIMULATED, _figures(row)) for row in rows
    ]
    figures, basis = analytics.analytics_by_rule(records, sessions)
    fields = ["volume_profile", "analytics_basis", "analytics_updated_at"]
    if figures.adv is not None:
        locked.adv = _on_grid(figures.adv, locked.lot_size)
        fields.append("adv")
    if figures.daily_volatility is not None:
        locked.daily_volatility = figures.daily_volatility
        fields.append("daily_volatility")
    if figures.avg_spread_bps is not None:
        locked.avg_spread_bps = figures.avg_spread_bps
        fields.append("avg_spread_bps")
    # Decimal strings: JSON carries decimals as strings, and these sum to exactly 1.
    if figures.volume_profile or basis["profile"].source != "none":
        locked.volume_profile = [str(share) for share in figures.volume_profile]
    locked.analytics_basis = {
        figure: {
            "source": b.source,
            "sessions": [d.isoformat() for d in b.days],
            **({"scaled": [d.isoformat() for d in b.scaled]} if b.scaled else {}),
        }
        for figure, b in basis.items()
    }
    locked.analytics_updated_at = timezone.now()
    locked.save(update_fields=fields)
    used: dict[int, list[str]] = {row.pk: [] for row in rows}
    key = {(row.source == SessionSource.SIMULATED, row.session_date): row.pk for row in rows}
    for figure, b in basis.items():
        for day in b.days:
            used[key[(b.source == "simulated", day)]].append(figure)
    changed = [row for row in rows if row.used_for != used[row.pk]]
    for row in changed:
        row.used_for = used[row.pk]
    SessionStats.objects.bulk_update(changed, ["used_for"])
    SessionStats.objects.filter(instrument=locked).exclude(pk__in=used).exclude(used_for=[]).update(used_for=[])
    return True


def _figures(row: SessionStats) -> SessionFigures:
    return SessionFigures(
        row.open,
        row.high,
        row.low,
        row.close,
        row.volume,
        row.avg_spread_bps,
        [Decimal(v) for v in row.bucket_volumes],
        row.coverage,
    )


def _on_grid(value: Decimal, step: Decimal) -> Decimal:
    """`value` rounded to a multiple of `step`, written with the step's decimals (100, 0.25)."""
    return to_step(value, step).quantize(Decimal(1).scaleb(-decimal_places(step)))


def _stats_fields(
    figures: SessionFigures, instrument: Instrument, source: str, *, origin: str = "", session_seconds=None
) -> dict:
    tick, lot = instrument.tick_size, instrument.lot_size
    return dict(
        origin=origin[:255],
        coverage=figures.coverage,
        session_seconds=None if session_seconds is None else round(session_seconds),
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
    from marketdata import calendars
    from marketdata.conversion import build_simulator, simulated_session_seconds
    from marketdata.sim import SimParams

    # The simulator runs the equity calendar's sessions back to back (holidays skipped).
    days = [w.day for w in calendars.sessions_before(SIMULATED_CALENDAR, today or timezone.now().date(), sessions)]
    instruments = {i.symbol: i for i in Instrument.objects.filter(is_active=True)}
    have = set(
        SessionStats.objects.filter(instrument__in=instruments.values(), session_date__in=days).values_list(
            "instrument_id", "session_date"
        )
    )
    if all((i.pk, d) in have for i in instruments.values() for d in days):
        return 0
    simulator = build_simulator(
        seed=seed,
        params=SimParams(step_seconds=BACKFILL_STEP_SECONDS, session_seconds=simulated_session_seconds()),
        as_of=days[0],
    )
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
                    **_stats_fields(
                        replace(accumulator.figures(), coverage=Decimal(1)),
                        instrument,
                        SessionSource.SIMULATED,
                        origin=f"simulator, seed {settings.MARKETDATA_SEED if seed is None else seed}",
                        session_seconds=session_seconds,
                    ),
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


@dataclass(frozen=True, slots=True)
class RecordedSource:
    """One recording to import: its format (`marketdata.recorded.formats.FORMATS`) and
    files: generic/tardis `trades` and/or `quotes` (tardis quotes may be a
    book_snapshot_N file); lobster `message` and `orderbook`."""

    format: str
    trades: str | Path | None = None
    quotes: str | Path | None = None
    message: str | Path | None = None
    orderbook: str | Path | None = None

    def names(self) -> str:
        files = [f for f in (self.trades, self.quotes, self.message, self.orderbook) if f]
        return f"{self.format}: " + ", ".join(Path(f).name for f in files)


@dataclass
class ImportResult:
    sessions: int = 0
    trades: int = 0
    quotes: int = 0
    rejected: int = 0
    unknown_symbols: set[str] = field(default_factory=set)
    instruments: list[Instrument] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # what the import changed in the analytics


ANALYTICS_FIELDS = ("adv", "daily_volatility", "avg_spread_bps", "volume_profile")


def _ticks(source: RecordedSource, *, encoding: str | None, progress, symbol: str | None):
    from marketdata.recorded import formats

    if source.format == "lobster":
        if not (source.message and source.orderbook):
            raise ValueError("a LOBSTER recording needs its message and orderbook files")
        yield from formats.lobster_ticks(source.message, source.orderbook, symbol=symbol, progress=progress)
        return
    if source.format not in ("generic", "tardis"):
        raise ValueError(f"unknown format {source.format!r}: one of {', '.join(formats.FORMATS)}")
    trades = formats.generic_trades if source.format == "generic" else formats.tardis_trades
    quotes = formats.generic_quotes if source.format == "generic" else formats.tardis_quotes
    if source.quotes:
        yield from quotes(source.quotes, encoding=encoding, progress=progress)
    if source.trades:
        yield from trades(source.trades, encoding=encoding, progress=progress)


def _analytics_view(instrument: Instrument) -> dict:
    return {name: getattr(instrument, name) for name in ANALYTICS_FIELDS}


def _plain(value) -> str:
    """A stored decimal without its trailing zeros: 149, 0.016, 2.999."""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    return str(value)


def _describe_change(instrument: Instrument, before: dict) -> str:
    after = _analytics_view(instrument)
    basis = instrument.analytics_basis or {}

    def used(figure: str) -> str:
        b = basis.get(figure) or {}
        days = b.get("sessions") or []
        if not days:
            return "no session can tell it"
        span = days[0] if len(days) == 1 else f"{days[0]}..{days[-1]}"
        scaled = f", {len(b['scaled'])} partial scaled" if b.get("scaled") else ""
        return f"{len(days)} {b['source']} session{'s' if len(days) != 1 else ''} {span}{scaled}"

    parts = []
    for name, figure, label in (
        ("adv", "adv", "ADV"),
        ("daily_volatility", "volatility", "volatility"),
        ("avg_spread_bps", "spread", "spread bps"),
    ):
        old, new = _plain(before[name]), _plain(after[name])
        change = f"{old} -> {new}" if old != new else f"unchanged {new}"
        parts.append(f"{label} {change} ({used(figure)})")
    profile = "changed" if before["volume_profile"] != after["volume_profile"] else "unchanged"
    parts.append(f"profile {profile}, {len(after['volume_profile'])} buckets ({used('profile')})")
    return f"{instrument.symbol}: " + "; ".join(parts)


@transaction.atomic
def recorded_import(
    *,
    sources: list[RecordedSource],
    first_date: date | None = None,
    seconds_from: str = "auto",
    buckets: int | None = None,
    symbol: str | None = None,
    symbol_map: dict[str, str] | None = None,
    encoding: str | None = None,
    skip_bad_rows: bool = False,
    reject_report: str | Path | None = None,
    progress=None,
    refresh: bool = True,
) -> ImportResult:
    """Turn recorded files into session statistics on each instrument's trading calendar
    (`marketdata.recorded.aggregate`), replacing any stored for the same (instrument, day),
    then refresh the analytics of the instruments they cover and say what changed.

    A bad row stops the import with its file, row, column and value (nothing is stored);
    with `skip_bad_rows` it is written to `reject_report` and the rest is imported. Files
    are streamed. A LOBSTER file's date is its `first_date`; `symbol` names the instrument
    of a single-symbol recording (a LOBSTER file, a tardis BTCUSDT file)."""
    from marketdata.recorded import formats
    from marketdata.recorded.aggregate import SessionBuilder
    from marketdata.recorded.reading import RejectReport

    instruments = {i.symbol: i for i in Instrument.objects.all()}
    report = RejectReport(reject_report)
    result = ImportResult()
    touched: dict[str, Instrument] = {}
    origins: dict[tuple[str, date], set[str]] = defaultdict(set)
    try:
        for source in sources:
            day = first_date
            mapping = dict(symbol_map or {})
            if source.format == "lobster":
                name = formats.lobster_name(source.message)
                day = day or (name.day if name else None)
                if name and symbol:
                    mapping.setdefault(name.symbol, symbol)
            elif symbol:
                mapping = _single_symbol_map(source, symbol, mapping)
            builder = SessionBuilder(
                calendar_of=lambda s: instruments[s].calendar_code,
                known=set(instruments),
                first_date=day,
                seconds_from="midnight" if source.format == "lobster" and seconds_from == "auto" else seconds_from,
                buckets=buckets,
                symbol_map=mapping,
                on_error=report.add if skip_bad_rows else None,
            )
            builder.feed(_ticks(source, encoding=encoding, progress=progress, symbol=None))
            built = builder.finish()
            result.trades += built.trades
            result.quotes += built.quotes
            result.rejected += built.rejected
            result.unknown_symbols |= built.unknown_symbols
            result.warnings += [f"{source.names()}: {w}" for w in built.warnings]
            for (sym, session_day), session in sorted(built.sessions.items()):
                figures = session.accumulator.figures()
                if figures is None:
                    continue
                instrument = instruments[sym]
                origins[(sym, session_day)].add(source.names())
                SessionStats.objects.update_or_create(
                    instrument=instrument,
                    session_date=session_day,
                    defaults=_stats_fields(
                        figures,
                        instrument,
                        SessionSource.RECORDED,
                        origin="; ".join(sorted(origins[(sym, session_day)])),
                        session_seconds=session.window.seconds,
                    ),
                )
                touched[sym] = instrument
                result.sessions += 1
    finally:
        report.close()
    result.instruments = list(touched.values())
    if result.unknown_symbols:
        log.warning("import skipped rows of unknown symbols: %s", ", ".join(sorted(result.unknown_symbols)))
    if refresh:
        for instrument in result.instruments:
            before = _analytics_view(Instrument.objects.get(pk=instrument.pk))
            analytics_refresh(instrument=instrument)
            instrument.refresh_from_db()
            result.changes.append(_describe_change(instrument, before))
    return result


def _single_symbol_map(source: RecordedSource, symbol: str, mapping: dict[str, str]) -> dict[str, str]:
    """Every symbol of the files is `symbol` (a single-instrument recording)."""
    from marketdata.recorded.reading import CsvFile

    for path in (source.trades, source.quotes):
        if not path:
            continue
        for _row, cells in CsvFile(Path(path)).rows(("symbol",)):
            mapping.setdefault(cells["symbol"], symbol)
            break
    return mapping


@transaction.atomic
def instrument_impact_coefficient_set(*, instrument_id: int, coefficient: Decimal) -> Instrument:
    """Set the square-root impact coefficient the router's next decisions use (tca's refit
    is the caller; its history with the orders it came from is tca.ImpactRefit)."""
    instrument = lock_one(Instrument, instrument_id, what="instrument")
    instrument.impact_coefficient = coefficient
    instrument.save(update_fields=["impact_coefficient"])
    return instrument
