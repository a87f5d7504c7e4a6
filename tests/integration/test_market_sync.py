"""Markets by symbol through the local stack: ``POST /backfill {"ticker", "market"}`` → scan
queue → worker → the market data source (the stack's stand-in of Yahoo's chart endpoint,
serving ``SyntheticBook``) → the OHLCV import path → detection; the schedule fetching only
what is new; each provider failure ending the run with its reason."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from tripwire.demo.market_book import SyntheticBook
from tripwire.domain import Interval
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.service import fanout
from tripwire.service.market import train_market
from tripwire.store.alerts import AlertStore
from tripwire.store.catalog import CatalogStore
from tripwire.store.metrics import MetricStore
from tripwire.store.schedule import ScheduleStore

pytestmark = [
    pytest.mark.integration,
    pytest.mark.usefixtures("local_stack"),
    pytest.mark.xdist_group("market_sync"),
]
BOOK = SyntheticBook()


def _call(
    stack: LocalStack, tenant: str, method: str, path: str, body: Any = None
) -> tuple[int, dict[str, Any]]:
    token = issue_token(tenant, "ana", directory=stack.directory)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(stack.api_url + path, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as failed:
        return failed.code, json.loads(failed.read())


def _backfill(stack: LocalStack, tenant: str, **body: Any) -> dict[str, Any]:
    """POST /backfill by ticker, then GET /backfill/{id} until it is done."""
    status, started = _call(stack, tenant, "POST", "/backfill", body)
    assert status == 202, started
    for _ in range(600):
        status, run = _call(stack, tenant, "GET", f"/backfill/{started['backfill_id']}")
        assert status == 200
        if run["status"] != "in_progress":
            return run
        time.sleep(0.1)
    raise AssertionError(f"backfill still running: {run}")


@pytest.fixture(scope="module")
def trained(local_stack: LocalStack) -> str:
    """A tenant whose US tickers AAPX (split 4:1 halfway) and BRKQ were backfilled by
    symbol before any model existed (stored, run failed), then trained and backfilled."""
    tenant = f"msync-{uuid.uuid4().hex[:8]}"
    for symbol in ("AAPX", "BRKQ"):
        run = _backfill(local_stack, tenant, ticker=symbol, market="US", max_period="5y")
        assert run["status"] == "failed"
        assert "no trained 1d model" in run["error"] and "tripwire market train" in run["error"]
        assert run["rows_loaded"] == run["rows_preprocessed"] == BOOK.days
    clean_end = dt.datetime.combine(BOOK.sessions("US")[BOOK.days - 101], dt.time())
    train_market(tenant, "US", end=clean_end)
    return tenant


def test_a_backfill_by_ticker_fetches_stores_and_detects(
    local_stack: LocalStack, trained: str
) -> None:
    run = _backfill(local_stack, trained, ticker="AAPX", market="US", max_period="5y")
    assert run["status"] == "complete", run["error"]
    assert run["profile_id"] == "US" and run["error"] is None
    assert run["rows_loaded"] == run["rows_preprocessed"] == BOOK.days
    assert run["rows_processed"] > 0
    # stored through the OHLCV import path, adjusted: the split is not in the prices
    profile = CatalogStore().get_profile(trained, "US")
    assert profile is not None and profile.symbols == {"US-AAPX": "AAPX", "US-BRKQ": "BRKQ"}
    split = BOOK.split_day("US")
    first = dt.datetime.combine(split - dt.timedelta(days=7), dt.time())
    bars = MetricStore().read_window(
        trained, "US", Interval.D1, ["US-AAPX"], first, first + dt.timedelta(days=14)
    )["US-AAPX"]
    closes = [v[3] for _, v in sorted(bars.items())]
    assert max(closes) / min(closes) < 1.5  # a 4:1 split unadjusted would be 4×
    found = fanout.progress(trained, run["backfill_id"])
    assert found is not None
    alerts = AlertStore().get_many(trained, found.alert_ids)
    assert all(a.period.date() != split for a in alerts.values())


def test_a_second_backfill_of_a_running_ticker_is_a_409(
    local_stack: LocalStack, trained: str
) -> None:
    local_stack.market.slow("BRKQ", 2.0)
    try:
        body = {"ticker": "BRKQ", "market": "US", "max_period": "1y"}
        status, first = _call(local_stack, trained, "POST", "/backfill", body)
        assert status == 202
        status, again = _call(local_stack, trained, "POST", "/backfill", body)
        assert status == 409, again
        assert again["backfill_id"] == first["backfill_id"]
        assert first["backfill_id"] in again["message"]
    finally:
        local_stack.market.slow("BRKQ", 0.0)
    local_stack.drain()


def test_the_schedule_fetches_only_new_bars_and_says_nothing_new(
    local_stack: LocalStack, trained: str
) -> None:
    asked = len(local_stack.market.requests)
    ScheduleStore().set(trained, "US", True)
    try:
        started = [r for r in local_stack.scan() if r["tenant_id"] == trained]
    finally:
        ScheduleStore().set(trained, "US", False)
    assert len(started) == 1
    status, run = _call(local_stack, trained, "GET", f"/runs/{started[0]['run_id']}")
    assert status == 200 and run["status"] == "complete", run
    assert run["rows_processed"] == 0 and run["anomalies_found"] == 0
    assert any(w.startswith("nothing new for US-AAPX") for w in run["warnings"]), run
    # each ticker asked only for the bars after its last detected one
    last = BOOK.sessions("US")[-1] + dt.timedelta(days=1)
    period1 = int(dt.datetime.combine(last, dt.time(), tzinfo=dt.UTC).timestamp())
    new = local_stack.market.requests[asked:]
    assert any(p.startswith("/v8/finance/chart/AAPX?") and f"period1={period1}" in p for p in new)


@pytest.mark.parametrize(
    ("symbol", "fault", "reason"),
    [
        ("CNVX", "429", "RateLimited: market data source: HTTP 429"),
        ("DLTQ", "503", "ProviderUnavailable: market data source: HTTP 503"),
        ("NOSUCH", "unknown", "UnknownSymbol: market data source: unknown symbol NOSUCH"),
        ("ELMZ", "empty", "EmptyHistory: market data source: no bars for ELMZ"),
    ],
)
def test_provider_errors_fail_the_run_with_the_reason(
    local_stack: LocalStack, new_tenant: Any, symbol: str, fault: str, reason: str
) -> None:
    tenant = new_tenant()
    if fault.isdigit():
        local_stack.market.fail(symbol, *[int(fault)] * 4)  # every attempt, retries included
    elif fault == "empty":
        local_stack.market.empty(symbol)
    try:
        run = _backfill(local_stack, tenant, ticker=symbol, market="US", max_period="1y")
    finally:
        local_stack.market.empty(symbol, False)
    assert run["status"] == "failed"
    assert reason in run["error"], run["error"]
    assert run["rows_loaded"] == 0


def test_a_429_retried_in_time_is_no_failure(local_stack: LocalStack, new_tenant: Any) -> None:
    tenant = new_tenant()
    local_stack.market.fail("FNXR", 429, 503)
    run = _backfill(local_stack, tenant, ticker="FNXR", market="US", max_period="1y")
    assert run["rows_preprocessed"] > 0
    assert "no trained 1d model" in (run["error"] or "")  # fetched and stored; no model yet
