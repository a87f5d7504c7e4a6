"""functions/runs invoked with the sample events in events/ (runs_list, run_get, models), on
AWS mocked in-process (moto)."""

from __future__ import annotations

import copy
import importlib.util
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tripwire.domain import DetectionRun, RunStatus, Trigger
from tripwire.domain.entities import Profile
from tripwire.local.gateway import LambdaContext, functions_root
from tripwire.registry.store import RegistryStore
from tripwire.store.catalog import CatalogStore
from tripwire.store.runs import RunStore

EVENTS = Path(__file__).resolve().parents[2] / "events"
TENANT = "tenant-sample"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@pytest.fixture(autouse=True)
def aws(moto_aws: None) -> Iterator[None]:
    CatalogStore().put_profile(Profile(tenant_id=TENANT, profile_id="A1"))
    started = datetime(2026, 3, 17, 6, 0)
    RunStore().put(
        DetectionRun(
            run_id="run-sample-1",
            tenant_id=TENANT,
            profile_id="A1",
            trigger=Trigger.SCHEDULE,
            model_versions={"pipeline": "b" * 64},
            started_at=started,
            completed_at=started + timedelta(seconds=1),
            entities_checked=7,
            status=RunStatus.COMPLETE,
            expires_at=int((started + timedelta(days=30)).timestamp()),
        )
    )
    yield


@cache
def handler() -> Handler:
    spec = importlib.util.spec_from_file_location(
        "_runs_handler_under_test", functions_root() / "runs" / "handler.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found: Handler = module.handler
    return found


def invoke(name: str, tenant: str = TENANT) -> tuple[int, Any]:
    event: dict[str, Any] = copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))
    event["requestContext"]["authorizer"]["jwt"]["claims"]["custom:tenant_id"] = tenant
    result = handler()(event, LambdaContext("runs", "unit-request"))
    return result["statusCode"], json.loads(result["body"])


def test_runs_list_event() -> None:
    status, body = invoke("runs_list")
    assert status == 200 and [r["run_id"] for r in body["items"]] == ["run-sample-1"]
    assert body["items"][0]["duration_ms"] == 1000 and body["next_cursor"] is None


def test_run_get_event() -> None:
    status, run = invoke("run_get")
    assert status == 200 and (run["trigger"], run["entities_checked"]) == ("schedule", 7)


def test_models_event() -> None:
    versions = RegistryStore().publish_models(TENANT, "A1", {"pipeline": (b"{}", {})})
    status, body = invoke("models")
    assert status == 200
    assert body["items"][0]["models"][0]["version"] == versions["pipeline"]


def test_the_same_events_from_another_tenant_are_404() -> None:
    for name in ("runs_list", "run_get", "models"):
        assert invoke(name, "someone-else")[0] == 404, name
