"""OHLCV CSV or XLSX as finance tools export it: ``Date,Open,High,Low,Close,Adj Close,Volume``.

Either one file per ticker (the ticker is ``ticker`` or the file name: ``AAPX.csv``) or a
long file with a ``Ticker`` (or ``Symbol``) column. Headers match case-insensitively;
``Datetime`` / ``Timestamp`` stand in for ``Date`` (intraday exports); ``Adj Close`` is
accepted and not stored (no corporate actions are modelled). A market profile holds
``market`` (the entity id is the market code) > ``<MARKET>-<SYMBOL>`` tickers, and the bars
are stored at ``interval``. Each bar is validated by ``OHLCVBar`` (prices > 0, low ≤ open,
close ≤ high) through the same ``Collector`` as the other imports: errors name the file,
the line and the column, and nothing is written unless every row is good (or skipped).

Dates may be ISO, ``M/D/YYYY`` or ``D.M.YYYY`` (``date_format``, else detected per file:
a file whose every date reads both ways is refused, naming its first line — see
``dates``), or spreadsheet cells: typed dates or Excel serial numbers. A file without a
single row is an error.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tripwire.domain.entities import Entity, EntityType, Profile, ProfileKind
from tripwire.domain.metrics import Interval, OHLCVBar, format_period
from tripwire.ingest.csv_files import Collector, LeafSeries
from tripwire.ingest.dates import detect_layout, layout_option, parse_day
from tripwire.ingest.errors import ImportRejected, RowError, row_errors
from tripwire.ingest.importer import ImportReport, import_parsed
from tripwire.ingest.tables import EXTRA, blank, read_table

FIELDS = {  # lower-case header -> OHLCVBar field
    "date": "period",
    "datetime": "period",
    "timestamp": "period",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "volume": "volume",
    "ticker": "ticker",
    "symbol": "ticker",
}
REQUIRED = ("period", "open", "high", "low", "close", "volume")
MARKET_CURRENCIES = {
    "US": "USD",
    "JP": "JPY",
    "TH": "THB",
    "GB": "GBP",
    "UK": "GBP",
    "DE": "EUR",
    "FR": "EUR",
    "CA": "CAD",
    "AU": "AUD",
    "IN": "INR",
    "HK": "HKD",
    "SG": "SGD",
}
_SYMBOL = re.compile(r"^[A-Z0-9.\-^=_]{1,32}$")
_MARKET = re.compile(r"^[A-Z0-9]{1,16}$")


def import_ohlcv(
    tenant: str,
    market: str,
    paths: list[Path],
    *,
    ticker: str | None = None,
    interval: Interval = Interval.D1,
    currency: str | None = None,
    profile_id: str | None = None,
    date_format: str | None = None,
    skip_bad_rows: bool = False,
    progress: bool = False,
    **stores: Any,
) -> ImportReport:
    """Read every file completely, then write the bars (nothing is written on a bad row)."""
    started = dt.datetime.now()
    market = market.strip().upper()
    if not _MARKET.match(market):
        raise ImportRejected([RowError("--market", 0, "market", f"{market!r} is not a code")])
    try:
        layout = layout_option(date_format)
    except ValueError as bad:
        raise ImportRejected([RowError("--date-format", 0, "date format", str(bad))]) from None
    if ticker is not None and len(paths) > 1:
        raise ImportRejected([RowError("--ticker", 0, "ticker", "one --ticker, several files")])
    collector = Collector(skip_bad_rows)
    leaves: LeafSeries = {}
    rows = 0
    for path in paths:
        rows += read_ohlcv_csv(
            path, market, leaves, collector, ticker, interval, progress, date_format=layout
        )
    return import_bars(
        tenant,
        market,
        leaves,
        rows=rows,
        skipped=collector.errors,
        interval=interval,
        currency=currency,
        profile_id=profile_id,
        started=started,
        **stores,
    )


def import_bars(
    tenant: str,
    market: str,
    leaves: LeafSeries,
    *,
    rows: int,
    skipped: list[RowError] | None = None,
    interval: Interval = Interval.D1,
    currency: str | None = None,
    profile_id: str | None = None,
    started: dt.datetime | None = None,
    **stores: Any,
) -> ImportReport:
    """Store validated bars (ticker id -> period -> OHLCV) under the market's profile: the
    write half of every OHLCV import, whether the bars came from files or the provider."""
    entities = [Entity(entity_id=market, entity_type=EntityType.MARKET, name=f"{market} market")]
    entities += [
        Entity(entity_id=t, entity_type=EntityType.TICKER, parent_id=market, name=symbol_of(t))
        for t in sorted(leaves)
    ]
    profile = Profile(
        tenant_id=tenant,
        profile_id=profile_id or market,
        kind=ProfileKind.MARKET,
        currency=(currency or MARKET_CURRENCIES.get(market, "USD")).upper(),
    )
    return import_parsed(
        profile,
        entities,
        leaves,
        rows=rows,
        skipped=skipped or [],
        interval=interval,
        started=started,
        **stores,
    )


def ticker_id(market: str, symbol: str) -> str:
    return f"{market}-{symbol}"


def symbol_of(entity_id: str) -> str:
    return entity_id.split("-", 1)[-1]


def read_ohlcv_csv(
    path: Path,
    market: str,
    leaves: LeafSeries,
    collector: Collector,
    ticker: str | None = None,
    interval: Interval = Interval.D1,
    progress: bool = False,
    date_format: str | None = None,
) -> int:
    """Add the file's bars (CSV or XLSX) to ``leaves`` (ticker id -> period -> OHLCV); rows
    accepted."""
    table = read_table(path, progress)
    headers = _headers(path.name, list(table.header))
    date_column = headers["period"]
    cells = [(line, row.get(date_column)) for line, row in table.rows]
    layout = layout_option(date_format) or detect_layout(cells, path.name, date_column)
    accepted = 0
    for line, row in table.rows:
        if EXTRA in row:
            collector.add([RowError(path.name, line, "row", "more cells than columns")])
            continue
        if all(blank(row.get(h)) for h in headers.values()):
            continue
        # A Ticker column wins; else the option; else the file name (one file per ticker).
        named = row.get(headers.get("ticker", ""))
        symbol = (str(named or "") or ticker or path.stem).strip().upper()
        if not _SYMBOL.match(symbol):
            field = headers.get("ticker", "ticker")
            collector.add([RowError(path.name, line, field, f"{symbol!r} is not a ticker symbol")])
            continue
        entity = ticker_id(market, symbol)
        data = {f: row.get(h) for f, h in headers.items() if f != "ticker"}
        data["period"] = _period(data["period"], interval, layout, table.epoch)
        try:
            bar = OHLCVBar.model_validate({**data, "entity_id": entity, "interval": interval})
        except ValidationError as invalid:
            collector.add(row_errors(invalid, path.name, line, {"entity_id": "ticker", **headers}))
            continue
        points = leaves.setdefault(entity, {})
        period = format_period(bar.period, interval)
        if period in points:
            collector.add(
                [RowError(path.name, line, headers["period"], f"{symbol} already has {period}")]
            )
            continue
        points[period] = bar.values()
        accepted += 1
    if not accepted:
        last = table.rows[-1][0] if table.rows else 1
        why = f"no row could be read ({len(table.rows)} skipped)" if table.rows else "no data rows"
        raise ImportRejected([RowError(path.name, last, "file", why)])
    return accepted


def _headers(source: str, names: list[str | None]) -> dict[str, str]:
    """field -> the header as the file spells it; a missing column stops the import."""
    found: dict[str, str] = {}
    for name in names:
        key = str(name or "").strip().lower()
        if key in FIELDS:
            found.setdefault(FIELDS[key], str(name))
    for field in REQUIRED:
        if field not in found:
            label = "Date" if field == "period" else field.title()
            raise ImportRejected([RowError(source, 1, label, "column is missing")])
    return found


def _period(value: Any, interval: Interval, layout: str | None, epoch: dt.datetime | None) -> Any:
    """The bar's period as ``OHLCVBar`` reads it: a day in the file's layout, a typed or
    serial spreadsheet date, or an intraday timestamp (its date part in the layout)."""
    if isinstance(value, dt.datetime) and interval is not Interval.D1:
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        day = parse_day(value, layout, epoch)
        if day is None or interval is Interval.D1:
            return day.isoformat() if day else value
        seconds = round((float(value) % 1) * 86400)  # a serial's fraction is the time of day
        return dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds)
    text = _day_part(str(value or ""), interval)
    if interval is Interval.D1 or isinstance(value, dt.date):
        day = parse_day(value if isinstance(value, dt.date) else text, layout, epoch)
        return day.isoformat() if day else text
    date_part, sep, rest = text.partition(" ") if "T" not in text[:11] else text.partition("T")
    day = parse_day(date_part, layout)
    return f"{day.isoformat()}T{rest}" if day and sep else text


def _day_part(text: str, interval: Interval) -> str:
    """Daily exports with a midnight timestamp (``2024-01-02 00:00:00-05:00``) are that day."""
    text = text.strip()
    if interval is Interval.D1 and len(text) > 10 and text[10] in "T " and text[11:16] == "00:00":
        return text[:10]
    return text
