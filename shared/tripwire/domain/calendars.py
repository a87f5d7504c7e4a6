"""Market calendars: when a market trades, declared once.

A bar exists only on a trading day (a *session*) and, intraday, only inside trading hours;
a weekend or a holiday without a bar is not a gap. Holidays come from the ``holidays``
package (maintained, pure Python, ~9 MB): its financial calendars for the New York Stock
Exchange (``XNYS``) and the Japan Exchange Group (``XJPX``, which also closes 31 Dec –
3 Jan), and Thailand's public holidays for the Stock Exchange of Thailand (``holidays``
has no SET calendar; SET closes on the public holidays — including the lunar Buddhist
days — and may add or drop a bridge day the government declares late).

Trading hours (regular sessions, local time; intraday bars start inside one):

- US, NYSE/Nasdaq: 09:30–16:00 America/New_York (nyse.com "Holidays & Trading Hours");
  early closes at 13:00 are not modelled (their afternoon bars are simply absent).
- JP, Tokyo Stock Exchange: 09:00–11:30 and 12:30–15:30 Asia/Tokyo (jpx.co.jp "Trading
  Hours"; the close moved from 15:00 to 15:30 on 5 Nov 2024).
- TH, SET: 10:00–12:30 and 14:30–16:30 Asia/Bangkok (set.or.th "Trading Hours").

Intraday periods are stored as naive UTC (``domain.metrics.parse_period``); daily bars as
the exchange's local trading day.
"""

from __future__ import annotations

import datetime as dt
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
