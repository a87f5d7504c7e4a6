"""functions/stats/handler.py invoked with the sample events in events/ (moto in-process):
GET /statistics, GET /entities/{id}/series and GET /entities/{id}/profile."""

from __future__ import annotations

import copy
import importlib.util
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tripwire.domain import Alert, Entity, Profile, Severity
from tripwire.domain.metrics import PPC_MEASURES, Interval
from tripwire.local.gateway import LambdaContext, functions_root
from tripwire.store.alerts import AlertStore
from tripwire.store.catalog import CatalogStore
from tripwire.store.metrics import MetricStore
from tripwire.store.provision import reset_clients

EVENTS = Path(__file__).resolve().parents[2] / "events"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@pytest.fixture(autouse=True)
def aws(moto_aws: None) -> Iterator[None]:
    reset_clients()  # each test's mock gets fresh clients
    yield
    reset_clients()


def _handler(function: str) -> Handler:
    path = functions_root() / function / "handler.py"
    spec = importlib.util.spec_from_file_location(f"_{function}_handler_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler: Handler = module.handler
    return handler


def _invoke(name: str, tenant: str = "tenant-sample") -> tuple[int, Any]:
    event = copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))
    event["requestContext"]["authorizer"]["jwt"]["claims"]["custom:tenant_id"] = tenant
    result = _handler("stats")(event, LambdaContext("stats", "unit-test"))
    return result["statusCode"], json.loads(result["body"])


def _seed(tenant: str = "tenant-sample") -> None:
    catalog = CatalogStore()
    catalog.put_profile(Profile(tenant_id=tenant, profile_id="A1"))
    hierarchy = [
        Entity(entity_id="ACC", entity_type="account"),
        Entity(entity_id="C1", entity_type="campaign", parent_id="ACC"),
        Entity(entity_id="K1", entity_type="keyword", parent_id="C1"),
    ]
    catalog.put_hierarchy(tenant, "A1", hierarchy, expected=None)
    points = {"2026-03-01": (100, 10, 5.0, 20.0, 2), "2026-03-02": (80, 4, 2.0, 0.0, 0)}
    MetricStore().write(tenant, "A1", Interval.D1, PPC_MEASURES, {"K1": points})
    alert = Alert(
        alert_id="al-1",
        tenant_id=tenant,
        profile_id="A1",
        entity_id="K1",
        entity_type="keyword",
        period=datetime(2026, 3, 2),
        score=0.99,
        threshold=0.9,
        severity=Severity.CRITICAL,
        run_id="run-1",
        created_at=datetime(2026, 3, 3, 6, 0),
    )
    AlertStore().put_many([alert])


def test_statistics_event() -> None:
    _seed()
    status, body = _invoke("statistics")
    assert status == 200, body
    assert body["by_severity"]["critical"] == 1 and body["by_status"]["open"] == 1
    assert next(d for d in body["trend"] if d["date"] == "2026-03-02")["raised"] == 1
    assert _invoke("statistics", tenant="someone-else")[0] == 404


def test_entity_series_event() -> None:
    _seed()
    status, body = _invoke("entity_series")
    assert status == 200, body
    assert body["series"]["clicks"] == [10, 4, 0, 0, 0]
    assert [(a["alert_id"], a["index"]) for a in body["anomalies"]] == [("al-1", 1)]
    assert _invoke("entity_series", tenant="someone-else")[0] == 404


def test_entity_profile_event() -> None:
    _seed()
    status, body = _invoke("entity_profile")
    assert status == 200, body
    assert body["anomalies"] == 1 and body["last"]["alert_id"] == "al-1"
    assert _invoke("entity_profile", tenant="someone-else")[0] == 404
