"""The bars the local market data stand-in serves: synthetic markets, deterministic by seed.

For each market with a calendar (US, JP, TH) ``generate_market`` draws ``tickers`` tickers
× ``days`` trading days; the bars are laid on the market's real sessions from ``start``
(holidays skipped, ``domain.calendars``), each daily bar stamped at the session's open as
Yahoo does. Symbols are the generated ones with the market's Yahoo suffix (``AAPX``,
``AAPX.T``, ``AAPX.BK``). The first ticker of each market splits 4:1 halfway: its raw
prices before the split are 4× (its volume ¼) and ``adjclose`` carries the adjusted close,
so a client that adjusts sees the generated, continuous series. Intraday bars (1h, 15m, 5m)
fill each session's hours from the day's bar (a straight path from open to close, the day's
high and low reached once), already split-adjusted as Yahoo's are.
"""

from __future__ import annotations

import datetime
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from tripwire.demo.market import (
    DEFAULT_START,
    INCIDENT_FRACTION,
    GeneratedMarket,
    generate_market,
)
from tripwire.domain.calendars import CALENDARS, MarketCalendar
from tripwire.domain.runs import DetectionRun
from tripwire.ingest.ohlcv_csv import MARKET_CURRENCIES
from tripwire.local.market_provider import SymbolBars

SPLIT = 4.0
_STEP = {"1h": 60, "15m": 15, "5m": 5}


@dataclass(frozen=True)
class SyntheticBook:
    seed: int = 7
    tickers: int = 8
    days: int = 500
    start: dt.date = DEFAULT_START

    def generated(self, market: str) -> GeneratedMarket:
        return _generated(self.seed, self.tickers, self.days, market, self.start)

    def sessions(self, market: str) -> list[dt.date]:
        """The trading day each generated day is served on."""
        return _sessions(market, self.start, self.days)

    def symbols(self, market: str) -> list[str]:
        suffix = CALENDARS[market].suffix
        ids = [e["entity_id"] for e in self.generated(market).entities[1:]]
        return [i.split("-", 1)[1] + suffix for i in ids]

    def split_day(self, market: str) -> dt.date:
        """The day the market's first ticker splits (its first bar at the new price)."""
        return self.sessions(market)[self.days // 2]

    def session_of(self, market: str, generated_day: dt.date) -> dt.date:
        """The served trading day of a day of ``generated`` (its weekday calendar)."""
        days = np.unique(self.generated(market).bars["date"]).astype("datetime64[D]")
        index = int(np.searchsorted(days, np.datetime64(generated_day, "D")))
        return self.sessions(market)[index]

    def __call__(self, symbol: str, interval: str) -> SymbolBars | None:
        market = next((m for m in ("JP", "TH") if symbol.endswith(CALENDARS[m].suffix)), "US")
        if symbol not in self.symbols(market) or (interval != "1d" and interval not in _STEP):
            return None
        return _bars(self, market, self.symbols(market).index(symbol), interval)


@lru_cache(maxsize=8)
def _generated(seed: int, tickers: int, days: int, market: str, start: dt.date) -> GeneratedMarket:
    return generate_market(seed=seed, tickers=tickers, days=days, market=market, start=start)


@lru_cache(maxsize=8)
def _sessions(market: str, start: dt.date, days: int) -> list[dt.date]:
    calendar = CALENDARS[market]
    found: list[dt.date] = []
    day = start
    while len(found) < days:
        found += [day] if calendar.is_session(day) else []
        day += dt.timedelta(days=1)
    return found


@lru_cache(maxsize=64)
def _bars(book: SyntheticBook, market: str, index: int, interval: str) -> SymbolBars:
    calendar = CALENDARS[market]
    table = book.generated(market).bars.reshape(book.days, book.tickers)[:, index]
    o, h, lo, c = (table[f].astype(np.float64) for f in ("open", "high", "low", "close"))
    v = table["volume"].astype(np.float64)
    sessions = book.sessions(market)
    currency = MARKET_CURRENCIES.get(market, "USD")
    if interval == "1d":
        factor = np.where(np.arange(book.days) < book.days // 2, SPLIT, 1.0) if index == 0 else 1.0
        factor = np.broadcast_to(factor, (book.days,))
        return SymbolBars(
            timezone=calendar.timezone,
            currency=currency,
            moments=[_epoch(calendar, d, calendar.hours[0][0]) for d in sessions],
            open=_cents(o * factor),
            high=_cents(h * factor),
            low=_cents(lo * factor),
            close=_cents(c * factor),
            volume=[round(x) for x in v / factor],
            adjclose=_cents(c),
        )
    return _intraday(calendar, sessions, o, h, lo, c, v, _STEP[interval], currency)


def _intraday(
    calendar: MarketCalendar,
    sessions: list[dt.date],
    o: np.ndarray,
    h: np.ndarray,
    lo: np.ndarray,
    c: np.ndarray,
    v: np.ndarray,
    minutes: int,
    currency: str,
) -> SymbolBars:
    out = SymbolBars(calendar.timezone, currency, [], [], [], [], [], [])
    for d, day in enumerate(sessions):
        starts = [t for a, b in calendar.hours for t in _steps(day, a, b, minutes, calendar)]
        k = len(starts)
        path = o[d] + (c[d] - o[d]) * np.arange(k + 1) / k
        for j, moment in enumerate(starts):
            first, last = float(path[j]), float(path[j + 1])
            top = h[d] if j == k // 3 else max(first, last) + 0.5 * (h[d] - max(o[d], c[d]))
            bottom = (
                lo[d] if j == 2 * k // 3 else min(first, last) - 0.5 * (min(o[d], c[d]) - lo[d])
            )
            out.moments.append(int(moment.timestamp()))
            out.open.append(round(first, 4))
            out.high.append(round(max(top, first, last), 4))
            out.low.append(round(min(bottom, first, last), 4))
            out.close.append(round(last, 4))
            out.volume.append(round(v[d] / k))
    return out


def _steps(
    day: dt.date, a: dt.time, b: dt.time, minutes: int, calendar: MarketCalendar
) -> list[dt.datetime]:
    start = dt.datetime.combine(day, a, tzinfo=calendar.zone)
    end = dt.datetime.combine(day, b, tzinfo=calendar.zone)
    count = int((end - start).total_seconds() // (minutes * 60))
    return [start + dt.timedelta(minutes=minutes * i) for i in range(count)]


def _epoch(calendar: MarketCalendar, day: dt.date, at: dt.time) -> int:
    return int(dt.datetime.combine(day, at, tzinfo=calendar.zone).timestamp())


def _cents(values: np.ndarray) -> list[float]:
    return [round(float(x), 2) for x in values]


# --- the demo's market section -----------------------------------------------------------


def show_market_demo(
    tenant: str,
    api: Callable[[str, str, dict[str, Any] | None], dict[str, Any]],
    drain: Callable[[], None],
    book: SyntheticBook,
    *,
    market: str = "US",
) -> list[str]:
    """Backfill the book's tickers by symbol through ``POST /backfill`` (the worker fetches
    them from the market data stand-in), train the market's model on the clean history,
    backfill again to detect, and say which planted incidents the alerts caught.

    ``api(method, path, body)`` calls the running stack's API; ``drain`` waits for its
    queue. Returns the lines to print.
    """
    from tripwire.service.fanout import progress
    from tripwire.service.market import train_market
    from tripwire.store.alerts import AlertStore

    symbols = book.symbols(market)

    def backfill_all() -> list[DetectionRun]:
        body = {"market": market, "max_period": "5y", "force": True}
        ids = [api("POST", "/backfill", {**body, "ticker": s})["backfill_id"] for s in symbols]
        drain()
        return [run for run in (progress(tenant, i) for i in ids) if run is not None]

    first_pass = backfill_all()
    lines = [
        f"POST /backfill by symbol × {len(symbols)} ({', '.join(symbols)}): "
        f"{sum(r.rows_loaded for r in first_pass)} bars fetched from the market data "
        f"stand-in, {sum(r.rows_preprocessed for r in first_pass)} stored (adjusted, on the "
        f"{market} calendar); runs {first_pass[0].status}: no model yet (training is not in "
        "Lambda)"
    ]
    generated = book.generated(market)
    sessions = book.sessions(market)
    first = len(sessions) - max(20, math.ceil(INCIDENT_FRACTION * len(sessions)))
    clean_end = datetime.datetime.combine(sessions[first - 1], datetime.time())
    lines.append(train_market(tenant, market, end=clean_end).summary())
    runs = backfill_all()
    alerts = AlertStore().get_many(tenant, [a for r in runs for a in r.alert_ids])
    found = [a for a in alerts.values() if a.period.date() >= sessions[first]]
    split = book.split_day(market)
    split_alerted = any(a.period.date() == split for a in alerts.values())
    lines.append(
        f"POST /backfill again × {len(runs)}: {sum(r.rows_processed for r in runs)} "
        f"ticker-bars detected, {len(alerts)} anomalies ({len(found)} in the incident period "
        f"{sessions[first]} … {sessions[-1]}); split day {split} of "
        f"{symbols[0]} (4:1) alerted: {split_alerted}"
    )
    caught = 0
    for incident in generated.incidents:
        start = book.session_of(market, incident.start)
        end = book.session_of(market, incident.end)
        hits = [
            a
            for a in found
            if a.entity_id.split("-", 1)[1] == incident.root_entity.split("-", 1)[1]
            and start <= a.period.date() <= end
        ]
        caught += bool(hits)
        mark = "✔" if hits else "✘"
        why = ""
        if hits:
            top = hits[0].explanation[0]
            why = f" → {hits[0].severity} alert, top feature {top.feature} = {top.actual:.4g}"
        lines.append(f"  {mark} {start} {incident.kind:<17} {incident.description}{why}")
    lines.append(f"  caught {caught} of {len(generated.incidents)} planted market incidents")
    return lines
