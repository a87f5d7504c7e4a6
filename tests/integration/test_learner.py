"""The learner through the local stack: a scheduled scan's last slice sends one learn
message, the real learner handler (polled from the FIFO learn queue) teaches the profile's
half-space trees the run's settled days and publishes their state (moto server over real
HTTP); the next scan scores with that version, detects only its new periods and records
the version in its alerts. A redelivered learn message publishes nothing.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tripwire.cli import main as cli
from tripwire.demo.generator import GeneratorConfig, generate, write
from tripwire.detection.pipeline import PipelineConfig
from tripwire.detection.ppc_detectors import PPCHalfSpaceTrees
from tripwire.domain import Alert, DetectionRun, RunStatus
from tripwire.ingest.importer import import_account
from tripwire.local.stack import LocalStack
from tripwire.registry.store import RegistryStore, detector_prefix
from tripwire.service import fanout
from tripwire.service.messages import LearnMessage
from tripwire.service.models import ONLINE_DETECTOR
from tripwire.store.alerts import AlertStore
from tripwire.store.provision import aws_client
from tripwire.store.schedule import ScheduleStore
from tripwire.store.tables import MODELS

# One story on a module-scoped account: the tests run in order, on one xdist worker.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.usefixtures("local_stack"),
    pytest.mark.xdist_group("learner"),
]
PROFILE = "A1"
GENERATED = GeneratorConfig(seed=11, keywords=80, campaigns=5, portfolios=1, days=90)
TRAINED_UNTIL = datetime.date(2026, 3, 1)  # the day before the generator's incident period
FIRST_SCAN = datetime.date(2026, 3, 6)  # catches up 03-02..03-06; 03-02 and 03-03 settled
NEXT_SCAN = datetime.date(2026, 3, 7)  # campaign A1-C04 is paused from this day
# The count model finds the incidents; the trees are what learns (fast to train).
MODELS_CONFIG = PipelineConfig(
    weights={"count": 2.0, "streaming": 0.3}, detector_options={"streaming": {"window_size": 200}}
)


@dataclass
class Account:
    tenant: str
    entities: int
    trained: dict[str, str]  # the model set training published
    first_run: DetectionRun
    after_first: dict[str, str]  # the model set after the first run's learning


def _scan(stack: LocalStack, tenant: str, day: datetime.date) -> DetectionRun:
    started = [r for r in stack.scan(day) if r["tenant_id"] == tenant]  # drains both queues
    assert len(started) == 1, started
    run = fanout.progress(tenant, started[0]["run_id"])
    assert run is not None and run.status is RunStatus.COMPLETE, run
    return run


def _trees(tenant: str, version: str) -> tuple[PPCHalfSpaceTrees, dict[str, object]]:
    data, meta = RegistryStore().load(tenant, PROFILE, ONLINE_DETECTOR, version)
    return PPCHalfSpaceTrees.load(data, meta), meta


def _published_states(tenant: str) -> int:
    """Half-space-tree states ever stored for the profile (one object per version)."""
    listed = aws_client("s3").list_objects_v2(
        Bucket=MODELS.name, Prefix=detector_prefix(tenant, PROFILE, ONLINE_DETECTOR) + "/"
    )
    return sum(1 for o in listed.get("Contents", []) if o["Key"].endswith(".bin"))


@pytest.fixture(scope="module")
def account(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    from tripwire.service.train import train_profile

    generated = generate(GENERATED)
    paths = write(generated, tmp_path_factory.mktemp("learner"))
    tenant = f"learner-{uuid.uuid4().hex[:8]}"
    import_account(tenant, PROFILE, paths["entities"], paths["metrics"])
    trained = train_profile(tenant, PROFILE, TRAINED_UNTIL, config=MODELS_CONFIG).versions
    ScheduleStore().set(tenant, PROFILE, True)
    try:
        run = _scan(local_stack, tenant, FIRST_SCAN)
        after = RegistryStore().current_set(tenant, PROFILE)
        assert after is not None
        yield Account(tenant, run.entities_checked, trained, run, after)
    finally:
        ScheduleStore().set(tenant, PROFILE, False)  # other modules' ticks must skip it


def test_a_finished_scheduled_scan_teaches_the_trees_its_settled_days(account: Account) -> None:
    old, new = account.trained[ONLINE_DETECTOR], account.after_first[ONLINE_DETECTOR]
    assert new != old
    # Only the trees changed: a retrain's artifacts are untouched.
    assert {k: v for k, v in account.after_first.items() if k != ONLINE_DETECTOR} == {
        k: v for k, v in account.trained.items() if k != ONLINE_DETECTOR
    }
    trees, meta = _trees(account.tenant, new)
    # Scored 03-02..03-06 (newest 03-06 provisional for 3 days): 03-02 and 03-03 settled.
    assert meta["learnt_through"] == "2026-03-03" and meta["learnt_periods"] == 2
    assert trees.learnt_through == "2026-03-03"
    before, _ = _trees(account.tenant, old)
    assert before.learnt_through is None
    # river counts what it learnt in its current window: every entity of both days.
    window = before._model().window_size
    learnt_rows = 2 * min(account.entities, window)
    assert trees._model().counter == (before._model().counter + learnt_rows) % window


def test_a_redelivered_learn_message_publishes_nothing(
    local_stack: LocalStack, account: Account
) -> None:
    states = _published_states(account.tenant)
    message = LearnMessage(
        tenant_id=account.tenant,
        profile_id=PROFILE,
        run_id=account.first_run.run_id,
        periods=[FIRST_SCAN - datetime.timedelta(days=d) for d in range(5)],
    )
    sqs = aws_client("sqs")
    for dedup in ("redelivered-after-sqs-dedup-window", "and-once-more"):
        sqs.send_message(
            QueueUrl=local_stack.learn_queue_url,
            MessageBody=message.model_dump_json(),
            MessageGroupId=f"{account.tenant}#{PROFILE}",
            MessageDeduplicationId=dedup,
        )
    local_stack.drain()

    assert RegistryStore().current_set(account.tenant, PROFILE) == account.after_first
    assert _published_states(account.tenant) == states  # no state stored, not even unnamed


def test_the_next_days_scan_scores_with_the_learnt_trees_and_detects_only_new_days(
    local_stack: LocalStack, account: Account
) -> None:
    learnt = account.after_first[ONLINE_DETECTOR]
    run = _scan(local_stack, account.tenant, NEXT_SCAN)

    # Incremental detection was not reset by the new trees' version: the new day plus the
    # day that settled since (03-04), not everything since training again.
    assert run.rows_processed == 2 * account.entities
    assert run.model_versions[ONLINE_DETECTOR] == learnt
    assert run.alert_ids, "campaign A1-C04 is paused on 03-07"
    alerts = AlertStore().get_many(account.tenant, run.alert_ids).values()
    assert {a.period.date() for a in alerts} <= {NEXT_SCAN, datetime.date(2026, 3, 4)}
    assert all(_version(a) == learnt for a in alerts)
    # And this run's learning followed: 03-04 settled in it.
    now = RegistryStore().current_set(account.tenant, PROFILE)
    assert now is not None and now[ONLINE_DETECTOR] != learnt
    assert _trees(account.tenant, now[ONLINE_DETECTOR])[1]["learnt_through"] == "2026-03-04"


def test_tripwire_local_scan_waits_for_the_learner_and_says_how_far_it_learnt(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    # The CLI against the running stack: scan queue, then learn queue, then the report.
    assert cli(["local", "scan", "--date", "2026-03-08"]) == 0
    (line,) = [x for x in capsys.readouterr().out.splitlines() if account.tenant in x]
    assert " complete: " in line, line
    assert line.endswith("; half-space trees learnt through 2026-03-05"), line


def _version(alert: Alert) -> str:
    return alert.model_versions[ONLINE_DETECTOR]
