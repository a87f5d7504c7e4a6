"""Training through the local stack: the training rule's execution is planned by the real
``train_scheduler``, each job runs the same code a SageMaker training job runs
(``service.train_job``), a failing one is recorded by the real ``train_recorder``; the API
starts trainings over real HTTP (moto's Step Functions holds the executions).

One story on a module-scoped account (tests run in order on one xdist worker): the
schedule trains a profile the first time it has enough history and the next scan uses
those versions; a worse model is kept as a candidate, not published; a "not an anomaly"
label changes the next model (the labelled alert is not raised again on the same pattern);
a failing training ends its run failed with the reason.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.test_profile_deletion import call
from tripwire.demo.generator import GeneratorConfig, generate, write
from tripwire.domain import DetectionRun, RunStatus
from tripwire.domain.runs import Trigger
from tripwire.ingest.importer import import_account
from tripwire.local.stack import LocalStack
from tripwire.registry import default_manager
from tripwire.registry.store import RegistryStore
from tripwire.service import fanout
from tripwire.service.models import current_pipeline
from tripwire.service.scoring import silence_labelled
from tripwire.service.series import load_series
from tripwire.service.train_job import OPTIONS_ENV
from tripwire.store.runs import RunStore
from tripwire.store.schedule import ScheduleStore

pytestmark = [
    pytest.mark.integration,
    pytest.mark.usefixtures("local_stack"),
    pytest.mark.xdist_group("training"),
]
PROFILE = "A1"
GENERATED = GeneratorConfig(seed=11, keywords=60, campaigns=4, portfolios=1, days=90)
TRAINED_UNTIL = datetime.date(2026, 3, 1)  # the day before the generator's incident period
SCAN_DAY = datetime.date(2026, 3, 8)
# Small models: torch and the forests on a shared 2-core machine.
SMALL = {
    "detector_options": {
        "lstm": {"epochs": 1, "hidden": 8},
        "isolation_forest": {"n_estimators": 20},
        "streaming": {"window_size": 200},
    }
}
# Alerting at a tail probability of 30%: a model that raises far more false alerts.
WORSE = {**SMALL, "alert_tail_prob": 0.3}


@dataclass
class Account:
    tenant: str
    first: DetectionRun  # the scheduled first training


def _trainings(tenant: str) -> list[DetectionRun]:
    return [r for r in RunStore().of_profile(tenant, PROFILE) if r.training is not None]


def _train_now(stack: LocalStack, tenant: str, end: datetime.date, profile: str = PROFILE) -> Any:
    status, started = call(
        stack, tenant, "POST", f"/profiles/{profile}/train", {"end": end.isoformat()}
    )
    assert status == 202, started
    assert stack.trainer is not None
    stack.trainer.drain()
    status, run = call(stack, tenant, "GET", f"/runs/{started['run_id']}")
    assert status == 200
    return run


def _detect(stack: LocalStack, tenant: str, day: datetime.date) -> Any:
    body = {"profile_id": PROFILE, "date": day.isoformat()}
    status, found = call(stack, tenant, "POST", "/detect", body)
    assert status == 200, found
    return found


@pytest.fixture(scope="module")
def account(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    paths = write(generate(GENERATED), tmp_path_factory.mktemp("training"))
    tenant = f"training-{uuid.uuid4().hex[:8]}"
    import_account(tenant, PROFILE, paths["entities"], paths["metrics"])
    ScheduleStore().set(tenant, PROFILE, True)
    patch = pytest.MonkeyPatch()
    patch.setenv(OPTIONS_ENV, json.dumps(SMALL))
    try:
        local_stack.train(TRAINED_UNTIL)  # the daily rule's tick: the real planner
        (first,) = _trainings(tenant)
        yield Account(tenant, first)
    finally:
        ScheduleStore().set(tenant, PROFILE, False)  # other modules' ticks must skip it
        patch.undo()


def test_the_schedule_trains_a_profile_first_and_the_next_scan_uses_its_models(
    local_stack: LocalStack, account: Account
) -> None:
    run = account.first
    assert run.trigger is Trigger.FIRST_TRAINING and run.status is RunStatus.COMPLETE, run
    assert run.training is not None and run.training.published is True
    assert run.training.current_quality is None  # nothing to compare with: the first model
    assert run.training.quality is not None and run.training.quality.entity_days > 0
    published = RegistryStore().current_set(account.tenant, PROFILE)
    assert published == run.training.versions == run.model_versions
    assert {"pipeline", "lstm", "isolation_forest", "streaming"} <= set(published)
    started = [r for r in local_stack.scan(SCAN_DAY) if r["tenant_id"] == account.tenant]
    scan = fanout.progress(account.tenant, started[0]["run_id"])
    assert scan is not None and scan.status is RunStatus.COMPLETE
    trained = {k: v for k, v in published.items() if k != "streaming"}  # the trees learn on
    assert {k: scan.model_versions[k] for k in trained} == trained
    # the same schedule tick again: trained this week already, nothing planned
    local_stack.train(TRAINED_UNTIL)
    assert len(_trainings(account.tenant)) == 1


def test_a_worse_model_is_kept_as_a_candidate_not_published(
    local_stack: LocalStack, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = RegistryStore().current_set(account.tenant, PROFILE)
    monkeypatch.setenv(OPTIONS_ENV, json.dumps(WORSE))
    run = _train_now(local_stack, account.tenant, TRAINED_UNTIL)
    assert run["status"] == "complete" and run["trigger"] == "api"
    training = run["training"]
    assert training["published"] is False, training
    new, current = training["quality"], training["current_quality"]
    assert new["false_alerts"] > current["false_alerts"]
    assert "false alerts" in training["decision"]
    assert RegistryStore().current_set(account.tenant, PROFILE) == before  # still in use
    candidate = RegistryStore().candidate(account.tenant, PROFILE)
    assert candidate is not None and candidate["run_id"] == run["run_id"]
    assert candidate["models"] == training["versions"] != before


def test_a_labelled_false_alert_is_not_raised_again_on_the_same_pattern(
    local_stack: LocalStack, account: Account
) -> None:
    tenant = account.tenant
    found = _detect(local_stack, tenant, SCAN_DAY)
    alerts = found["alerts"]
    assert alerts, "the planted incidents alert on the scan day"
    labelled = alerts[0]
    status, _ = call(
        local_stack,
        tenant,
        "POST",
        f"/alerts/{labelled['alert_id']}/feedback",
        {"is_anomaly": False, "note": "a promotion we planned"},
    )
    assert status in (200, 201)
    run = _train_now(local_stack, tenant, SCAN_DAY)
    training = run["training"]
    assert run["status"] == "complete" and training["labels_used"]["not_anomaly"] == 1
    assert training["published"] is True, training
    default_manager().clear()  # a warm container follows a new model set within a minute
    again = _detect(local_stack, tenant, SCAN_DAY)
    assert again["model_versions"] == training["versions"]
    raised = {a["alert_id"] for a in again["alerts"]}
    assert labelled["alert_id"] not in raised  # one alert id per (entity, period)
    assert raised, "the other alerts are still raised"
    # The label is what silences it: the new model alone still finds the pattern.
    pipeline, _ = current_pipeline(tenant, PROFILE)
    period = datetime.date.fromisoformat(labelled["period"][:10])
    series = load_series(tenant, PROFILE, period, 120)
    result = pipeline.score(series.raw, period.weekday())
    ids = [e.entity_id for e in series.entities]
    row = ids.index(labelled["entity_id"])
    assert result.alert[row]
    assert not silence_labelled(pipeline, ids, result).alert[row]


def test_a_failing_training_ends_its_run_failed_with_the_reason(
    local_stack: LocalStack, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No data in the 90 days before: the job itself fails the run, with the reason.
    run = _train_now(local_stack, account.tenant, datetime.date(2025, 6, 1))
    assert run["status"] == "failed" and run["training"]["stage"] == "failed"
    assert run["error"].startswith("InsufficientHistory:"), run["error"]
    # A job failing before it can record anything: the recorder (Step Functions' Catch).
    monkeypatch.setenv(OPTIONS_ENV, json.dumps({"epochs": 3}))
    run = _train_now(local_stack, account.tenant, TRAINED_UNTIL)
    assert run["status"] == "failed", run
    assert run["error"] == "ValueError: unknown training options: ['epochs']"


def test_training_another_tenants_or_an_unknown_profile_is_a_404(
    local_stack: LocalStack, account: Account, new_tenant: Any
) -> None:
    status, _ = call(local_stack, new_tenant(), "POST", f"/profiles/{PROFILE}/train", {})
    assert status == 404
    status, _ = call(local_stack, account.tenant, "POST", "/profiles/NOPE/train", {})
    assert status == 404
    body = {"end": "2999-01-01"}
    status, answer = call(local_stack, account.tenant, "POST", f"/profiles/{PROFILE}/train", body)
    assert status == 422 and "end" in json.dumps(answer)
    status, answer = call(
        local_stack, account.tenant, "PUT", f"/profiles/{PROFILE}/training", {"every_days": 0}
    )
    assert status == 422 and "every_days" in json.dumps(answer)
    status, answer = call(
        local_stack, account.tenant, "PUT", f"/profiles/{PROFILE}/training", {"every_days": 14}
    )
    assert status == 200 and answer["every_days"] == 14
    assert answer["last_started"] == (TRAINED_UNTIL).isoformat()  # the scheduled first one
