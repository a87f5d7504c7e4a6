"""POST /anomalies/{id}/verify for a ticker's alert over real HTTP: the bar re-scored by the
market's current model, answered in the same shape as a PPC alert's verification — both
scores and both feature sets."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tripwire.demo.market import GeneratedMarket, generate_market, write_ohlcv_csv
from tripwire.detection.market import REGIME_FEATURE, VOLATILE_FEATURE
from tripwire.domain import Alert
from tripwire.features.ohlcv import FEATURES
from tripwire.ingest.ohlcv_csv import import_ohlcv
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.registry.manager import ModelManager
from tripwire.service.market import scan_market, train_market

pytestmark = pytest.mark.integration
DAYS = 300


@pytest.fixture(scope="module")
def market() -> GeneratedMarket:
    return generate_market(seed=2, tickers=4, days=DAYS, market="US")


def day(market: GeneratedMarket, index: int) -> dt.datetime:
    return dt.datetime.fromisoformat(str(np.unique(market.bars["date"])[index]))


def call(stack: LocalStack, tenant: str, method: str, path: str) -> tuple[int, Any]:
    token = issue_token(tenant, "ana", directory=stack.directory)
    headers = {"Authorization": f"Bearer {token}"}
    request = urllib.request.Request(stack.api_url + path, None, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def scanned_alert(tenant: str, market: GeneratedMarket, tmp_path: Path) -> Alert:
    """A ticker alert of the market's scan (a manager of its own: the API's sees the
    profile's models first when it verifies)."""
    import_ohlcv(tenant, "US", write_ohlcv_csv(market.bars, tmp_path / "us.csv"))
    train_market(tenant, "US", end=day(market, DAYS - 61))
    manager = ModelManager(check_seconds=0)
    report = scan_market(tenant, "US", end=day(market, DAYS - 1), manager=manager)
    assert report.alerts
    return max(report.alerts, key=lambda a: a.score)


def test_a_ticker_alert_still_holds_with_both_scores_and_feature_sets(
    local_stack: LocalStack, tenant: str, market: GeneratedMarket, tmp_path: Path
) -> None:
    alert = scanned_alert(tenant, market, tmp_path)
    status, body = call(local_stack, tenant, "POST", f"/anomalies/{alert.alert_id}/verify")
    assert status == 200, body
    assert body["entity_id"] == alert.entity_id
    assert body["period"] == alert.period.date().isoformat()
    assert body["still_anomalous"] is True and body["current"]["alert"] is True
    assert body["current"]["severity"] is not None
    assert body["original"]["score"] == alert.score
    assert body["current"]["score"] == pytest.approx(alert.score, abs=1e-6)
    assert body["original"]["model_versions"] == alert.model_versions
    assert body["current"]["model_versions"] == alert.model_versions
    assert body["models_changed"] is False and body["settled"] is True
    original, current = body["original"]["features"], body["current"]["features"]
    # the original also says whether the market was already volatile (no current feature)
    assert set(original) - {REGIME_FEATURE, VOLATILE_FEATURE} == set(current) == set(FEATURES)
    assert all(v.keys() == {"expected", "actual", "deviation"} for v in current.values())
    for name in FEATURES:  # the same bar's indicators (up to the loaded window's EMA seed)
        assert current[name]["actual"] == pytest.approx(original[name]["actual"], rel=1e-3)
    neighbours = [dt.date.fromisoformat(n["period"]) for n in body["around"]]
    assert 1 <= len(neighbours) <= 4 and alert.period.date() not in neighbours
    assert all(abs((d - alert.period.date()).days) <= 6 for d in neighbours)  # ±2 trading days
    status, run = call(local_stack, tenant, "GET", f"/runs/{body['run_id']}")
    assert status == 200 and run["trigger"] == "verification" and run["entities_checked"] == 1
    assert run["alert_ids"] == [alert.alert_id] and run["warnings"] == []


def test_a_newer_market_model_rescores_the_bar(
    local_stack: LocalStack, tenant: str, market: GeneratedMarket, tmp_path: Path
) -> None:
    alert = scanned_alert(tenant, market, tmp_path)
    newer = train_market(tenant, "US", end=day(market, DAYS - 40))
    status, body = call(local_stack, tenant, "POST", f"/anomalies/{alert.alert_id}/verify")
    assert status == 200, body
    assert body["models_changed"] is True
    assert body["current"]["model_versions"] == newer.versions != alert.model_versions
    assert body["original"]["score"] == alert.score
    assert body["score_change"] == pytest.approx(body["current"]["score"] - alert.score)


def test_another_tenants_ticker_alert_is_404(
    local_stack: LocalStack, tenant: str, market: GeneratedMarket, tmp_path: Path
) -> None:
    alert = scanned_alert(tenant, market, tmp_path)
    status, _ = call(local_stack, f"{tenant}-other", "POST", f"/anomalies/{alert.alert_id}/verify")
    assert status == 404
