"""Trading calendars: when each market opens and closes, from the maintained
`exchange-calendars` library (holidays, half days and daylight saving included, and
offline: the calendars ship with the package). No Django here: callers pass the code.

An instrument's calendar is its `calendar` field, or by asset class when that is blank:
equities and options trade on XNYS, crypto on the "24/7" calendar (one session per UTC
day, 00:00 to 24:00). Any exchange-calendars code works ("XNAS", "XLON", "XTKS", ...).

Session figures leave this module as plain data (`SessionWindow`), so the pure cores
(the simulator, the router's domain, the algorithms) take them as arguments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

DEFAULT_CALENDARS = {"EQUITY": "XNYS", "OPTION": "XNYS", "CRYPTO": "24/7"}
# The volume profile's buckets are this long: 13 on a regular XNYS day, 7 on a half day,
# 48 on a 24-hour day, 17 on XLON.
BUCKET_SECONDS = 1800.0


@dataclass(frozen=True, slots=True)
class SessionWindow:
    """One trading session of one calendar: its date label and its UTC open and close."""

    day: date
    open: datetime
    close: datetime

    @property
    def seconds(self) -> float:
        return (self.close - self.open).total_seconds()

    @property
    def buckets(self) -> int:
        return max(1, round(self.seconds / BUCKET_SECONDS))

    def contains(self, moment: datetime) -> bool:
        return self.open <= moment < self.close


def calendar_code(asset_class: str, calendar: str = "") -> str:
    return calendar or DEFAULT_CALENDARS.get(str(asset_class), "XNYS")


@lru_cache(maxsize=16)
def _calendar(code: str):
    import exchange_calendars

    try:
        return exchange_calendars.get_calendar(code)
    except exchange_calendars.errors.InvalidCalendarName:
        raise ValueError(f"unknown trading calendar {code!r} (an exchange-calendars code such as XNYS)") from None


def known_calendar(code: str) -> bool:
    try:
        _calendar(code)
    except ValueError:
        return False
    return True


def timezone_of(code: str) -> ZoneInfo:
    return ZoneInfo(str(_calendar(code).tz))


def _window(code: str, label) -> SessionWindow:
    cal = _calendar(code)
    return SessionWindow(
        label.date(), cal.session_open(label).to_pydatetime(), cal.session_close(label).to_pydatetime()
    )


@lru_cache(maxsize=4096)
def session_on(code: str, day: date) -> SessionWindow | None:
    """The session labelled `day`, None on a weekend or holiday."""
    import pandas as pd

    cal = _calendar(code)
    label = pd.Timestamp(day)
    if not (cal.first_session <= label <= cal.last_session) or not cal.is_session(label):
        return None
    return _window(code, label)


@lru_cache(maxsize=4096)
def session_on_or_after(code: str, day: date) -> SessionWindow:
    import pandas as pd

    label = _calendar(code).date_to_session(pd.Timestamp(day), direction="next")
    return _window(code, label)


def sessions_after(code: str, first: SessionWindow, count: int) -> SessionWindow:
    """The session `count` sessions after `first` (0: `first` itself)."""
    window = first
    for _ in range(count):
        window = session_on_or_after(code, window.day + timedelta(days=1))
    return window


def sessions_before(code: str, day: date, count: int) -> list[SessionWindow]:
    """The `count` sessions before `day` (exclusive), oldest first."""
    import pandas as pd

    cal = _calendar(code)
    last = cal.date_to_session(pd.Timestamp(day - timedelta(days=1)), direction="previous")
    return [_window(code, label) for label in cal.sessions_window(last, -count)]


def session_for_moment(code: str, moment: datetime) -> SessionWindow:
    """The session a timestamp belongs to: the one whose exchange-local date it falls on,
    else (a weekend or holiday) the next session. Pre-open and post-close prints of a day
    belong to that day's session."""
    local = moment.astimezone(timezone_of(code))
    window = session_on(code, local.date())
    if window is not None:
        return window
    return session_on_or_after(code, local.date())


def current_or_next_session(code: str, now: datetime) -> SessionWindow:
    """The session open at `now`, else the next one to open."""
    window = session_for_moment(code, now)
    if now < window.close:
        return window
    return session_on_or_after(code, window.day + timedelta(days=1))


def session_end(code: str, now: datetime) -> datetime:
    """End of day for an order working at `now`: the close of the session open now, else
    the close of the next session."""
    return current_or_next_session(code, now).close


def local_midnight(code: str, day: date) -> datetime:
    """00:00 of `day` in the calendar's time zone, in UTC."""
    return datetime.combine(day, time(0), tzinfo=timezone_of(code)).astimezone(UTC)


def regular_session_seconds(code: str, around: date | None = None) -> float:
    """The usual length of a session: the most common length over the month before
    `around` (default today), so one half day does not set it."""
    around = around or datetime.now(UTC).date()
    lengths = [w.seconds for w in sessions_before(code, around, 20)]
    return max(set(lengths), key=lambda s: (lengths.count(s), s)) if lengths else 6.5 * 3600


def fraction_of_session(window: SessionWindow, first: datetime, last: datetime) -> float:
    """Share of the session between two moments, both clipped to it: a recording's coverage."""
    start, end = max(first, window.open), min(last, window.close)
    if not window.seconds > 0 or end <= start:
        return 0.0
    return min(1.0, (end - start).total_seconds() / window.seconds)


def seconds_since_open(window: SessionWindow, moment: datetime) -> float:
    value = (moment - window.open).total_seconds()
    return value if math.isfinite(value) else 0.0
