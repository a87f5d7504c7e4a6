"""functions/alerts/handler.py invoked with the sample events in events/, directly and
through the local gateway: both paths give the same answers."""

from __future__ import annotations

import copy
import importlib.util
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tripwire.domain import Alert, Severity
from tripwire.local.auth import issue_token
from tripwire.local.gateway import LambdaContext, functions_root
from tripwire.local.stack import LocalStack
from tripwire.store.alerts import AlertStore

pytestmark = pytest.mark.integration
EVENTS = Path(__file__).resolve().parents[2] / "events"
ALERT = "al-sample-1"
ORDER = ("alerts_active", "alert_get", "alert_acknowledge", "alert_resolve", "alert_feedback")


def _seed(tenant: str) -> None:
    alert = Alert(
        alert_id=ALERT,
        tenant_id=tenant,
        profile_id="A1",
        entity_id="K1",
        entity_type="keyword",
        period=datetime(2026, 3, 1),
        score=0.93,
        threshold=0.5,
        severity=Severity.HIGH,
        run_id="run-1",
        created_at=datetime(2026, 3, 1, 6, 0),
    )
    AlertStore().put_many([alert])


def _event(name: str, tenant: str) -> dict[str, Any]:
    event: dict[str, Any] = copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))
    event["requestContext"]["authorizer"]["jwt"]["claims"]["custom:tenant_id"] = tenant
    return event


@cache
def _handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    path = functions_root() / "alerts" / "handler.py"
    spec = importlib.util.spec_from_file_location("_alerts_handler_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = module.handler
    return handler


def _direct(event: dict[str, Any]) -> tuple[int, Any]:
    result = _handler()(event, LambdaContext("alerts", "test-request"))
    return result["statusCode"], json.loads(result["body"])


def _http(stack: LocalStack, event: dict[str, Any], tenant: str) -> tuple[int, Any]:
    query = f"?{event['rawQueryString']}" if event["rawQueryString"] else ""
    headers = {
        "Authorization": f"Bearer {issue_token(tenant, 'ana', directory=stack.directory)}",
        "Content-Type": "application/json",
    }
    body = event.get("body", "").encode() or None
    method = event["requestContext"]["http"]["method"]
    url = f"{stack.api_url}{event['rawPath']}{query}"
    request = urllib.request.Request(url, body, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _shape(name: str, status: int, body: Any) -> tuple[int, Any]:
    """What must match between the two paths (times and labels' clocks differ)."""
    if name == "alerts_active":
        return status, [a["alert_id"] for a in body["items"]]
    if name == "alert_get":
        return status, (body["alert_id"], body["status"], len(body["history"]))
    return status, {k: body.get(k) for k in ("alert_id", "status", "is_anomaly", "by")}


@pytest.mark.usefixtures("local_stack")
def test_sample_events_through_the_handler_and_the_gateway(
    local_stack: LocalStack, new_tenant: Any
) -> None:
    direct, over_http = new_tenant(), new_tenant()
    answers: dict[str, list[tuple[int, Any]]] = {}
    for tenant, call in ((direct, None), (over_http, local_stack)):
        _seed(tenant)
        for name in ORDER:
            event = _event(name, tenant)
            status, body = _direct(event) if call is None else _http(call, event, tenant)
            answers.setdefault(name, []).append(_shape(name, status, body))
    assert answers["alerts_active"][0] == (200, [ALERT])
    assert answers["alert_get"][0] == (200, (ALERT, "open", 0))
    assert answers["alert_acknowledge"][0][1]["status"] == "acknowledged"
    assert answers["alert_resolve"][0][1]["status"] == "resolved"
    assert answers["alert_feedback"][0] == (
        201,
        {"alert_id": ALERT, "status": None, "is_anomaly": True, "by": "ana"},
    )
    for name, (first, second) in answers.items():
        assert first == second, name


def test_sample_event_of_another_tenant_is_404(local_stack: LocalStack, tenant: str) -> None:
    _seed(tenant)
    for name in ORDER[1:]:
        status, _ = _direct(_event(name, f"{tenant}-other"))
        assert status == 404, name
