"""A market data source: a ticker's bars by symbol, and the provider behind it.

``MarketDataSource.history(symbol, start, end, interval)`` is all Tripwire asks of a
provider. ``YahooChart`` implements it on Yahoo Finance's chart endpoint
(``/v8/finance/chart/{symbol}?period1=&period2=&interval=&events=div,splits`` — the JSON
that yfinance itself reads: ``chart.result[0].timestamp``, ``indicators.quote[0]``
open/high/low/close/volume, ``indicators.adjclose[0].adjclose``, ``meta``, ``chart.error``)
with the standard library only: yfinance with pandas and numpy is ~169 MB unpacked (112 MB
besides numpy), which does not fit a Lambda beside the numeric layer (README "Markets").
The base URL is ``TRIPWIRE_MARKET_URL`` (the local stack points it at its stand-in).

Failures end a fetch with a ``ProviderError`` naming the reason: 429 and 5xx answers are
retried with exponential backoff first (``TRIPWIRE_MARKET_BACKOFF`` seconds, doubling;
``Retry-After`` is honoured), an unknown symbol and an empty history are not.

``prepare`` turns a history into stored bars: adjusted prices throughout (every price times
``adjclose / close``, volume divided by it — ``features.ohlcv.adjusted`` — so a split day
is no move), daily bars on the exchange's trading days, intraday bars only in trading hours
(``domain.calendars``), bars still forming dropped, malformed bars skipped and counted.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError

from tripwire.domain.calendars import MarketCalendar
from tripwire.domain.metrics import Interval, OHLCVBar, format_period

URL_ENV = "TRIPWIRE_MARKET_URL"
BACKOFF_ENV = "TRIPWIRE_MARKET_BACKOFF"
DEFAULT_URL = "https://query2.finance.yahoo.com"
ATTEMPTS = 4  # one try and three retries: 1 + 2 + 4 s of backoff by default
MAX_WAIT = 30.0  # seconds, whatever Retry-After says
# How far back the provider keeps each interval (Yahoo: intraday bars for 60 / 730 days).
REACH = {
    Interval.D1: None,
    Interval.H1: dt.timedelta(days=729),
    Interval.M15: dt.timedelta(days=59),
    Interval.M5: dt.timedelta(days=59),
}
_WIDTH = {
    Interval.H1: dt.timedelta(hours=1),
    Interval.M15: dt.timedelta(minutes=15),
    Interval.M5: dt.timedelta(minutes=5),
}
_USER_AGENT = "Mozilla/5.0 (compatible; tripwire market sync)"


class ProviderError(RuntimeError):
    """The provider could not give the history; the message says why."""


class RateLimited(ProviderError):
    """429 after every retry."""


class ProviderUnavailable(ProviderError):
    """5xx (or no answer) after every retry."""


class UnknownSymbol(ProviderError):
    """The provider knows no such symbol."""


class EmptyHistory(ProviderError):
    """The provider answered with no bars for the range."""


@dataclass
class History:
    """A ticker's bars as the provider gave them: naive UTC bar starts, raw prices and the
    adjusted closes (None where the provider gives none, as for intraday bars)."""

    symbol: str
    timezone: str
    moments: list[dt.datetime]
    open: list[float | None]
    high: list[float | None]
    low: list[float | None]
    close: list[float | None]
    volume: list[float | None]
    adjclose: list[float | None] | None = None


class MarketDataSource(Protocol):
    def history(
        self, symbol: str, start: dt.datetime, end: dt.datetime, interval: Interval
    ) -> History:
        """Bars starting in [start, end) (naive UTC); ``EmptyHistory`` when there are none."""
        ...


class YahooChart:
    """Yahoo Finance's chart endpoint over urllib (no third-party dependency)."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        attempts: int = ATTEMPTS,
        backoff: float | None = None,
        timeout: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = (base_url or os.environ.get(URL_ENV) or DEFAULT_URL).rstrip("/")
        self.attempts = attempts
        self.backoff = backoff if backoff is not None else float(os.environ.get(BACKOFF_ENV, "1"))
        self.timeout = timeout
        self.sleep = sleep

    def url(self, symbol: str, start: dt.datetime, end: dt.datetime, interval: Interval) -> str:
        query = urllib.parse.urlencode(
            {
                "period1": _epoch(start),
                "period2": _epoch(end),
                "interval": interval.value,
                "events": "div,splits",
                "includePrePost": "false",
            }
        )
        return f"{self.base_url}/v8/finance/chart/{urllib.parse.quote(symbol, safe='')}?{query}"

    def history(
        self, symbol: str, start: dt.datetime, end: dt.datetime, interval: Interval
    ) -> History:
        return parse_chart(symbol, self._get(self.url(symbol, start, end, interval), symbol))

    def _get(self, url: str, symbol: str) -> dict[str, Any]:
        request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
        why = ""
        for attempt in range(self.attempts):
            wait = self.backoff * 2**attempt
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                    return dict(json.loads(answer.read()))
            except urllib.error.HTTPError as failed:
                body = _json_of(failed)
                if failed.code == 404 or (failed.code < 500 and failed.code != 429):
                    raise UnknownSymbol(_chart_error(body, symbol, failed.code)) from None
                why = f"HTTP {failed.code} {failed.reason}"
                retry_after = failed.headers.get("Retry-After") if failed.headers else None
                if retry_after and retry_after.isdigit():
                    wait = max(wait, float(retry_after))
                last: type[ProviderError] = (
                    RateLimited if failed.code == 429 else ProviderUnavailable
                )
            except (urllib.error.URLError, TimeoutError, ConnectionError) as failed:
                why, last = f"no answer ({failed})", ProviderUnavailable
            if attempt + 1 < self.attempts:
                self.sleep(min(wait, MAX_WAIT))
        raise last(f"market data source: {why} for {symbol} after {self.attempts} attempts")


def parse_chart(symbol: str, body: dict[str, Any]) -> History:
    """The chart JSON as a ``History``; an error or a result without bars raises."""
    chart = body.get("chart") or {}
    if chart.get("error"):
        raise UnknownSymbol(_chart_error(body, symbol, 200))
    results = chart.get("result") or []
    if not results:
        raise EmptyHistory(f"market data source: no history for {symbol}")
    result = results[0]
    stamps = result.get("timestamp") or []
    quote = ((result.get("indicators") or {}).get("quote") or [{}])[0]
    if not stamps or not quote:
        raise EmptyHistory(f"market data source: no bars for {symbol} in the range asked")
    adj = (result.get("indicators") or {}).get("adjclose")
    meta = result.get("meta") or {}
    n = len(stamps)
    column = lambda name: list((quote.get(name) or [None] * n)[:n])  # noqa: E731
    return History(
        symbol=symbol,
        timezone=str(meta.get("exchangeTimezoneName") or "UTC"),
        moments=[dt.datetime.fromtimestamp(int(s), dt.UTC).replace(tzinfo=None) for s in stamps],
        open=column("open"),
        high=column("high"),
        low=column("low"),
        close=column("close"),
        volume=column("volume"),
        adjclose=list(adj[0].get("adjclose") or [])[:n] if adj else None,
    )


@dataclass
class Prepared:
    """Bars ready to store: period -> adjusted (open, high, low, close, volume)."""

    points: dict[str, tuple[float, ...]] = field(default_factory=dict)
    received: int = 0  # bars the provider sent
    outside: int = 0  # not on a trading day / in trading hours
    forming: int = 0  # the current bar, not finished yet
    malformed: int = 0  # a missing value, or prices that contradict each other
    missing: list[dt.date] = field(default_factory=list)  # sessions with no bar: real gaps

    def warnings(self) -> list[str]:
        said = []
        if self.outside:
            said.append(f"{self.outside} bars outside trading days or hours dropped")
        if self.malformed:
            said.append(f"{self.malformed} malformed bars skipped")
        if self.missing:
            said.append(f"{len(self.missing)} trading days without a bar (first {self.missing[0]})")
        return said


def prepare(
    history: History,
    calendar: MarketCalendar,
    interval: Interval,
    entity_id: str,
    *,
    now: dt.datetime | None = None,
) -> Prepared:
    """Adjusted bars on the market's calendar (see the module's doc)."""
    import numpy as np  # here: the scheduler and the runs API import the errors above only

    from tripwire.features.ohlcv import adjusted

    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    out = Prepared(received=len(history.moments))
    columns = (history.open, history.high, history.low, history.close, history.volume)
    adj = history.adjclose
    daily = interval is Interval.D1
    for i, moment in enumerate(history.moments):
        values = [c[i] if i < len(c) else None for c in columns]
        factor = adj[i] if adj is not None and i < len(adj) else values[3]
        if any(v is None for v in values) or factor is None:
            out.malformed += 1
            continue
        day = calendar.trading_day(moment)
        if not (calendar.is_session(day) if daily else calendar.in_hours(moment)):
            out.outside += 1
            continue
        if _forming(calendar, moment, interval, now):
            out.forming += 1
            continue
        raw = np.array([values], dtype=np.float64)
        try:
            o, h, lo, c, v = adjusted(raw, [factor])[0]
            period: Any = day if daily else moment
            bar = OHLCVBar(
                entity_id=entity_id,
                interval=interval,
                period=period,
                open=round(o, 6),
                high=round(h, 6),
                low=round(lo, 6),
                close=round(c, 6),
                volume=round(v),
            )
        except (ValueError, ValidationError):
            out.malformed += 1
            continue
        out.points[format_period(bar.period, interval)] = bar.values()
    if daily:
        out.missing = calendar.missing([dt.date.fromisoformat(p) for p in out.points])
    return out


def _forming(
    calendar: MarketCalendar, moment: dt.datetime, interval: Interval, now: dt.datetime
) -> bool:
    """Whether the bar starting at ``moment`` is still forming at ``now`` (naive UTC)."""
    if interval is not Interval.D1:
        return moment + _WIDTH[interval] > now
    day = calendar.trading_day(moment)
    close = dt.datetime.combine(day, calendar.hours[-1][1], tzinfo=calendar.zone)
    return close.astimezone(dt.UTC).replace(tzinfo=None) > now


def _epoch(moment: dt.datetime) -> int:
    return int(moment.replace(tzinfo=dt.UTC).timestamp())


def _json_of(failed: urllib.error.HTTPError) -> dict[str, Any]:
    try:
        return dict(json.loads(failed.read() or b"{}"))
    except (ValueError, TypeError):
        return {}


def _chart_error(body: dict[str, Any], symbol: str, status: int) -> str:
    error = (body.get("chart") or {}).get("error") or {}
    said = error.get("description") or error.get("code") or f"HTTP {status}"
    return f"market data source: unknown symbol {symbol} ({said})"
