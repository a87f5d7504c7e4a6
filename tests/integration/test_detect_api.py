"""POST /detect over real HTTP through the local stack: detection, the alert lifecycle it
starts, narrowing, idempotency, the asynchronous path, tenant isolation and 4xx."""

from __future__ import annotations

import datetime
import json
import os
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import tiny_account
from tripwire.demo.generator import GeneratorConfig, Incident, generate, write
from tripwire.ingest.importer import import_account
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.service.train import train_profile
from tripwire.store.runs import RunStore

pytestmark = pytest.mark.integration
CONFIG = GeneratorConfig(seed=11, keywords=60, campaigns=4, portfolios=1, days=100)


@dataclass(frozen=True)
class Account:
    tenant: str
    incident: Incident
    entities: int


class Client:
    def __init__(self, stack: LocalStack, tenant: str | None, user: str = "ana") -> None:
        self.url = stack.api_url
        self.token = issue_token(tenant, user, directory=stack.directory) if tenant else None
        self.headers: dict[str, str] = {}  # of the last response

    def __call__(
        self,
        method: str,
        path: str,
        body: bytes | dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        sent = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        sent.update(headers or {})
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        if data is not None:
            sent["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data, sent, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                self.headers = dict(response.headers.items())
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            self.headers = dict(error.headers.items())
            return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def account(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Account:
    generated = generate(CONFIG)
    paths = write(generated, tmp_path_factory.mktemp("detect"))
    tenant = f"detect-{uuid.uuid4().hex[:8]}"
    import_account(tenant, "A1", paths["entities"], paths["metrics"])
    first = CONFIG.start + datetime.timedelta(days=CONFIG.days - generated.config.incident_days)
    train_profile(tenant, "A1", first - datetime.timedelta(days=1))
    # The incident whose root the scan finds most plainly: a paused or budget-capped campaign.
    kinds = ("campaign_paused", "campaign_budget_exhausted")
    incident = next(i for i in generated.incidents if i.kind in kinds)
    entities = len({line.split(",")[0] for line in paths["entities"].read_text().splitlines()[1:]})
    return Account(tenant, incident, entities)


def _detect(api: Client, account: Account, **fields: Any) -> tuple[int, Any]:
    body = {"profile_id": "A1", "date": account.incident.start.isoformat(), **fields}
    return api("POST", "/detect", body)


def test_detect_finds_the_incident_and_reports_the_run(
    local_stack: LocalStack, account: Account
) -> None:
    api = Client(local_stack, account.tenant)
    status, body = _detect(api, account)
    assert status == 200, body
    assert body["status"] == "complete" and body["date"] == account.incident.start.isoformat()
    assert body["entities_checked"] == account.entities
    assert body["anomalies_found"] == len(body["alerts"]) > 0
    assert sum(body["severity_counts"].values()) == body["anomalies_found"]
    assert set(body["severity_counts"]) == {"low", "medium", "high", "critical"}
    assert account.incident.root_entity in {a["entity_id"] for a in body["alerts"]}
    root = next(a for a in body["alerts"] if a["entity_id"] == account.incident.root_entity)
    assert root["explanation"] and root["root_causes"]
    assert root["model_versions"] == body["model_versions"] and body["execution_ms"] > 0
    status, run = api("GET", f"/runs/{body['run_id']}")
    assert status == 200 and run["trigger"] == "api" and run["status"] == "complete"
    assert run["anomalies_found"] == body["anomalies_found"]
    assert sorted(run["alert_ids"]) == sorted(a["alert_id"] for a in body["alerts"])


def test_lifecycle_detect_list_acknowledge_resolve_and_detect_again(
    local_stack: LocalStack, account: Account
) -> None:
    api = Client(local_stack, account.tenant)
    found = _detect(api, account)[1]["alerts"]
    root = next(a for a in found if a["entity_id"] == account.incident.root_entity)
    status, active = api("GET", "/alerts/active?profile_id=A1&limit=200")
    assert status == 200 and root["alert_id"] in {a["alert_id"] for a in active["items"]}
    status, acked = api("PATCH", f"/alerts/{root['alert_id']}/acknowledge")
    assert status == 200 and acked["status"] == "acknowledged" and acked["acknowledged_by"] == "ana"
    status, done = api("PATCH", f"/alerts/{root['alert_id']}/resolve", {"notes": "budget raised"})
    assert status == 200 and done["status"] == "resolved"
    # Detecting the same day again finds the same anomalies, writes none of them again and
    # leaves the resolved alert resolved.
    status, again = _detect(api, account)
    assert status == 200 and again["new_alerts"] == 0
    assert {a["alert_id"] for a in again["alerts"]} == {a["alert_id"] for a in found}
    reported = next(a for a in again["alerts"] if a["alert_id"] == root["alert_id"])
    assert (reported["status"], reported["run_id"]) == ("resolved", root["run_id"])  # as stored
    assert api("GET", f"/alerts/{root['alert_id']}")[1]["status"] == "resolved"
    active = api("GET", "/alerts/active?profile_id=A1&limit=200")[1]
    assert root["alert_id"] not in {a["alert_id"] for a in active["items"]}


def test_narrowing_by_entity_type_and_ids(local_stack: LocalStack, account: Account) -> None:
    api = Client(local_stack, account.tenant)
    everything = _detect(api, account)[1]
    status, campaigns = _detect(api, account, entity_type="campaign")
    assert status == 200 and campaigns["entities_checked"] == CONFIG.campaigns
    assert {a["entity_type"] for a in campaigns["alerts"]} <= {"campaign"}
    expected = {a["alert_id"] for a in everything["alerts"] if a["entity_type"] == "campaign"}
    assert {a["alert_id"] for a in campaigns["alerts"]} == expected
    root = account.incident.root_entity
    status, one = _detect(api, account, entity_ids=[root])
    assert status == 200 and one["entities_checked"] == 1
    assert [a["entity_id"] for a in one["alerts"]] == [root]
    # Root causes are still found across the whole profile.
    assert one["alerts"][0]["root_causes"][0]["entity_id"] == root


def test_detector_choice_and_leaner_answers(local_stack: LocalStack, account: Account) -> None:
    api = Client(local_stack, account.tenant)
    status, body = _detect(api, account, detector="isolation_forest")
    assert status == 200 and body["detector"] == "isolation_forest"
    for alert in body["alerts"]:
        assert set(alert["detector_scores"]) == {"isolation_forest"}
    status, lean = _detect(api, account, include_explanations=False, include_root_causes=False)
    assert status == 200 and lean["alerts"]
    assert all(a["root_causes"] == [] for a in lean["alerts"])
    # Without Shapley values an alert still names its most deviating features.
    assert all(a["explanation"] for a in lean["alerts"])


def test_idempotency_key_replays_the_first_answer(
    local_stack: LocalStack, account: Account
) -> None:
    api = Client(local_stack, account.tenant)
    key = {"Idempotency-Key": f"detect-{uuid.uuid4()}"}
    body = {"profile_id": "A1", "date": account.incident.start.isoformat()}
    runs_before = {r.run_id for r in RunStore().of_profile(account.tenant, "A1", 100)}
    first = api("POST", "/detect", body, key)
    assert first[0] == 200 and "Idempotent-Replayed" not in api.headers
    assert api("POST", "/detect", body, key) == first
    assert api.headers.get("Idempotent-Replayed") == "true"
    runs_after = {r.run_id for r in RunStore().of_profile(account.tenant, "A1", 100)}
    assert runs_after - runs_before == {first[1]["run_id"]}  # one run for two requests
    status, error = api("POST", "/detect", {**body, "detector": "lstm"}, key)
    assert status == 422 and error["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    status, error = api("POST", "/detect", body, {"Idempotency-Key": "has space"})
    assert status == 422 and error["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    # Keys are per tenant: another tenant's request with the same key is its own (a 404).
    stranger = Client(local_stack, f"{account.tenant}-stranger")
    assert stranger("POST", "/detect", body, key)[0] == 404


def test_a_large_request_is_queued_answered_202_and_finished_by_the_worker(
    local_stack: LocalStack, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The gateway runs the handler in this process: lower the limit so this small account
    # counts as large. The stack's scan queue is polled by the real scan worker.
    monkeypatch.setenv("TRIPWIRE_DETECT_SYNC_ENTITY_PERIODS", "10")
    assert os.environ.get("TRIPWIRE_SCAN_QUEUE_URL"), "the local stack has a scan queue"
    api = Client(local_stack, account.tenant)
    root = account.incident.root_entity
    status, body = _detect(api, account, entity_ids=[root])
    assert status == 202, body
    assert body["status"] == "in_progress" and body["entities"] == 1
    status, run = api("GET", f"/runs/{body['run_id']}")
    assert status == 200 and run["trigger"] == "api"
    deadline = time.monotonic() + 90
    while run["status"] == "in_progress" and time.monotonic() < deadline:
        time.sleep(0.5)
        run = api("GET", f"/runs/{body['run_id']}")[1]
    assert run["status"] == "complete", run
    # The worker detected the one entity asked for (forced: the day was detected before).
    assert run["rows_loaded"] >= 1 and run["rows_processed"] >= 1, json.dumps(run)
    assert run["error"] is None and run["model_versions"] == body["model_versions"]


@pytest.fixture
def untrained(local_stack: LocalStack, tmp_path: Path, tenant: str) -> Iterator[str]:
    entities, metrics = tiny_account.write(tmp_path)
    import_account(tenant, "A1", entities, metrics)
    yield tenant


def test_not_found_and_conflicts(local_stack: LocalStack, account: Account, untrained: str) -> None:
    api = Client(local_stack, account.tenant)
    status, body = api("POST", "/detect", {"profile_id": "nope"})
    assert (status, body["message"]) == (404, "profile not found")
    status, body = _detect(api, account, entity_ids=["K-missing"])
    assert status == 404 and body["entity_ids"] == ["K-missing"]
    # Another tenant's profile does not exist for this caller.
    other = Client(local_stack, untrained)
    assert _detect(other, account)[0] == 409  # its own A1 has no models
    status, body = other("POST", "/detect", {"profile_id": "A1", "entity_ids": ["K-missing"]})
    assert status == 404
    stranger = Client(local_stack, f"{untrained}-stranger")
    assert _detect(stranger, account)[0] == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "profile_id"),
        ({"profile_id": "A#1"}, "profile_id"),
        ({"profile_id": "A1", "detector": "magic"}, "detector"),
        ({"profile_id": "A1", "entity_type": "planet"}, "entity_type"),
        ({"profile_id": "A1", "date": "yesterday"}, "date"),
        ({"profile_id": "A1", "date": "2999-01-01"}, "date"),
        ({"profile_id": "A1", "entity_ids": ["K1", "K1"]}, "entity_ids"),
        ({"profile_id": "A1", "include_explanations": "yes"}, "include_explanations"),
        ({"profile_id": "A1", "tenant_id": "someone-else"}, "tenant_id"),
        (b'{"profile_id": ', "body"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    local_stack: LocalStack, tenant: str, body: bytes | dict[str, Any], field: str
) -> None:
    status, error = Client(local_stack, tenant)("POST", "/detect", body)
    assert status == 422, error
    assert field in error["detail"][0]["loc"], error


def test_no_token_is_401(local_stack: LocalStack) -> None:
    assert Client(local_stack, None)("POST", "/detect", {"profile_id": "A1"})[0] == 401
