"""Train a profile into the registry and scan it day by day, against moto server over HTTP."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tripwire.demo.generator import GeneratorConfig, Incident, generate, write
from tripwire.ingest.importer import import_account
from tripwire.registry.store import NoModels, RegistryStore, version_of
from tripwire.service.alerts import AlertService
from tripwire.service.detect import DetectReport, DetectRequest, detect, detect_now
from tripwire.service.runs import utcnow
from tripwire.service.train import InsufficientHistory, train_profile
from tripwire.store.alerts import AlertStore
from tripwire.store.runs import RunStore

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("local_stack")]
CONFIG = GeneratorConfig(seed=11, keywords=150, campaigns=8, portfolios=2, days=100)


@dataclass(frozen=True)
class Trained:
    tenant: str
    incidents: list[Incident]
    versions: dict[str, str]
    first_incident_day: datetime.date


@pytest.fixture(scope="module")
def trained(local_stack: object, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    account = generate(CONFIG)
    paths = write(account, tmp_path_factory.mktemp("scan"))
    tenant = f"scan-{uuid.uuid4().hex[:8]}"
    import_account(tenant, "A1", paths["entities"], paths["metrics"])
    first = CONFIG.start + datetime.timedelta(days=CONFIG.days - account.config.incident_days)
    report = train_profile(tenant, "A1", first - datetime.timedelta(days=1))
    return Trained(tenant, account.incidents, report.versions, first)


def test_training_publishes_a_versioned_model_set(trained: Trained) -> None:
    registry = RegistryStore()
    assert registry.current_set(trained.tenant, "A1") == trained.versions
    for name, version in trained.versions.items():
        data, metadata = registry.load(trained.tenant, "A1", name, version)
        assert version_of(data) == version
        assert metadata["training_end"] < trained.first_incident_day.isoformat()


def test_a_scan_raises_the_planted_incident_with_explanation_and_cause(trained: Trained) -> None:
    incident = next(i for i in trained.incidents if i.kind == "campaign_paused")
    report = _detect(trained.tenant, incident.start)
    hit = [a for a in report.alerts if a.entity_id in {incident.root_entity, *incident.affected}]
    assert hit, f"no alert on {incident.root_entity} on {incident.start}"
    alert = next(a for a in hit if a.entity_id == incident.root_entity)
    assert alert.period.date() == incident.start
    assert alert.explanation and alert.explanation[0].direction.value == "below"
    assert alert.root_causes[0].entity_id == incident.root_entity
    keywords = [a for a in hit if a.entity_id in incident.affected]
    assert keywords, "the paused campaign's keywords alert too"
    assert {a.root_causes[0].entity_id for a in keywords} == {incident.root_entity}
    assert {a.root_causes[0].relation.value for a in keywords} == {"ancestor"}
    assert len({a.group_id for a in [*keywords, alert]}) == 1  # one incident, one group
    assert alert.model_versions == trained.versions
    run = RunStore().get(trained.tenant, report.run.run_id)
    assert run is not None and run.status.value == "complete"
    assert run.anomalies_found == len(report.alerts) and run.entities_checked > 150


def test_scanning_the_same_day_again_writes_nothing_and_keeps_workflow_state(
    trained: Trained,
) -> None:
    incident = next(i for i in trained.incidents if i.kind == "campaign_budget_exhausted")
    first = _detect(trained.tenant, incident.start)
    assert first.alerts and first.new == first.alerts
    store = AlertStore()
    acknowledged = first.alerts[0]
    AlertService.default().acknowledge(trained.tenant, acknowledged.alert_id, "ana")
    again = _detect(trained.tenant, incident.start)
    assert again.new == [] and len(again.alerts) == len(first.alerts)
    kept = store.get(trained.tenant, acknowledged.alert_id)
    assert kept is not None and kept.status.value == "acknowledged"


def test_an_untrained_profile_has_no_models(trained: Trained) -> None:
    request = DetectRequest(profile_id="A1", day=trained.first_incident_day)
    with pytest.raises(NoModels):
        detect_now(f"{trained.tenant}-other", request, utcnow(), AlertStore(), RunStore())


def test_too_little_history_is_a_clear_status(tmp_path: Path, tenant: str) -> None:
    small = GeneratorConfig(seed=3, keywords=20, campaigns=2, portfolios=1, days=20)
    paths = write(generate(small), tmp_path)
    import_account(tenant, "A1", paths["entities"], paths["metrics"])
    with pytest.raises(InsufficientHistory, match="days of data"):
        train_profile(tenant, "A1", small.start + datetime.timedelta(days=19))


def _detect(tenant: str, day: datetime.date) -> DetectReport:
    return detect(tenant, DetectRequest(profile_id="A1", day=day))
