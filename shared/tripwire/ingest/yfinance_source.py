"""yfinance — the original system's provider — as a ``MarketDataSource``, where it fits.

yfinance with pandas is ~169 MB unpacked: too big for a Lambda beside the numeric layer
(README "Markets"), so it runs on the CLI side only (``tripwire market fetch --provider
yfinance``; ``pip install 'tripwire[yahoo]'``), never in a function. It asks Yahoo for the
same chart data as ``YahooChart``, unadjusted (``auto_adjust=False``) so that ``prepare``
adjusts every source's bars the same way, from the ``Adj Close`` column.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tripwire.domain.metrics import Interval
from tripwire.ingest.market_source import EmptyHistory, History, ProviderError, RateLimited


class YFinanceSource:
    def __init__(self, ticker: Any = None) -> None:
        self._ticker = ticker  # yfinance.Ticker, or a stand-in with the same ``history``

    def history(
        self, symbol: str, start: dt.datetime, end: dt.datetime, interval: Interval
    ) -> History:
        try:
            import yfinance  # the CLI side only
            from yfinance.exceptions import YFRateLimitError
        except ImportError as missing:
            raise ProviderError(
                "yfinance is not installed: pip install 'tripwire[yahoo]'"
            ) from missing
        ticker = (self._ticker or yfinance.Ticker)(symbol)
        try:
            frame = ticker.history(
                start=start.replace(tzinfo=dt.UTC),
                end=end.replace(tzinfo=dt.UTC),
                interval=interval.value,
                auto_adjust=False,
                actions=False,
            )
        except YFRateLimitError as limited:
            raise RateLimited(f"market data source (yfinance): {limited}") from None
        if frame is None or frame.empty:
            raise EmptyHistory(f"market data source (yfinance): no bars for {symbol}")
        index = frame.index
        zone = str(index.tz) if index.tz is not None else "UTC"
        utc = index.tz_convert("UTC") if index.tz is not None else index
        column = lambda name: [None if v != v else float(v) for v in frame[name]]  # noqa: E731
        return History(
            symbol=symbol,
            timezone=zone,
            moments=[t.to_pydatetime().replace(tzinfo=None) for t in utc],
            open=column("Open"),
            high=column("High"),
            low=column("Low"),
            close=column("Close"),
            volume=column("Volume"),
            adjclose=column("Adj Close") if "Adj Close" in frame else None,
        )
