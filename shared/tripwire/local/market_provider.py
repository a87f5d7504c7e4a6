"""A local stand-in for the market data source: Yahoo Finance's chart endpoint over HTTP.

``GET /v8/finance/chart/{symbol}?period1=&period2=&interval=`` answers as Yahoo does
(``chart.result[0]``: ``meta.exchangeTimezoneName``, ``timestamp``, ``indicators.quote[0]``
open/high/low/close/volume and, for daily bars, ``indicators.adjclose[0].adjclose``; an
unknown symbol is a 404 whose ``chart.error`` says so; a range without bars is a result
without ``timestamp``). The bars come from a *book* (symbol, interval → bars), which the
caller supplies — ``tripwire.demo.market_book`` builds deterministic synthetic ones; with
none every symbol is unknown. ``fail`` and ``empty`` inject the provider's failures: the
next answers for a symbol are 429s or 5xx, or it has no history at all; ``slow`` delays
its answers.

``start`` returns the variables that point the real client at it (``TRIPWIRE_MARKET_URL``)
and shorten its backoff, so the production code path is what runs locally.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tripwire.ingest.market_source import BACKOFF_ENV, URL_ENV
from tripwire.local.serving import serve, shut_down

HOST = "127.0.0.1"
PATH = "/v8/finance/chart/"


@dataclass(frozen=True)
class SymbolBars:
    """A symbol's bars at one interval, oldest first: epoch-second starts, raw prices, and
    adjusted closes (daily bars; None for intraday, as Yahoo)."""

    timezone: str
    currency: str
    moments: list[int]
    open: list[float]
    high: list[float]
    low: list[float]
    close: list[float]
    volume: list[float]
    adjclose: list[float] | None = None


Book = Callable[[str, str], SymbolBars | None]  # (symbol, interval) -> bars; None: unknown


class LocalMarketProvider:
    def __init__(self, book: Book | None = None, *, port: int = 0) -> None:
        self.book: Book = book or (lambda symbol, interval: None)
        self.port = port
        self.requests: list[str] = []  # the paths asked, in order (tests read them)
        self._faults: dict[str, list[int]] = {}
        self._empty: set[str] = set()
        self._slow: dict[str, float] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the market data stand-in has not been started")
        return f"http://{HOST}:{self._server.server_address[1]}"

    def start(self) -> dict[str, str]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = provider.answer(self.path)
                payload = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                kind = "text/plain" if isinstance(body, str) else "application/json"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_: Any) -> None:
                return

        self._server = ThreadingHTTPServer((HOST, self.port), Handler)
        self._server.daemon_threads = True
        self._thread = serve(self._server)
        return {URL_ENV: self.url, BACKOFF_ENV: "0.01"}

    def stop(self) -> None:
        if self._server is not None:
            shut_down(self._server, self._thread)
        self._server = self._thread = None

    # -- failures the provider can have ---------------------------------------------------

    def fail(self, symbol: str, *statuses: int) -> None:
        """The next ``len(statuses)`` answers for ``symbol`` are these HTTP statuses."""
        with self._lock:
            self._faults.setdefault(symbol, []).extend(statuses)

    def slow(self, symbol: str, seconds: float) -> None:
        """Answers for ``symbol`` take ``seconds`` (a slow provider; 0 for normal)."""
        with self._lock:
            self._slow[symbol] = seconds

    def empty(self, symbol: str, on: bool = True) -> None:
        """``symbol`` exists but has no bars in any range."""
        with self._lock:
            (self._empty.add if on else self._empty.discard)(symbol)

    # -- the endpoint ---------------------------------------------------------------------

    def answer(self, path: str) -> tuple[int, dict[str, Any] | str]:
        self.requests.append(path)
        parts = urllib.parse.urlsplit(path)
        if not parts.path.startswith(PATH):
            return 404, {"finance": {"result": None, "error": {"code": "Not Found"}}}
        symbol = urllib.parse.unquote(parts.path[len(PATH) :])
        query = dict(urllib.parse.parse_qsl(parts.query))
        with self._lock:
            queued = self._faults.get(symbol)
            status = queued.pop(0) if queued else 200
            delay = self._slow.get(symbol, 0.0)
        time.sleep(delay)
        if status == 429:
            return 429, "Too Many Requests"
        if status != 200:
            return status, f"{status} Server Error"
        interval = query.get("interval", "1d")
        bars = self.book(symbol, interval)
        if bars is None:
            error = {"code": "Not Found", "description": "No data found, symbol may be delisted"}
            return 404, {"chart": {"result": None, "error": error}}
        first, last = int(query.get("period1", 0)), int(query.get("period2", 2**40))
        keep = [
            i for i, m in enumerate(bars.moments) if first <= m < last and symbol not in self._empty
        ]
        return 200, {"chart": {"result": [_result(symbol, interval, bars, keep)], "error": None}}


def _result(symbol: str, interval: str, bars: SymbolBars, keep: list[int]) -> dict[str, Any]:
    meta = {
        "currency": bars.currency,
        "symbol": symbol,
        "exchangeTimezoneName": bars.timezone,
        "dataGranularity": interval,
        "instrumentType": "EQUITY",
    }
    if not keep:
        return {"meta": meta, "indicators": {"quote": [{}], "adjclose": [{}]}}
    pick = lambda column: [column[i] for i in keep]  # noqa: E731
    indicators: dict[str, Any] = {
        "quote": [
            {
                "open": pick(bars.open),
                "high": pick(bars.high),
                "low": pick(bars.low),
                "close": pick(bars.close),
                "volume": pick(bars.volume),
            }
        ]
    }
    if bars.adjclose is not None:
        indicators["adjclose"] = [{"adjclose": pick(bars.adjclose)}]
    return {"meta": meta, "timestamp": pick(bars.moments), "indicators": indicators}
