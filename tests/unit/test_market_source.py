"""The market data source without a network: the chart JSON read as Yahoo writes it, prices
adjusted (a split day is no anomaly), the market calendars (a holiday is no gap, intraday
bars only in trading hours), retries with backoff, and each provider error."""

from __future__ import annotations

import datetime as dt
import io
import json
import urllib.error
from email.message import Message
from typing import Any

import numpy as np
import pytest

from tripwire.domain.calendars import CALENDARS, calendar_of
from tripwire.domain.metrics import Interval
from tripwire.features.ohlcv import FEATURES, indicators
from tripwire.ingest import market_source
from tripwire.ingest.market_source import (
    EmptyHistory,
    History,
    ProviderUnavailable,
    RateLimited,
    UnknownSymbol,
    YahooChart,
    parse_chart,
    prepare,
)

US, JP, TH = CALENDARS["US"], CALENDARS["JP"], CALENDARS["TH"]
NOW = dt.datetime(2026, 12, 6)


def _utc(day: dt.date, at: str, calendar: Any) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time.fromisoformat(at), tzinfo=calendar.zone)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def _history(moments: list[dt.datetime], close: list[float], adj: list[float] | None) -> History:
    return History(
        symbol="X",
        timezone="America/New_York",
        moments=moments,
        open=list(close),
        high=[c * 1.01 for c in close],
        low=[c * 0.99 for c in close],
        close=list(close),
        volume=[1000.0] * len(close),
        adjclose=adj,
    )


# -- calendars ---------------------------------------------------------------------------


def test_a_holiday_is_not_a_gap() -> None:
    # Thanksgiving 2025 (Thu 27 Nov): Wed 26 and Fri 28 are consecutive sessions
    days = [dt.date(2025, 11, 24), dt.date(2025, 11, 25), dt.date(2025, 11, 26)]
    days += [dt.date(2025, 11, 28), dt.date(2025, 12, 1)]
    assert not US.is_session(dt.date(2025, 11, 27))
    assert US.missing(days) == []
    # a weekday without a bar that was a session is a real gap
    assert US.missing([d for d in days if d != dt.date(2025, 11, 25)]) == [dt.date(2025, 11, 25)]


@pytest.mark.parametrize(
    ("market", "holiday", "name"),
    [
        ("US", dt.date(2025, 7, 4), "Independence Day"),
        ("JP", dt.date(2025, 1, 2), "JPX closes 31 Dec – 3 Jan"),
        ("JP", dt.date(2025, 11, 24), "substitute holiday"),
        ("TH", dt.date(2025, 4, 14), "Songkran"),
        ("TH", dt.date(2025, 2, 12), "Makha Bucha (lunar)"),
    ],
)
def test_each_markets_holidays_are_no_sessions(market: str, holiday: dt.date, name: str) -> None:
    calendar = calendar_of(market)
    assert not calendar.is_session(holiday), name
    assert calendar.is_session(dt.date(2025, 3, 4))  # an ordinary Tuesday everywhere


def test_intraday_bars_only_in_trading_hours() -> None:
    day = dt.date(2025, 3, 4)
    assert US.in_hours(_utc(day, "09:30", US)) and US.in_hours(_utc(day, "15:30", US))
    assert not US.in_hours(_utc(day, "09:00", US)) and not US.in_hours(_utc(day, "16:00", US))
    assert JP.in_hours(_utc(day, "09:00", JP)) and not JP.in_hours(_utc(day, "12:00", JP))  # lunch
    assert TH.in_hours(_utc(day, "14:30", TH)) and not TH.in_hours(_utc(day, "13:00", TH))
    assert not US.in_hours(_utc(dt.date(2025, 7, 4), "10:30", US))  # a holiday's hours
    # prepare keeps only the bars in trading hours
    stamps = ["08:30", "09:30", "10:30", "15:30", "16:00", "17:00"]
    moments = [_utc(day, t, US) for t in stamps]
    kept = prepare(_history(moments, [10.0] * 6, None), US, Interval.H1, "US-X", now=NOW)
    assert [dt.datetime.fromisoformat(p) for p in kept.points] == moments[1:4]
    assert kept.outside == 3


# -- adjusted prices -----------------------------------------------------------------------


def test_a_split_day_is_not_an_anomaly() -> None:
    days = US.sessions(dt.date(2025, 1, 2), dt.date(2025, 4, 30))
    rng = np.random.default_rng(3)
    true = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(days))))
    split = len(days) // 2
    raw = np.where(np.arange(len(days)) < split, true * 4, true)  # 4:1 split, unadjusted
    moments = [_utc(d, "09:30", US) for d in days]
    history = _history(moments, list(raw), list(true))
    kept = prepare(history, US, Interval.D1, "US-X", now=NOW)
    closes = np.array([v[3] for v in kept.points.values()])
    np.testing.assert_allclose(closes, true, rtol=1e-6)
    returns = indicators(np.array(list(kept.points.values())))[:, FEATURES.index("log_return")]
    assert abs(returns[split]) < 0.05  # the split day moves like any other day
    raw_returns = np.log(raw[1:] / raw[:-1])
    assert abs(raw_returns[split - 1]) > 1.0  # unadjusted it would be a −75 % crash


def test_daily_bars_keep_their_local_trading_day_and_drop_the_forming_one() -> None:
    days = [dt.date(2026, 12, 3), dt.date(2026, 12, 4)]
    moments = [_utc(d, "09:00", JP) for d in days]  # 00:00 UTC: the local day is the day
    now = _utc(days[1], "12:00", JP)  # Friday's session still open
    kept = prepare(_history(moments, [10.0, 11.0], [10.0, 11.0]), JP, Interval.D1, "J", now=now)
    assert list(kept.points) == ["2026-12-03"] and kept.forming == 1


def test_missing_values_and_contradicting_prices_are_skipped_and_counted() -> None:
    days = US.sessions(dt.date(2025, 3, 3), dt.date(2025, 3, 5))
    history = _history([_utc(d, "09:30", US) for d in days], [10.0, 10.0, 10.0], None)
    history.close[1] = None
    history.high[2] = 5.0  # high below open
    kept = prepare(history, US, Interval.D1, "US-X", now=NOW)
    assert list(kept.points) == ["2025-03-03"] and kept.malformed == 2


# -- the chart JSON ------------------------------------------------------------------------

CHART = {
    "chart": {
        "result": [
            {
                "meta": {"symbol": "AAPL", "exchangeTimezoneName": "America/New_York"},
                "timestamp": [1741012200, 1741098600],
                "indicators": {
                    "quote": [
                        {
                            "open": [10.0, 11.0],
                            "high": [10.5, 11.5],
                            "low": [9.5, 10.5],
                            "close": [10.2, None],
                            "volume": [100, 200],
                        }
                    ],
                    "adjclose": [{"adjclose": [10.1, None]}],
                },
            }
        ],
        "error": None,
    }
}


def test_the_chart_json_is_read_as_yahoo_writes_it() -> None:
    history = parse_chart("AAPL", CHART)
    assert history.timezone == "America/New_York"
    assert history.moments == [dt.datetime(2025, 3, 3, 14, 30), dt.datetime(2025, 3, 4, 14, 30)]
    assert history.close == [10.2, None] and history.adjclose == [10.1, None]


def test_an_error_or_no_bars_raise() -> None:
    error = {"chart": {"result": None, "error": {"code": "Not Found", "description": "gone"}}}
    with pytest.raises(UnknownSymbol, match="unknown symbol ZZZ"):
        parse_chart("ZZZ", error)
    empty = {"chart": {"result": [{"meta": {}, "indicators": {"quote": [{}]}}], "error": None}}
    with pytest.raises(EmptyHistory):
        parse_chart("ZZZ", empty)


class _Answers:
    """urlopen stand-in: the queued statuses, then the chart."""

    def __init__(self, *statuses: int, retry_after: str | None = None) -> None:
        self.statuses = list(statuses)
        self.retry_after = retry_after
        self.calls = 0

    def __call__(self, request: Any, timeout: float) -> Any:
        self.calls += 1
        if self.statuses:
            status = self.statuses.pop(0)
            headers = Message()
            if self.retry_after:
                headers["Retry-After"] = self.retry_after
            body = io.BytesIO(
                b"{}"
                if status != 404
                else json.dumps(
                    {"chart": {"result": None, "error": {"description": "No data found"}}}
                ).encode()
            )
            raise urllib.error.HTTPError(request.full_url, status, "err", headers, body)
        return io.BytesIO(json.dumps(CHART).encode())


def _client(monkeypatch: pytest.MonkeyPatch, answers: _Answers, waits: list[float]) -> YahooChart:
    monkeypatch.setattr(market_source.urllib.request, "urlopen", answers)
    return YahooChart("http://stand-in", backoff=1.0, sleep=waits.append)


def _fetch(client: YahooChart) -> History:
    return client.history("AAPL", dt.datetime(2025, 3, 1), dt.datetime(2025, 3, 5), Interval.D1)


def test_429_and_5xx_are_retried_with_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    answers = _Answers(429, 503, 502)
    assert _fetch(_client(monkeypatch, answers, waits)).symbol == "AAPL"
    assert answers.calls == 4 and waits == [1.0, 2.0, 4.0]
    waits.clear()
    _fetch(_client(monkeypatch, _Answers(429, retry_after="7"), waits))
    assert waits == [7.0]  # Retry-After when it asks for longer


@pytest.mark.parametrize(
    ("status", "error"),
    [(429, RateLimited), (500, ProviderUnavailable), (503, ProviderUnavailable)],
)
def test_persistent_failures_end_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, status: int, error: type[Exception]
) -> None:
    waits: list[float] = []
    with pytest.raises(error, match=f"HTTP {status}.* after 4 attempts"):
        _fetch(_client(monkeypatch, _Answers(*[status] * 4), waits))
    assert len(waits) == 3


def test_an_unknown_symbol_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    answers = _Answers(404)
    with pytest.raises(UnknownSymbol, match="No data found"):
        _fetch(_client(monkeypatch, answers, waits))
    assert answers.calls == 1 and waits == []


def test_the_base_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(market_source.URL_ENV, "http://127.0.0.1:9/")
    url = YahooChart().url("7203.T", dt.datetime(2025, 1, 1), dt.datetime(2025, 1, 2), Interval.H1)
    assert url.startswith("http://127.0.0.1:9/v8/finance/chart/7203.T?period1=1735689600&")
    assert "interval=1h" in url and "events=div%2Csplits" in url


def test_the_schedule_asks_nothing_when_the_market_has_not_traded_since() -> None:
    from tripwire.service.market_sync import _sessions_since

    friday = dt.datetime(2025, 11, 28)  # the day after Thanksgiving; daily bars are days
    saturday_noon = dt.datetime(2025, 11, 29, 17)
    assert not _sessions_since(US, friday, Interval.D1, saturday_noon)
    assert _sessions_since(US, friday, Interval.D1, dt.datetime(2025, 12, 1, 22))
    wednesday = dt.datetime(2025, 11, 26)  # Thursday is Thanksgiving: Friday still trades
    assert _sessions_since(US, wednesday, Interval.D1, dt.datetime(2025, 11, 28, 22))
    # JPX closes 31 Dec – 3 Jan: from the last bar of 30 Dec nothing is new until 5 Jan
    assert not _sessions_since(JP, dt.datetime(2025, 12, 30), Interval.D1, dt.datetime(2026, 1, 4))


def test_yfinance_frames_become_the_same_history(monkeypatch: pytest.MonkeyPatch) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("yfinance")
    from tripwire.ingest.yfinance_source import YFinanceSource

    index = pd.DatetimeIndex(["2025-03-03", "2025-03-04"]).tz_localize("America/New_York")
    frame = pd.DataFrame(
        {
            "Open": [40.0, 11.0],
            "High": [42.0, 11.5],
            "Low": [39.0, 10.5],
            "Close": [41.0, 11.2],
            "Adj Close": [10.25, 11.2],  # a 4:1 split between the two days
            "Volume": [100, 400],
        },
        index=index,
    )
    asked: dict[str, Any] = {}

    class Ticker:
        def __init__(self, symbol: str) -> None:
            asked["symbol"] = symbol

        def history(self, **kwargs: Any) -> Any:
            asked.update(kwargs)
            return frame if asked["symbol"] == "AAPL" else frame.iloc[:0]

    source = YFinanceSource(Ticker)
    start, end = dt.datetime(2025, 3, 1), dt.datetime(2025, 3, 5)
    history = source.history("AAPL", start, end, Interval.D1)
    assert asked["auto_adjust"] is False and asked["interval"] == "1d"
    assert history.timezone == "America/New_York"
    assert history.moments == [dt.datetime(2025, 3, 3, 5), dt.datetime(2025, 3, 4, 5)]
    kept = prepare(history, US, Interval.D1, "US-AAPL", now=NOW)
    assert list(kept.points) == ["2025-03-03", "2025-03-04"]
    assert kept.points["2025-03-03"][3] == pytest.approx(10.25)  # adjusted like the chart's
    with pytest.raises(EmptyHistory):
        source.history("NOPE", start, end, Interval.D1)
