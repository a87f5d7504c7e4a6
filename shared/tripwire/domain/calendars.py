"""Market calendars: when a market trades, declared once.

A bar exists only on a trading day (a *session*) and, intraday, only inside trading hours;
a weekend or a holiday without a bar is not a gap. Holidays come from the ``holidays``
package (maintained, pure Python, ~9 MB): its financial calendars for the New York Stock
Exchange (``XNYS``) and the Japan Exchange Group (``XJPX``, which also closes 31 Dec –
3 Jan), and Thailand's public holidays for the Stock Exchange of Thailand (``holidays``
has no SET calendar; SET closes on the public holidays — including the lunar Buddhist
days — and may add or drop a bridge day the government declares late).

Trading hours (regular sessions, local time; intraday bars start inside one):

- US, NYSE/Nasdaq: 09:30–16:00 America/New_York (nyse.com "Holidays & Trading Hours").
- JP, Tokyo Stock Exchange: 09:00–11:30 and 12:30–15:30 Asia/Tokyo (jpx.co.jp "Trading
  Hours"; the close moved from 15:00 to 15:30 on 5 Nov 2024).
- TH, SET: 10:00–12:30 and 14:30–16:30 Asia/Bangkok (set.or.th "Trading Hours").

Short sessions (``session_share``: the share of a regular session a day trades; its volume
is judged against a full session's scaled by it, ``features.ohlcv``):

- US: NYSE's early closes from ``holidays``' ``HALF_DAY`` category for ``XNYS``, close time
  read from its name. Since 1993 at 13:00 on the day before Independence Day (when 4 July
  falls Tuesday–Friday; in 1996 and 2002 the day after instead), the day after Thanksgiving
  and Christmas Eve (when 25 Dec falls Tuesday–Friday); 1990–92 at 14:00 (Christmas Eve,
  the day after Thanksgiving 1992), plus one-off closes (snowstorm 11 Feb 1994 at 14:30,
  26 Dec 1997, 31 Dec 1999). Sources: NYSE Rules (rule 51), nyse.com "Holidays & Trading
  Hours", NYSE's trading timeline (as cited in ``holidays.financial.ny_stock_exchange``).
- JP: the year's first and last trading days (daihakkai, dainokai) traded the morning session
  only (09:00–11:00 against 09:00–11:00 and 12:30–15:00) until the last day of 2008 and the
  first of 2009; full days from 30 Dec 2009 and 4 Jan 2010 (ja.wikipedia.org 大発会・大納会;
  Rakuten Securities, media.rakuten-sec.net/articles/print/18698).
- TH: none known; SET publishes no half-day sessions on its holiday calendar (set.or.th).

Intraday periods are stored as naive UTC (``domain.metrics.parse_period``); daily bars as
the exchange's local trading day.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

Hours = tuple[dt.time, dt.time]


class Market(StrEnum):
    """The markets with a declared calendar (``CALENDARS``)."""

    US = "US"
    JP = "JP"
    TH = "TH"


@dataclass(frozen=True)
class MarketCalendar:
    market: str  # Tripwire's market code (the market entity's id)
    timezone: str  # IANA name, as the provider's ``exchangeTimezoneName``
    hours: tuple[Hours, ...]  # regular sessions, local time, [open, close)
    holidays: tuple[str, str]  # ("financial", MIC) or ("country", ISO code)
    suffix: str  # the provider's symbol suffix (Yahoo: 7203.T, PTT.BK)
    source: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_session(self, day: dt.date) -> bool:
        """Whether the market trades on ``day`` (a weekday that is not a holiday)."""
        return day.weekday() < 5 and day not in _holidays(self.holidays, day.year)

    def session_share(self, day: dt.date) -> float:
        """The share of a regular session's hours the market trades on ``day``: 1.0, less
        on a short session (a US early close at 13:00: 3.5 of 6.5 hours), 0.0 when closed."""
        if not self.is_session(day):
            return 0.0
        return _SHORT_SESSIONS.get(self.market, _no_short_sessions)(self, day)

    def session_shares(self, days: list[dt.date]) -> list[float]:
        """``session_share`` of each day."""
        return [self.session_share(d) for d in days]

    def sessions(self, first: dt.date, last: dt.date) -> list[dt.date]:
        """The trading days in [first, last]."""
        days = (first + dt.timedelta(days=i) for i in range((last - first).days + 1))
        return [d for d in days if self.is_session(d)]

    def local(self, moment: dt.datetime) -> dt.datetime:
        """A naive UTC moment in the exchange's local time (naive)."""
        return moment.replace(tzinfo=dt.UTC).astimezone(self.zone).replace(tzinfo=None)

    def trading_day(self, moment: dt.datetime) -> dt.date:
        """The local day of a naive UTC moment (a daily bar's timestamp is its open)."""
        return self.local(moment).date()

    def in_hours(self, moment: dt.datetime) -> bool:
        """Whether an intraday bar starting at naive UTC ``moment`` lies in a session."""
        local = self.local(moment)
        clock = local.time()
        return self.is_session(local.date()) and any(a <= clock < b for a, b in self.hours)

    def missing(self, days: list[dt.date]) -> list[dt.date]:
        """The sessions between the first and last of ``days`` that have no bar — the real
        gaps; weekends and holidays never count."""
        if not days:
            return []
        have = set(days)
        return [d for d in self.sessions(min(days), max(days)) if d not in have]


def _t(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


CALENDARS: dict[str, MarketCalendar] = {
    c.market: c
    for c in (
        MarketCalendar(
            "US",
            "America/New_York",
            ((_t("09:30"), _t("16:00")),),
            ("financial", "XNYS"),
            "",
            "holidays.financial_holidays('XNYS'); hours: nyse.com",
        ),
        MarketCalendar(
            "JP",
            "Asia/Tokyo",
            ((_t("09:00"), _t("11:30")), (_t("12:30"), _t("15:30"))),
            ("financial", "XJPX"),
            ".T",
            "holidays.financial_holidays('XJPX'); hours: jpx.co.jp",
        ),
        MarketCalendar(
            "TH",
            "Asia/Bangkok",
            ((_t("10:00"), _t("12:30")), (_t("14:30"), _t("16:30"))),
            ("country", "TH"),
            ".BK",
            "holidays.country_holidays('TH') (public); hours: set.or.th",
        ),
    )
}
MARKETS: tuple[str, ...] = tuple(CALENDARS)
assert set(MARKETS) == {m.value for m in Market}


class UnknownCalendar(LookupError):
    """No calendar is declared for this market."""


def calendar_of(market: str) -> MarketCalendar:
    try:
        return CALENDARS[market]
    except KeyError:
        raise UnknownCalendar(f"no market calendar for {market!r}: {', '.join(MARKETS)}") from None


@lru_cache(maxsize=64)
def _holidays(kind: tuple[str, str], year: int) -> frozenset[dt.date]:
    import holidays  # only where a calendar is consulted

    family, code = kind
    table: Any = (
        holidays.financial_holidays(code, years=year)
        if family == "financial"
        else holidays.country_holidays(code, years=year)
    )
    return frozenset(table)


def _no_short_sessions(calendar: MarketCalendar, day: dt.date) -> float:
    return 1.0


_CLOSE_AT = re.compile(r"close at (\d{1,2}):(\d{2})\s*([ap]m)")
_US_OPEN, _US_CLOSE = 9.5, 16.0  # hours past midnight, New York


def _us_share(calendar: MarketCalendar, day: dt.date) -> float:
    """NYSE's early closes (``holidays``' HALF_DAY names say the time: "markets close at
    1:00pm"): the hours traded over the regular 6.5."""
    name = _us_early_closes(day.year).get(day)
    found = _CLOSE_AT.search(name or "")
    if found is None:
        return 1.0
    hour, minute, half = int(found[1]) % 12, int(found[2]), found[3]
    close = hour + (12 if half == "pm" else 0) + minute / 60
    return (close - _US_OPEN) / (_US_CLOSE - _US_OPEN)


@lru_cache(maxsize=64)
def _us_early_closes(year: int) -> dict[dt.date, str]:
    import holidays  # only where a calendar is consulted

    table: Any = holidays.financial_holidays("XNYS", years=year, categories=("half_day",))
    return dict(table)


# The year's first and last sessions traded 09:00-11:00 of the day's 4.5 hours (09:00-11:00,
# 12:30-15:00) through the first session of 2009 and the last of 2008 (sources above).
_JP_HALF_DAY_SHARE = 2.0 / 4.5
_JP_LAST_HALF_FIRST, _JP_LAST_HALF_LAST = 2009, 2008


def _jp_share(calendar: MarketCalendar, day: dt.date) -> float:
    first = day.year <= _JP_LAST_HALF_FIRST and day == _first_session(calendar, day.year)
    last = day.year <= _JP_LAST_HALF_LAST and day == _last_session(calendar, day.year)
    return _JP_HALF_DAY_SHARE if first or last else 1.0


@lru_cache(maxsize=64)
def _first_session(calendar: MarketCalendar, year: int) -> dt.date:
    return calendar.sessions(dt.date(year, 1, 1), dt.date(year, 1, 15))[0]


@lru_cache(maxsize=64)
def _last_session(calendar: MarketCalendar, year: int) -> dt.date:
    return calendar.sessions(dt.date(year, 12, 15), dt.date(year, 12, 31))[-1]


_SHORT_SESSIONS = {"US": _us_share, "JP": _jp_share}
