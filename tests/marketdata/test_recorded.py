"""Recorded data users bring: the LOBSTER and tardis adapters on real samples (figures
checked against an independent computation here), trading calendars, provenance and the
rule that recorded sessions win, and import errors that name the row."""

import csv
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from marketdata import calendars
from marketdata.conversion import parse_feed
from marketdata.models import SessionSource, SessionStats
from marketdata.selectors import session_end_of_day, trading_day_seconds
from marketdata.services import analytics_refresh, session_stats_backfill

DATA = Path(__file__).resolve().parents[1] / "data"
LOBSTER_MESSAGE = DATA / "lobster" / "AAPL_2012-06-21_34200000_57600000_message_10.csv"
LOBSTER_BOOK = DATA / "lobster" / "AAPL_2012-06-21_34200000_57600000_orderbook_10.csv"
TARDIS_TRADES = DATA / "tardis" / "binance-futures_trades_2020-02-22_BTCUSDT.csv"
TARDIS_QUOTES = DATA / "tardis" / "binance-futures_quotes_2020-02-22_BTCUSDT.csv"
TARDIS_BOOK = DATA / "tardis" / "binance-futures_book_snapshot_5_2020-09-01_BTCUSDT.csv"


def bps(bid: D, ask: D) -> D:
    return (ask - bid) / ((ask + bid) / 2) * 10000


# ----------------------------------------------------------------------------- calendars


def test_calendars_know_daylight_saving_half_days_and_24_hours():
    june = calendars.session_on("XNYS", date(2012, 6, 21))
    assert (june.open, june.close) == (
        datetime(2012, 6, 21, 13, 30, tzinfo=UTC),
        datetime(2012, 6, 21, 20, 0, tzinfo=UTC),
    )
    assert calendars.session_on("XNYS", date(2024, 3, 4)).open == datetime(2024, 3, 4, 14, 30, tzinfo=UTC)
    black_friday = calendars.session_on("XNYS", date(2024, 11, 29))
    assert black_friday.seconds == 3.5 * 3600 and black_friday.buckets == 7
    assert calendars.session_on("XNYS", date(2024, 12, 25)) is None
    assert calendars.session_on("XLON", date(2024, 6, 21)).open == datetime(2024, 6, 21, 7, 0, tzinfo=UTC)
    crypto = calendars.session_on("24/7", date(2024, 6, 22))  # a Saturday
    assert crypto.seconds == 86400 and crypto.buckets == 48


def test_router_horizon_and_end_of_day_follow_the_instruments_calendar(aapl, btc):
    assert btc.calendar_code == "24/7" and aapl.calendar_code == "XNYS"
    before_open = datetime(2024, 11, 29, 12, 0, tzinfo=UTC)  # the day after Thanksgiving: a half day
    assert trading_day_seconds(btc, before_open) == 86400
    assert trading_day_seconds(aapl, before_open) == 3.5 * 3600
    assert session_end_of_day(aapl, before_open) == datetime(2024, 11, 29, 18, 0, tzinfo=UTC)
    after_close = datetime(2024, 11, 29, 19, 0, tzinfo=UTC)
    assert session_end_of_day(aapl, after_close) == datetime(2024, 12, 2, 21, 0, tzinfo=UTC)
    assert session_end_of_day(btc, after_close) == datetime(2024, 11, 30, 0, 0, tzinfo=UTC)
    aapl.calendar = "XLON"
    assert trading_day_seconds(aapl, datetime(2024, 6, 21, 12, tzinfo=UTC)) == 8.5 * 3600


# ----------------------------------------------------------------------------- LOBSTER


def lobster_expected():
    """Independently: executions (types 4, 5) are the trades; every orderbook row's touch
    is a spread sample; prices are in 1/10,000 dollars."""
    with open(LOBSTER_MESSAGE) as m, open(LOBSTER_BOOK) as b:
        rows = list(zip(csv.reader(m), csv.reader(b), strict=True))
    trades = [(float(msg[0]), D(msg[4]) / 10000, D(msg[3])) for msg, _ in rows if msg[1] in ("4", "5")]
    spreads = [bps(D(book[2]) / 10000, D(book[0]) / 10000) for _, book in rows]
    first, last = float(rows[0][0][0]), float(rows[-1][0][0])
    return trades, spreads, first, last


def test_lobster_import_files_the_day_by_its_calendar_and_matches_an_independent_count(aapl, capsys):
    call_command("import_marketdata", "--format", "lobster", "--message", LOBSTER_MESSAGE, "--orderbook", LOBSTER_BOOK)
    trades, spreads, first, last = lobster_expected()
    session = SessionStats.objects.get(instrument=aapl)
    # Seconds after midnight New York time on the file's date: 34,200 s is the 09:30 open
    # (13:30 UTC in June), so the day is 2012-06-21, not the next one.
    assert session.session_date == date(2012, 6, 21)
    assert session.source == SessionSource.RECORDED and "AAPL_2012-06-21" in session.origin
    assert session.volume == sum(size for _, _, size in trades)
    assert (session.open, session.close) == (trades[0][1], trades[-1][1])
    assert session.high == max(p for _, p, _ in trades) and session.low == min(p for _, p, _ in trades)
    assert session.avg_spread_bps == (sum(spreads) / len(spreads)).quantize(D("0.001"))
    assert session.coverage == D(repr((last - first) / 23400)).quantize(D("0.0001"))  # 10 s of the day
    assert session.session_seconds == 23400 and len(session.bucket_volumes) == 13
    assert D(session.bucket_volumes[0]) == session.volume  # all in the first half hour

    aapl.refresh_from_db()
    # Ten seconds cannot tell a day's volume: ADV keeps its value; the spread is a per-quote
    # mean, so it does come from the recording.
    assert aapl.avg_spread_bps == session.avg_spread_bps
    assert aapl.analytics_basis["adv"] == {"source": "none", "sessions": []}
    assert aapl.analytics_basis["spread"] == {"source": "recorded", "sessions": ["2012-06-21"]}
    out = capsys.readouterr().out
    assert f"Imported {len(trades)} trades and {len(spreads)} quotes into 1 sessions" in out
    assert "AAPL: ADV unchanged" in out and "spread bps" in out


def test_recorded_sessions_win_over_newer_simulated_ones(aapl, lit_venues):
    session_stats_backfill(sessions=5, today=date(2024, 4, 1))
    simulated_adv = SessionStats.objects.filter(instrument=aapl, source=SessionSource.SIMULATED)
    assert simulated_adv.count() == 5
    # A full recorded day, older than every simulated one.
    SessionStats.objects.create(
        instrument=aapl,
        session_date=date(2012, 6, 21),
        open=D("585"),
        high=D("586"),
        low=D("584"),
        close=D("585.5"),
        volume=D("4024"),
        avg_spread_bps=D("0.579"),
        bucket_volumes=["4024"] + ["0"] * 12,
        source=SessionSource.RECORDED,
        coverage=D("1"),
    )
    analytics_refresh(instrument=aapl)
    aapl.refresh_from_db()
    assert aapl.adv == D("4024") and aapl.avg_spread_bps == D("0.579")
    assert aapl.analytics_basis["adv"] == {"source": "recorded", "sessions": ["2012-06-21"]}
    # Volatility needs three sessions: the recording cannot tell it, the simulation can.
    assert aapl.analytics_basis["volatility"]["source"] == "simulated"
    recorded = SessionStats.objects.get(instrument=aapl, source=SessionSource.RECORDED)
    assert recorded.used_for == ["adv", "spread", "profile"]
    assert all("adv" not in row.used_for for row in simulated_adv)


# ----------------------------------------------------------------------------- tardis


def read_rows(path):
    with open(path) as handle:
        return list(csv.DictReader(handle))


def test_tardis_trades_and_quotes_on_the_24_hour_calendar(btc, capsys):
    call_command(
        "import_marketdata",
        "--format",
        "tardis",
        "--trades",
        TARDIS_TRADES,
        "--quotes",
        TARDIS_QUOTES,
        "--symbol",
        "BTC-USD",
    )
    trades, quotes = read_rows(TARDIS_TRADES), read_rows(TARDIS_QUOTES)
    session = SessionStats.objects.get(instrument=btc)
    # Microseconds since the epoch: 1582329602111000 is 2020-02-22 00:00:02 UTC.
    assert session.session_date == date(2020, 2, 22) and session.session_seconds == 86400
    assert session.volume == sum(D(t["amount"]) for t in trades)
    assert (session.open, session.close) == (D(trades[0]["price"]), D(trades[-1]["price"]))
    spreads = [bps(D(q["bid_price"]), D(q["ask_price"])) for q in quotes]
    assert session.avg_spread_bps == (sum(spreads) / len(spreads)).quantize(D("0.001"))
    assert len(session.bucket_volumes) == 48
    stamps = [int(r["timestamp"]) for r in trades + quotes]
    assert session.coverage == D(repr((max(stamps) - min(stamps)) / 1e6 / 86400)).quantize(D("0.0001"))
    assert "BTC-USD:" in capsys.readouterr().out


def test_tardis_book_snapshots_give_the_touch(btc):
    call_command("import_marketdata", "--format", "tardis", "--quotes", TARDIS_BOOK, "--symbol", "BTC-USD")
    rows = read_rows(TARDIS_BOOK)
    spreads = [bps(D(r["bids[0].price"]), D(r["asks[0].price"])) for r in rows]
    session = SessionStats.objects.get(instrument=btc)
    assert session.session_date == date(2020, 9, 1)
    assert session.avg_spread_bps == (sum(spreads) / len(spreads)).quantize(D("0.001"))
    assert session.volume == 0


# ----------------------------------------------------------------------------- trust


def write(tmp_path, text, name="trades.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("abc", "not a number"),
        ("", "empty, a number is needed"),
        ('"1,234.50"', "thousands separators are not accepted"),
        ("nan", "not a finite number"),
    ],
)
def test_a_bad_price_names_file_row_column_and_value(aapl, tmp_path, cell, reason):
    trades = write(
        tmp_path,
        f"ts,symbol,venue,price,size\n2024-03-04T15:00:00Z,AAPL,NEXA,100,5\n2024-03-04T15:01:00Z,AAPL,NEXA,{cell},5\n",
    )
    with pytest.raises(CommandError) as error:
        call_command("import_marketdata", "--trades", trades, "--quiet")
    message = str(error.value)
    assert message.startswith("trades.csv: row 3, column 'price': ") and reason in message
    assert SessionStats.objects.count() == 0


def test_a_negative_size_names_its_row(aapl, tmp_path):
    trades = write(tmp_path, "ts,symbol,venue,price,size\n2024-03-04T15:00:00Z,AAPL,NEXA,100,-5\n")
    with pytest.raises(CommandError, match=r"trades.csv: row 2, column 'size': must not be negative \(value '-5'\)"):
        call_command("import_marketdata", "--trades", trades, "--quiet")


def test_skip_bad_rows_reports_them_and_imports_the_rest(aapl, tmp_path, capsys):
    trades = write(
        tmp_path,
        "ts,symbol,venue,price,size\n"
        "2024-03-04T15:00:00Z,AAPL,NEXA,100,5\n"
        "2024-03-04T15:01:00Z,AAPL,NEXA,oops,5\n"
        "yesterday,AAPL,NEXA,101,5\n"
        "2024-03-04T15:02:00Z,AAPL,NEXA,102,7\n",
    )
    report = tmp_path / "rejected.csv"
    call_command("import_marketdata", "--trades", trades, "--skip-bad-rows", "--reject-report", report, "--quiet")
    session = SessionStats.objects.get(instrument=aapl)
    assert (session.volume, session.open, session.close) == (D(12), D(100), D(102))
    with open(report) as handle:
        rejected = list(csv.DictReader(handle))
    assert [(r["row"], r["column"], r["value"]) for r in rejected] == [("3", "price", "oops"), ("4", "ts", "yesterday")]
    assert "rejected 2 bad rows" in capsys.readouterr().err


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252"])
def test_byte_order_marks_and_common_encodings(aapl, tmp_path, encoding):
    venue = "NEXA" if encoding != "cp1252" else "NÉXA"  # a byte that is not UTF-8
    trades = write(
        tmp_path, f"ts,symbol,venue,price,size\n2024-03-04T15:00:00Z,AAPL,{venue},100,5\n", encoding=encoding
    )
    call_command("import_marketdata", "--trades", trades, "--quiet")
    assert SessionStats.objects.get(instrument=aapl).volume == 5


def test_seconds_from_midnight_or_from_the_open(aapl, tmp_path, capsys):
    trades = write(tmp_path, "ts,symbol,venue,price,size\n34200.5,AAPL,NEXA,100,5\n57500,AAPL,NEXA,101,6\n")
    call_command("import_marketdata", "--trades", trades, "--first-date", "2012-06-21", "--quiet")
    session = SessionStats.objects.get(instrument=aapl)
    assert (session.session_date, session.volume) == (date(2012, 6, 21), D(11))
    assert "read as seconds since midnight" in capsys.readouterr().err
    SessionStats.objects.all().delete()
    call_command(
        "import_marketdata", "--trades", trades, "--first-date", "2012-06-21", "--seconds-from", "open", "--quiet"
    )
    # From the open, sessions back to back: 34,200.5 s is in the 2nd session after the 21st's
    # open (Friday the 22nd), 57,500 s in the 3rd (Monday the 25th).
    assert list(SessionStats.objects.values_list("session_date", flat=True).order_by("session_date")) == [
        date(2012, 6, 22),
        date(2012, 6, 25),
    ]


def test_a_million_rows_stream_through_the_reader(tmp_path):
    from marketdata.recorded.formats import generic_trades

    path = tmp_path / "big.csv"
    with open(path, "w") as handle:
        handle.write("ts,symbol,venue,price,size\n")
        start = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)
        for n in range(20_000):
            handle.write(f"{(start + timedelta(seconds=n)).isoformat()},AAPL,NEXA,100.{n % 100:02d},1\n")
    seen = []
    ticks = generic_trades(path, progress=lambda done, total, rows: seen.append((done, total, rows)))
    assert sum(1 for _ in ticks) == 20_000
    assert seen[-1] == (path.stat().st_size, path.stat().st_size, 20_000)


# ----------------------------------------------------------------------------- live replay


def test_marketdata_feed_setting():
    assert parse_feed("simulator") == ("simulator", None, None)
    assert parse_feed("replay:t.csv,q.csv") == ("replay", "t.csv", "q.csv")
    assert parse_feed("replay:,q.csv") == ("replay", None, "q.csv")
    with pytest.raises(ValueError, match="MARKETDATA_FEED"):
        parse_feed("kafka:x")


def test_the_embedded_publisher_replays_recorded_files_when_configured(db, settings):
    from marketdata.conversion import build_simulator_feed
    from marketdata.feeds import ReplayFeed

    folder = Path(__file__).resolve().parent / "data"
    settings.MARKETDATA_FEED = f"replay:{folder / 'replay_trades.csv'},{folder / 'replay_quotes.csv'}"
    settings.MARKETDATA_REPLAY_SPEED = 50.0
    feed = build_simulator_feed()
    assert isinstance(feed, ReplayFeed) and feed.clock.speed == 50.0 and feed.symbols


def test_the_instrument_api_and_the_admin_show_what_the_analytics_used(aapl, api_client, pm, client, django_user_model):
    call_command("import_marketdata", "--format", "lobster", "--message", LOBSTER_MESSAGE, "--orderbook", LOBSTER_BOOK)
    row = api_client(pm).get("/api/instruments/AAPL/").json()
    assert row["calendar"] == "XNYS"
    assert row["analytics_basis"]["spread"] == {"source": "recorded", "sessions": ["2012-06-21"]}
    admin = django_user_model.objects.create_superuser("root", password="pw")
    client.force_login(admin)
    page = client.get("/admin/marketdata/sessionstats/").content.decode()
    assert "Imported file" in page and "AAPL_2012-06-21" in page and "spread" in page
