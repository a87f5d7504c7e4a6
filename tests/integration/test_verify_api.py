"""POST /anomalies/{id}/verify over real HTTP: an alert re-scored with the current model on
the data stored now — it holds on unchanged data, and goes away once restated."""

from __future__ import annotations

import datetime
import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tripwire.demo.generator import GeneratorConfig, Incident, generate, write
from tripwire.ingest.importer import import_account
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.service.train import train_profile

pytestmark = pytest.mark.integration
CONFIG = GeneratorConfig(seed=11, keywords=40, campaigns=3, portfolios=1, days=100)


@dataclass(frozen=True)
class Account:
    tenant: str
    incident: Incident
    paths: dict[str, Path]


def call(stack: LocalStack, tenant: str, method: str, path: str, body: Any = None) -> Any:
    token = issue_token(tenant, "ana", directory=stack.directory)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(stack.api_url + path, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def account(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Account:
    generated = generate(CONFIG)
    paths = write(generated, tmp_path_factory.mktemp("verify"))
    tenant = f"verify-{uuid.uuid4().hex[:8]}"
    import_account(tenant, "A1", paths["entities"], paths["metrics"])
    first = CONFIG.start + datetime.timedelta(days=CONFIG.days - generated.config.incident_days)
    train_profile(tenant, "A1", first - datetime.timedelta(days=1))
    kinds = ("campaign_paused", "campaign_budget_exhausted")
    incident = next(i for i in generated.incidents if i.kind in kinds)
    return Account(tenant, incident, paths)


def _keyword_alert(stack: LocalStack, account: Account) -> dict[str, Any]:
    day = account.incident.start.isoformat()
    status, found = call(
        stack, account.tenant, "POST", "/detect", {"profile_id": "A1", "date": day}
    )
    assert status == 200, found
    keywords = [
        a for a in found["alerts"] if a["entity_type"] == "keyword" and a["period"].startswith(day)
    ]
    assert keywords, "the incident's keywords alert"
    return keywords[0]


def test_an_alert_on_unchanged_data_still_holds(local_stack: LocalStack, account: Account) -> None:
    alert = _keyword_alert(local_stack, account)
    status, body = call(
        local_stack, account.tenant, "POST", f"/anomalies/{alert['alert_id']}/verify"
    )
    assert status == 200, body
    assert body["still_anomalous"] is True and body["current"]["alert"] is True
    assert body["original"]["score"] == alert["score"]
    assert body["original"]["model_versions"] == alert["model_versions"]
    assert body["current"]["model_versions"] == alert["model_versions"]
    assert body["models_changed"] is False and body["settled"] is True
    assert set(body["current"]["features"]) >= {"impressions", "clicks", "spend", "acos"}
    assert body["current"]["features"]["impressions"].keys() == {"expected", "actual", "deviation"}
    assert {n["period"] for n in body["around"]} <= {
        (datetime.date.fromisoformat(body["period"]) + datetime.timedelta(days=d)).isoformat()
        for d in (-1, 1)
    }
    status, run = call(local_stack, account.tenant, "GET", f"/runs/{body['run_id']}")
    assert status == 200 and run["trigger"] == "verification" and run["entities_checked"] == 1
    assert run["alert_ids"] == [alert["alert_id"]]


def test_an_alert_restated_to_normal_no_longer_holds(
    local_stack: LocalStack, account: Account, tmp_path: Path
) -> None:
    alert = _keyword_alert(local_stack, account)
    day = datetime.date.fromisoformat(alert["period"][:10])
    week_before = (day - datetime.timedelta(days=7)).isoformat()
    lines = account.paths["metrics"].read_text().splitlines()
    normal = next(line for line in lines if line.startswith(f"{week_before},{alert['entity_id']},"))
    restated = tmp_path / "restated.csv"
    restated.write_text(f"{lines[0]}\n{normal.replace(week_before, day.isoformat(), 1)}\n")
    import_account(account.tenant, "A1", account.paths["entities"], restated)
    status, body = call(
        local_stack, account.tenant, "POST", f"/anomalies/{alert['alert_id']}/verify"
    )
    assert status == 200, body
    assert body["still_anomalous"] is False and body["score_change"] < 0
    status, run = call(local_stack, account.tenant, "GET", f"/runs/{body['run_id']}")
    assert status == 200 and run["anomalies_found"] == 0 and run["alert_ids"] == []


def test_another_tenants_or_an_unknown_alert_is_404(
    local_stack: LocalStack, account: Account, tenant: str
) -> None:
    alert = _keyword_alert(local_stack, account)
    assert call(local_stack, tenant, "POST", f"/anomalies/{alert['alert_id']}/verify")[0] == 404
    assert call(local_stack, account.tenant, "POST", "/anomalies/al-nope/verify")[0] == 404
    status, body = call(local_stack, account.tenant, "POST", f"/anomalies/{'a' * 129}/verify")
    assert status == 422 and "alert_id" in body["detail"][0]["loc"]
