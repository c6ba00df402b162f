"""Analytics computed from session statistics: the formulas on hand-made sessions, the
refresh service, the simulated backfill and the import of recorded files."""

import math
import statistics
from datetime import date, timedelta
from decimal import Decimal as D
from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command

from core.decimals import to_step
from marketdata import analytics, calendars
from marketdata.models import Instrument, SessionSource, SessionStats
from marketdata.services import analytics_refresh, market_history_seed, session_stats_backfill, trading_days_before

CLOSES = ["100", "102", "99.5", "101", "103.2"]
VOLUMES = ["1000", "1400", "900", "1100", "1600"]
SPREADS = ["1.5", "2.5", None, "2.0", "1.0"]
BUCKETS = [
    ["500", "200", "300"],
    ["600", "300", "500"],
    ["400", "100", "400"],
    ["500", "200", "400"],
    ["700", "400", "500"],
]
MONDAY = date(2024, 3, 4)


def sessions_for(instrument, *, first=MONDAY, closes=CLOSES, volumes=VOLUMES, spreads=SPREADS, buckets=BUCKETS):
    return [
        SessionStats.objects.create(
            instrument=instrument,
            session_date=first + timedelta(days=n),
            open=D(c),
            high=D(c),
            low=D(c),
            close=D(c),
            volume=D(v),
            avg_spread_bps=None if s is None else D(s),
            bucket_volumes=b,
            source=SessionSource.RECORDED,
        )
        for n, (c, v, s, b) in enumerate(zip(closes, volumes, spreads, buckets, strict=True))
    ]


# ----------------------------------------------------------------------------- pure formulas


def test_formulas_on_plain_sessions():
    figures = [
        analytics.SessionFigures(D(c), D(c), D(c), D(c), D(v), None if s is None else D(s), [D(x) for x in b])
        for c, v, s, b in zip(CLOSES, VOLUMES, SPREADS, BUCKETS, strict=True)
    ]
    result = analytics.instrument_analytics(figures)
    returns = [math.log(float(b) / float(a)) for a, b in pairwise(CLOSES)]
    assert result.sessions == 5
    assert result.adv == D("1200")  # (1000 + 1400 + 900 + 1100 + 1600) / 5
    assert result.daily_volatility == D(repr(round(statistics.stdev(returns), 6)))
    assert result.avg_spread_bps == D("1.750")  # the session without quotes is left out
    # Mean buckets 540 / 240 / 420 of 1200.
    assert result.volume_profile == [D("0.450000"), D("0.200000"), D("0.350000")]


def test_volume_profile_sums_to_exactly_one_when_shares_do_not_round():
    profile = analytics.volume_profile([[D(1), D(1), D(1)], [D(2), D(2), D(2)]])
    assert profile == [D("0.333334"), D("0.333333"), D("0.333333")]
    assert sum(profile) == 1


def test_volume_profile_uses_the_common_bucket_count_and_ignores_empty_days():
    assert analytics.volume_profile([[D(1), D(3)], [D(1), D(2), D(1)], [D(3), D(5)], []]) == [
        D("0.333333"),
        D("0.666667"),
    ]
    assert analytics.volume_profile([[D(0), D(0)]]) == []
    assert analytics.volume_profile([]) == []


def test_volatility_needs_two_returns():
    assert analytics.daily_volatility([D(100), D(101)]) is None
    assert analytics.daily_volatility([D(100), D(110), D(99)]) == D(
        repr(round(statistics.stdev([math.log(1.1), math.log(0.9)]), 6))
    )
    with pytest.raises(ValueError):
        analytics.daily_volatility([D(100), D(0), D(1)])


def test_accumulator_books_trades_into_buckets_and_prices():
    session = analytics.SessionAccumulator(session_seconds=600, buckets=3)
    session.trade(-30, D("10.0"), D(5))  # before the open: first bucket
    session.trade(100, D("10.4"), D(10))
    session.trade(250, D("9.8"), D(20))
    session.trade(599, D("10.1"), D(1))
    session.trade(700, D("10.2"), D(4))  # after the close: last bucket
    session.quote(D("9.9"), D("10.1"))
    session.quote(D("10.1"), D("10.1"))  # locked: no spread sample
    figures = session.figures()
    assert (figures.open, figures.high, figures.low, figures.close) == (D("10.0"), D("10.4"), D("9.8"), D("10.2"))
    assert figures.volume == D(40)
    assert figures.bucket_volumes == [D(15), D(20), D(5)]
    assert figures.avg_spread_bps == D("200.000")  # 0.2 / 10.0


def test_quotes_only_session_is_priced_at_its_mid_without_volume():
    session = analytics.SessionAccumulator(session_seconds=600, buckets=2)
    assert session.figures() is None
    session.quote(D(99), D(101))
    assert session.figures() == analytics.SessionFigures(
        D(100), D(100), D(100), D(100), D(0), D("200.000"), [D(0), D(0)]
    )


# ----------------------------------------------------------------------------- the refresh service


def test_refresh_writes_the_instrument_analytics(aapl):
    sessions_for(aapl)
    assert analytics_refresh(instrument=aapl) is True
    aapl.refresh_from_db()
    returns = [math.log(float(b) / float(a)) for a, b in pairwise(CLOSES)]
    assert aapl.adv == D("1200")
    assert aapl.daily_volatility == D(repr(round(statistics.stdev(returns), 6)))
    assert aapl.avg_spread_bps == D("1.750")
    assert aapl.volume_profile == ["0.450000", "0.200000", "0.350000"]
    assert sum(D(x) for x in aapl.volume_profile) == 1
    assert aapl.analytics_updated_at is not None


def test_refresh_uses_only_the_last_sessions(aapl):
    sessions_for(aapl)
    analytics_refresh(instrument=aapl, sessions=3)
    aapl.refresh_from_db()
    assert aapl.adv == D("1200")  # (900 + 1100 + 1600) / 3
    assert aapl.avg_spread_bps == D("1.500")
    returns = [math.log(101 / 99.5), math.log(103.2 / 101)]
    assert aapl.daily_volatility == D(repr(round(statistics.stdev(returns), 6)))


def test_adv_rounds_to_the_lot(btc):
    sessions_for(btc, volumes=["1.00001", "2", "2", "2", "2"])
    analytics_refresh(instrument=btc)
    btc.refresh_from_db()
    assert btc.adv == D("1.8")  # 1.800002 on the 0.0001 lot grid


def test_refresh_without_sessions_changes_nothing(aapl):
    before = Instrument.objects.values().get(pk=aapl.pk)
    assert analytics_refresh(instrument=aapl) is False
    assert Instrument.objects.values().get(pk=aapl.pk) == before


def test_refresh_keeps_what_too_little_data_cannot_tell(aapl):
    sessions_for(aapl, closes=CLOSES[:2], volumes=VOLUMES[:2], spreads=[None, None], buckets=BUCKETS[:2])
    analytics_refresh(instrument=aapl)
    aapl.refresh_from_db()
    assert aapl.adv == D("1200")
    assert (aapl.daily_volatility, aapl.avg_spread_bps) == (D("0.016"), D("1.2"))  # the fixture's values


def test_refresh_twice_gives_the_same_figures(aapl):
    sessions_for(aapl)
    analytics_refresh(instrument=aapl)
    first = Instrument.objects.values("adv", "daily_volatility", "avg_spread_bps", "volume_profile").get(pk=aapl.pk)
    analytics_refresh(instrument=aapl)
    assert (
        Instrument.objects.values("adv", "daily_volatility", "avg_spread_bps", "volume_profile").get(pk=aapl.pk)
        == first
    )


# ----------------------------------------------------------------------------- simulated history


def test_trading_days_before_skips_weekends():
    assert trading_days_before(date(2024, 3, 11), 6) == [
        date(2024, 3, 1),
        date(2024, 3, 4),
        date(2024, 3, 5),
        date(2024, 3, 6),
        date(2024, 3, 7),
        date(2024, 3, 8),
    ]


def test_backfill_simulates_sessions_consistent_with_the_instruments(aapl, option, btc, lit_venues):
    today = date(2024, 4, 1)
    assert session_stats_backfill(sessions=20, today=today) == 60
    # The XNYS calendar's sessions: Good Friday 2024-03-29 is a holiday.
    days = [w.day for w in calendars.sessions_before("XNYS", today, 20)]
    assert date(2024, 3, 29) not in days and days[-1] == date(2024, 3, 28)
    for instrument in (aapl, option, btc):
        rows = list(SessionStats.objects.filter(instrument=instrument).order_by("session_date"))
        assert [r.session_date for r in rows] == days
        assert {r.source for r in rows} == {SessionSource.SIMULATED}
        for row in rows:
            assert row.low <= min(row.open, row.close) <= max(row.open, row.close) <= row.high
            assert len(row.bucket_volumes) == 13 and sum(D(v) for v in row.bucket_volumes) == row.volume
            assert row.avg_spread_bps > 0
    seeded = {i.symbol: (i.adv, i.daily_volatility) for i in (aapl, btc)}
    for instrument in (aapl, option, btc):
        analytics_refresh(instrument=instrument)
        instrument.refresh_from_db()
        assert sum(D(x) for x in instrument.volume_profile) == 1
        # U-shaped: the open and the close trade more than midday.
        profile = [D(x) for x in instrument.volume_profile]
        assert profile[0] > profile[6] < profile[-1]
    for instrument in (aapl, btc):
        adv, vol = seeded[instrument.symbol]
        # The simulator trades ADV in expectation: 20 sessions of thousands of trades land close.
        assert abs(instrument.adv / adv - 1) < D("0.05")
        # 19 close-to-close returns: a standard error near 17%, so a wide band.
        assert abs(instrument.daily_volatility / vol - 1) < D("0.5")
    assert option.adv < btc.adv < aapl.adv


def test_backfill_is_idempotent_and_never_overwrites_recorded_days(aapl, lit_venues):
    today = date(2024, 4, 1)
    recorded = sessions_for(aapl, first=date(2024, 3, 28), closes=["1"], volumes=["7"], spreads=["9"], buckets=[["7"]])[
        0
    ]
    assert session_stats_backfill(sessions=3, today=today) == 2
    assert session_stats_backfill(sessions=3, today=today) == 0
    recorded_now = SessionStats.objects.get(pk=recorded.pk)
    assert (recorded_now.volume, recorded_now.source) == (D(7), SessionSource.RECORDED)
    assert SessionStats.objects.count() == 3


def test_backfill_repeats_with_the_same_seed(aapl, lit_venues):
    today = date(2024, 4, 1)
    session_stats_backfill(sessions=2, today=today, seed=3)
    first = list(SessionStats.objects.values("session_date", "open", "close", "volume", "bucket_volumes"))
    SessionStats.objects.all().delete()
    session_stats_backfill(sessions=2, today=today, seed=3)
    assert list(SessionStats.objects.values("session_date", "open", "close", "volume", "bucket_volumes")) == first


def test_market_history_seed_refreshes_every_active_instrument(aapl, option, lit_venues):
    result = market_history_seed(sessions=3, today=date(2024, 4, 1))
    assert result == {"sessions_created": 6, "instruments_refreshed": 2}
    assert Instrument.objects.filter(analytics_updated_at__isnull=True).count() == 0


# ----------------------------------------------------------------------------- recorded files

QUOTES_CSV = """ts,symbol,venue,bid_price,bid_size,ask_price,ask_size,level
2024-03-04T14:30:00Z,AAPL,NEXA,100.00,500,100.04,400,0
2024-03-04T14:30:00Z,AAPL,NEXA,99.99,800,100.05,700,1
2024-03-04T14:31:00Z,AAPL,LUMA,100.01,200,100.03,300,0
2024-03-04T15:00:00Z,ZZZZ,LUMA,1.00,1,1.01,1,0
2024-03-05T14:30:00Z,AAPL,NEXA,101.00,100,,0,0
"""
TRADES_CSV = """ts,symbol,venue,price,size,side
2024-03-04T14:30:05Z,AAPL,NEXA,100.04,100,BUY
2024-03-04T20:59:00Z,AAPL,LUMA,100.02,50,
2024-03-04T16:00:00Z,AAPL,NEXA,100.10,30,B
2024-03-05T14:29:00Z,AAPL,NEXA,101.00,10,S
2024-03-05T15:30:00+01:00,AAPL,NEXA,101.50,20,S
2024-03-05T20:00:00Z,AAPL,LUMA,102.00,70,B
"""


@pytest.fixture
def recorded_files(tmp_path):
    quotes, trades = tmp_path / "quotes.csv", tmp_path / "trades.csv"
    quotes.write_text(QUOTES_CSV)
    trades.write_text(TRADES_CSV)
    return trades, quotes


def test_import_turns_recorded_files_into_sessions_and_analytics(aapl, recorded_files, capsys):
    trades, quotes = recorded_files
    call_command("import_marketdata", "--trades", str(trades), "--quotes", str(quotes), "--buckets", "13")
    first, second = SessionStats.objects.filter(instrument=aapl).order_by("session_date")
    assert first.session_date == date(2024, 3, 4) and first.source == SessionSource.RECORDED
    # Trades in time order: 14:30:05 100.04, 16:00 100.10, 20:59 100.02.
    assert (first.open, first.high, first.low, first.close, first.volume) == (
        D("100.04"),
        D("100.10"),
        D("100.02"),
        D("100.02"),
        D(180),
    )
    # 14:30 open, half-hour buckets: 14:30:05 -> 0, 16:00 -> 3, 20:59 -> 12.
    assert first.bucket_volumes == ["100", "0", "0", "30", "0", "0", "0", "0", "0", "0", "0", "0", "50"]
    # Spread samples after each top-of-book row: NEXA alone 100.00 / 100.04, then LUMA's 100.01 / 100.03
    # inside it (the level-1 row is depth, not a sample).
    expected = ((D("0.04") / D("100.02") + D("0.02") / D("100.02")) / 2 * 10000).quantize(D("0.001"))
    assert first.avg_spread_bps == expected
    # The 5th: 14:29 is before the open (first bucket); 15:30+01:00 is 14:30Z. Its one quote (NEXA bid
    # 101.00) crosses LUMA's standing 100.03 ask: no spread sample.
    assert (second.open, second.high, second.low, second.close, second.volume) == (
        D("101.00"),
        D("102.00"),
        D("101.00"),
        D("102.00"),
        D(100),
    )
    assert second.bucket_volumes[:1] == ["30"] and second.bucket_volumes[11] == "70"
    assert second.avg_spread_bps is None

    aapl.refresh_from_db()
    # The 5th is partial: its records span 14:30 (the 14:29 print is clipped to the open) to
    # 20:00 of a 14:30-21:00 session, so its 100 shares count as a day of 100 / 0.8462.
    assert second.coverage == D("0.8462") and first.coverage == D("0.9974")  # 14:30 to 20:59
    assert aapl.adv == to_step((D(180) + D(100) / D("0.8462")) / 2, D(1))  # 149
    assert aapl.analytics_basis["adv"] == {
        "source": "recorded",
        "sessions": ["2024-03-04", "2024-03-05"],
        "scaled": ["2024-03-05"],
    }
    # The partial day stays out of the profile.
    assert aapl.analytics_basis["profile"] == {"source": "recorded", "sessions": ["2024-03-04"]}
    assert aapl.avg_spread_bps == expected
    assert aapl.daily_volatility == D("0.016")  # one return cannot tell a volatility
    assert sum(D(x) for x in aapl.volume_profile) == 1
    assert "ZZZZ" in capsys.readouterr().err


def test_import_again_replaces_the_same_days(aapl, recorded_files):
    trades, quotes = recorded_files
    call_command("import_marketdata", "--trades", str(trades), "--quotes", str(quotes))
    before = list(SessionStats.objects.values())
    call_command("import_marketdata", "--trades", str(trades), "--quotes", str(quotes))
    after = list(SessionStats.objects.values())
    assert [{k: v for k, v in row.items() if k != "updated_at"} for row in after] == [
        {k: v for k, v in row.items() if k != "updated_at"} for row in before
    ]


def test_import_with_seconds_timestamps_needs_a_first_date(aapl, tmp_path):
    trades = tmp_path / "trades.csv"
    trades.write_text("ts,symbol,venue,price,size\n10,AAPL,NEXA,100,5\n23410,AAPL,NEXA,101,6\n")
    with pytest.raises(CommandError, match="first session"):
        call_command("import_marketdata", "--trades", str(trades))
    assert SessionStats.objects.count() == 0
    call_command("import_marketdata", "--trades", str(trades), "--first-date", "2024-03-08")  # a Friday
    assert list(SessionStats.objects.values_list("session_date", "volume").order_by("session_date")) == [
        (date(2024, 3, 8), D(5)),
        (date(2024, 3, 11), D(6)),
    ]


def test_import_refuses_files_without_the_columns(aapl, tmp_path):
    trades = tmp_path / "trades.csv"
    trades.write_text("time,symbol,price\n1,AAPL,100\n")
    with pytest.raises(CommandError, match="missing columns"):
        call_command("import_marketdata", "--trades", str(trades), "--first-date", "2024-03-08")
    assert SessionStats.objects.count() == 0
