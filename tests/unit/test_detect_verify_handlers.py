"""functions/detect and functions/verify invoked with the sample events in events/, on AWS
mocked in-process (moto): a small trained account, detected and verified."""

from __future__ import annotations

import copy
import datetime
import importlib.util
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from tripwire.demo.generator import GeneratorConfig, generate, write
from tripwire.ingest.importer import import_account
from tripwire.local.gateway import LambdaContext, functions_root
from tripwire.service.train import train_profile
from tripwire.store.provision import provision, reset_clients

EVENTS = Path(__file__).resolve().parents[2] / "events"
TENANT = "tenant-sample"  # the tenant claim in the sample events
CONFIG = GeneratorConfig(seed=5, keywords=16, campaigns=2, portfolios=1, days=80)
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[datetime.date]:
    with pytest.MonkeyPatch.context() as env, mock_aws():
        env.delenv("AWS_ENDPOINT_URL", raising=False)
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "TRIPWIRE_TABLE_IDEMPOTENCY": "unit-detect-idempotency",
        }.items():
            env.setenv(name, value)
        reset_clients()
        provision()
        account = generate(CONFIG)
        paths = write(account, tmp_path_factory.mktemp("handlers"))
        import_account(TENANT, "A1", paths["entities"], paths["metrics"])
        first = CONFIG.start + datetime.timedelta(days=CONFIG.days - account.config.incident_days)
        train_profile(TENANT, "A1", first - datetime.timedelta(days=1))
        yield next(i for i in account.incidents if i.kind == "campaign_budget_exhausted").start
    reset_clients()


def handler(function: str) -> Handler:
    path = functions_root() / function / "handler.py"
    spec = importlib.util.spec_from_file_location(f"_{function}_handler_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found: Handler = module.handler
    return found


def event(name: str, **body: Any) -> dict[str, Any]:
    """The sample event; with ``body`` fields changed, and then without its idempotency key."""
    loaded: dict[str, Any] = copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))
    if body:
        loaded["body"] = json.dumps({**json.loads(loaded["body"]), **body})
        loaded["headers"].pop("idempotency-key", None)
    return loaded


def invoke(function: str, request: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    result = handler(function)(request, LambdaContext(function, "unit-request"))
    return result["statusCode"], result.get("headers") or {}, json.loads(result["body"])


def test_the_detect_sample_finds_the_paused_campaign_and_replays_on_retry(
    trained: datetime.date,
) -> None:
    request = event("detect")  # campaigns on 2026-03-17, when A1-C02 was paused
    status, headers, body = invoke("detect", request)
    assert "Idempotent-Replayed" not in headers
    assert status == 200, body
    assert body["entities_checked"] == CONFIG.campaigns and body["date"] == "2026-03-17"
    assert "A1-C02" in {a["entity_id"] for a in body["alerts"]}
    assert {a["entity_type"] for a in body["alerts"]} == {"campaign"}
    assert body["anomalies_found"] == len(body["alerts"]) == sum(body["severity_counts"].values())
    again = invoke("detect", request)  # the sample carries an Idempotency-Key
    assert again[0] == 200 and again[2] == body and again[1]["Idempotent-Replayed"] == "true"
    changed = copy.deepcopy(request)
    changed["body"] = changed["body"].replace("ensemble", "lstm")
    assert invoke("detect", changed)[0] == 422  # the same key with another body


def test_detect_a_whole_profile(trained: datetime.date) -> None:
    status, _, body = invoke("detect", event("detect", date=trained.isoformat(), entity_type=None))
    assert status == 200, body
    assert body["entities_checked"] > CONFIG.keywords and body["anomalies_found"] > 0
    assert "A1-C01" in {a["entity_id"] for a in body["alerts"]}


def test_verify_event_rescores_the_alert(trained: datetime.date) -> None:
    _, _, found = invoke("detect", event("detect", date=trained.isoformat(), entity_type=None))
    assert found["alerts"], "the planted incident raises alerts"
    alert = found["alerts"][0]
    request = event("anomaly_verify")
    request["rawPath"] = request["rawPath"].replace("al-sample-1", alert["alert_id"])
    request["pathParameters"] = {"id": alert["alert_id"]}
    status, _, body = invoke("verify", request)
    assert status == 200, body
    assert body["alert_id"] == alert["alert_id"] and body["original"]["score"] == alert["score"]
    assert body["current"]["model_versions"] == alert["model_versions"]


def test_the_verify_sample_names_no_stored_alert(trained: datetime.date) -> None:
    assert invoke("verify", event("anomaly_verify"))[0] == 404


def test_unknown_profile_and_entity_are_404(trained: datetime.date) -> None:
    assert invoke("detect", event("detect", profile_id="A9"))[0] == 404
    status, _, body = invoke("detect", event("detect", entity_ids=["A1-K99999"]))
    assert status == 404 and body["entity_ids"] == ["A1-K99999"]
