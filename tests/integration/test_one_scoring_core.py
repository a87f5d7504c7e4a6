"""One scoring core: ``POST /detect`` and the scheduled scan raise the same alerts.

Two tenants hold the same account and the same published model set (copied, so no training
noise separates them). One asks ``POST /detect`` for day D over HTTP; the other's scheduled
scan runs through the real queue, poller and worker. Both score D (provisional) and D − 3
(settled), and must agree on every alert: entity, period, severity, score, explanation,
root causes (with the temporal precedence both read from their incidents) and group.
"""

from __future__ import annotations

import csv
import datetime
import json
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from tripwire.demo.generator import GeneratorConfig, generate, write
from tripwire.detection.pipeline import PipelineConfig
from tripwire.domain import Alert, Trigger
from tripwire.ingest.importer import import_account
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.registry.store import RegistryStore
from tripwire.service import fanout
from tripwire.service.messages import ScanMessage
from tripwire.service.runs import new_run
from tripwire.service.train import train_profile
from tripwire.store.alerts import AlertStore
from tripwire.store.runs import RunStore

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("one-core")]
CONFIG = GeneratorConfig(seed=11, keywords=80, campaigns=5, portfolios=2, days=70, incident_days=14)
TRAINING = PipelineConfig(detector_options={"lstm": {"epochs": 2}})
PROFILE = "A1"


def test_detect_and_the_scheduled_scan_raise_the_same_alerts(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    account = generate(CONFIG)
    day = min(i.start for i in account.incidents)  # trained on the clean days before it
    paused = next(i for i in account.incidents if i.kind == "campaign_paused")
    assert paused.start == day
    paths = write(account, tmp_path)
    _keep_until(paths["metrics"], day)  # D is the newest loaded day, as on the scan's morning
    detecting, scanning = (f"core-{kind}-{uuid.uuid4().hex[:6]}" for kind in ("api", "scan"))
    for tenant in (detecting, scanning):
        import_account(tenant, PROFILE, paths["entities"], paths["metrics"])
    train_profile(detecting, PROFILE, day - datetime.timedelta(days=1), config=TRAINING)
    _copy_models(detecting, scanning)

    status, answer = _post(
        local_stack, detecting, "/detect", {"profile_id": PROFILE, "date": str(day)}
    )
    assert status == 200, answer
    by_api = [Alert.model_validate(a) for a in answer["alerts"]]

    run = new_run(scanning, PROFILE, Trigger.SCHEDULE)
    message = ScanMessage(
        kind="scan", tenant_id=scanning, profile_id=PROFILE, run_id=run.run_id, end=day
    )
    fanout.enqueue(run, [message])  # the scheduler's own step, for this one profile
    local_stack.drain()
    done = RunStore().get(scanning, run.run_id)
    assert done is not None and done.status.value == "complete", done
    by_scan = list(AlertStore().get_many(scanning, done.alert_ids).values())

    assert {a.period.date() for a in by_api} <= {day - datetime.timedelta(days=3), day}
    assert any(a.entity_id == paused.root_entity for a in by_api), "the paused campaign alerts"
    assert _comparable(by_api) == _comparable(by_scan)
    # the keywords of the paused campaign trace to it, in one group
    keywords = [a for a in by_api if a.entity_id in paused.affected]
    assert keywords and {a.root_causes[0].entity_id for a in keywords} == {paused.root_entity}
    assert len({a.group_id for a in keywords}) == 1
    # stored with what it costs and the name a person reads, in the profile's currency
    campaign = next(
        a for a in by_scan if a.entity_id == paused.root_entity and a.period.date() == day
    )
    assert campaign.entity_name and campaign.label.startswith(f"campaign '{campaign.entity_name}'")
    assert campaign.impact is not None and campaign.impact.currency == "USD"
    assert campaign.impact.sales_at_risk > 0 and campaign.impact.provisional  # D is provisional
    assert campaign.impact.performance_degradation < 0
    assert f"'{campaign.entity_name}' ({campaign.entity_id})" in campaign.root_causes[0].sentence


def _comparable(alerts: list[Alert]) -> dict[tuple[str, str], dict[str, Any]]:
    """What must agree (alert ids differ: they are keyed by tenant)."""
    return {
        (a.entity_id, a.period.date().isoformat()): {
            "severity": a.severity.value,
            "score": round(a.score, 9),
            "explanation": [(e.feature, e.direction.value) for e in a.explanation],
            "root_causes": [
                (c.entity_id, c.relation.value, c.hops, c.sentence) for c in a.root_causes
            ],
            "group_id": a.group_id,
            "impact": a.impact,
            "entity_name": a.entity_name,
        }
        for a in alerts
    }


def _keep_until(metrics: Path, last: datetime.date) -> None:
    with metrics.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    with metrics.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["date"] <= last.isoformat())


def _copy_models(source: str, target: str) -> None:
    registry = RegistryStore()
    versions = registry.current_set(source, PROFILE) or {}
    artifacts = {name: registry.load(source, PROFILE, name, v) for name, v in versions.items()}
    assert registry.publish_models(target, PROFILE, artifacts) == versions


def _post(stack: LocalStack, tenant: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    token = issue_token(tenant, "ana", directory=stack.directory)
    request = urllib.request.Request(
        stack.api_url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.status, json.loads(response.read())
