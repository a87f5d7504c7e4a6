"""Market sync: a ticker's bars fetched by symbol from the market data source and stored
through the OHLCV import path (``ingest.ohlcv_csv.import_bars``), before a scan detects them.

``fetch_ticker`` serves a backfill by symbol (its whole range); ``refresh_tickers`` serves a
scheduled scan: for each ticker the profile keeps up to date it asks only for bars after the
last one detected — and not at all when the market has had no trading session since (a
weekend or a holiday is not missing data). Both run in the scan worker, which carries no
training code: a market without a trained model gets its bars stored and the run fails
saying so (``NOT_TRAINED``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from tripwire.domain.calendars import MarketCalendar, calendar_of
from tripwire.domain.entities import Entity
from tripwire.domain.metrics import Interval
from tripwire.ingest.market_source import (
    REACH,
    EmptyHistory,
    MarketDataSource,
    Prepared,
    YahooChart,
    prepare,
)
from tripwire.ingest.ohlcv_csv import import_bars, ticker_id
from tripwire.service.market import MAX_CATCHUP_BARS, back_from
from tripwire.service.messages import ScanMessage
from tripwire.service.runs import utcnow
from tripwire.service.scoring import ScanStores


@dataclass
class Fetched:
    """What a sync fetched and kept, for the run's ``rows_loaded`` / ``rows_preprocessed``."""

    received: int = 0
    kept: int = 0
    warnings: list[str] = field(default_factory=list)


def not_trained(market: str, interval: Interval, fetched: Fetched) -> str:
    return (
        f"market {market} has no trained {interval.value} model: {fetched.kept} bars were "
        f"stored but none detected. Train it where scikit-learn runs (`tripwire market train "
        f"--profile {market} --interval {interval.value}`; no Lambda carries training code), "
        "then backfill again"
    )


def fetch_ticker(
    message: ScanMessage, stores: ScanStores, source: MarketDataSource | None = None
) -> Fetched:
    """A backfill by symbol: the history of ``message.start``..``message.end`` fetched,
    adjusted, put on the market's calendar and stored. ``ProviderError`` ends it."""
    assert message.fetch is not None and message.start is not None
    end = message.end or utcnow().date()
    return fetch_history(
        message.tenant_id,
        message.profile_id,
        message.fetch.market,
        message.fetch.symbol,
        message.start,
        end,
        message.interval,
        stores=stores,
        source=source,
    )


def fetch_history(
    tenant: str,
    profile: str,
    market: str,
    symbol: str,
    first: dt.date,
    last: dt.date,
    interval: Interval,
    *,
    stores: ScanStores | None = None,
    source: MarketDataSource | None = None,
) -> Fetched:
    """A symbol's bars of ``first``..``last`` from ``source`` (the chart client by default),
    stored under the market's profile; the profile keeps the symbol up to date from then on."""
    stores = stores or ScanStores()
    calendar = calendar_of(market)
    now = utcnow()
    start = dt.datetime.combine(first, dt.time())
    end = min(dt.datetime.combine(last, dt.time()) + dt.timedelta(days=1), now)
    fetched = Fetched()
    reach = REACH[interval]
    if reach is not None and start < now - reach:
        start = now - reach
        fetched.warnings.append(
            f"the market data source keeps {interval.value} bars for {reach.days} days: "
            f"fetched from {start:%Y-%m-%d}"
        )
    history = (source or YahooChart()).history(symbol, start, end, interval)
    entity = ticker_id(market, symbol)
    prepared = prepare(history, calendar, interval, entity, now=now)
    _store(tenant, profile, interval, stores, {entity: symbol}, {entity: prepared}, fetched)
    return fetched


def refresh_tickers(
    message: ScanMessage,
    stores: ScanStores,
    tickers: Sequence[Entity],
    source: MarketDataSource | None = None,
) -> Fetched:
    """A scheduled scan's first step: each ticker the profile keeps up to date gets the bars
    after its last detected one (``ProviderError`` ends the slice; an empty answer is
    nothing new)."""
    fetched = Fetched()
    profile = stores.catalog.get_profile(message.tenant_id, message.profile_id)
    connected = [t for t in tickers if profile is not None and t.entity_id in profile.symbols]
    if profile is None or not connected:
        return fetched
    now, source = utcnow(), source or YahooChart()
    units = {t.parent_id for t in connected if t.parent_id}
    states = stores.metadata.read(message.tenant_id, message.profile_id, message.interval, units)
    prepared: dict[str, Prepared] = {}
    for ticker in connected:
        state = states.get(ticker.entity_id)
        last = state.meta.last_detected if state is not None else None
        calendar = calendar_of(str(ticker.parent_id))
        if last is not None and not _sessions_since(calendar, last, message.interval, now):
            fetched.warnings.append(
                f"nothing new for {ticker.entity_id}: no {calendar.market} trading session "
                f"since its last bar ({last:%Y-%m-%d %H:%M})"
            )
            continue
        start = (
            _after(last, message.interval)
            if last
            else back_from(now, MAX_CATCHUP_BARS, message.interval)
        )
        symbol = profile.symbols[ticker.entity_id]
        try:
            history = source.history(symbol, start, now, message.interval)
        except EmptyHistory:
            fetched.warnings.append(f"nothing new for {ticker.entity_id}: no bars after {start}")
            continue
        bars = prepare(history, calendar, message.interval, ticker.entity_id, now=now)
        bars.points = {p: v for p, v in bars.points.items() if _moment(p) >= start}
        if not bars.points:
            fetched.warnings.append(f"nothing new for {ticker.entity_id}: no finished bars yet")
            continue
        prepared[ticker.entity_id] = bars
    tenant, profile_id = message.tenant_id, message.profile_id
    _store(tenant, profile_id, message.interval, stores, {}, prepared, fetched)
    return fetched


def _store(
    tenant: str,
    profile_id: str,
    interval: Interval,
    stores: ScanStores,
    symbols: dict[str, str],
    prepared: dict[str, Prepared],
    fetched: Fetched,
) -> None:
    """Every ticker's kept bars through the OHLCV import path, one import per market; the
    profile remembers the symbols it now keeps up to date."""
    by_market: dict[str, dict[str, dict[str, tuple[float, ...]]]] = {}
    for entity, bars in prepared.items():
        fetched.received += bars.received
        fetched.kept += len(bars.points)
        fetched.warnings += [f"{entity}: {w}" for w in bars.warnings()]
        if bars.points:
            by_market.setdefault(entity.split("-", 1)[0], {})[entity] = bars.points
    for market, leaves in by_market.items():
        import_bars(
            tenant,
            market,
            leaves,
            rows=sum(map(len, leaves.values())),
            interval=interval,
            profile_id=profile_id,
            catalog=stores.catalog,
            metrics=stores.metrics,
        )
    profile = stores.catalog.get_profile(tenant, profile_id)
    if symbols and profile is not None and not symbols.items() <= profile.symbols.items():
        merged = {**profile.symbols, **symbols}
        stores.catalog.put_profile(profile.model_copy(update={"symbols": merged}))


def _sessions_since(
    calendar: MarketCalendar, last: dt.datetime, interval: Interval, now: dt.datetime
) -> bool:
    """Whether the market has traded since the bar at ``last`` (naive UTC; a daily bar's
    moment is its day): a later session, or for intraday bars later hours of the same one."""
    today = calendar.local(now).date()
    if interval is Interval.D1:
        return bool(calendar.sessions(last.date() + dt.timedelta(days=1), today))
    return bool(calendar.sessions(calendar.local(last).date(), today))


def _after(last: dt.datetime, interval: Interval) -> dt.datetime:
    return last + (dt.timedelta(days=1) if interval is Interval.D1 else dt.timedelta(seconds=1))


def _moment(period: str) -> dt.datetime:
    return dt.datetime.fromisoformat(period)
