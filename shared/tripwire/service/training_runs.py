"""Training runs: started on demand or by the weekly schedule, run by the training job.

Light on purpose (no detection imports): the profiles API, the training scheduler and the
failure recorder use it. The heavy part, the job itself, is ``service.train.run_training``.

- ``request_training`` (``POST /profiles/{id}/train``): a run record, then one Step
  Functions execution named after the run (a repeated start of the same name and input is
  the same execution), whose Map runs the one job.
- ``plan_trainings`` (the state machine's first step on a schedule event): every scheduled
  or connected profile whose retraining is due (``every_days`` since the last one, weekly by
  default) — or never trained and with enough history, the first time — gets a run; the
  Map runs one job per run.
- ``record_failure``: a job that failed before it could record its own failure (out of
  memory, a timeout, an image that never started) still ends its run failed, with the reason.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import asdict, dataclass
from typing import Any

from tripwire.domain.entities import ProfileKind
from tripwire.domain.metrics import Interval
from tripwire.domain.runs import DetectionRun, RunStatus, TrainingOutcome, Trigger
from tripwire.registry.store import RegistryStore
from tripwire.service.runs import ProfileNotFound, new_run, utcnow
from tripwire.store.catalog import CatalogStore
from tripwire.store.connections import ConnectionStore
from tripwire.store.metrics import MetricStore
from tripwire.store.provision import aws_client
from tripwire.store.runs import RunStore
from tripwire.store.schedule import ScheduleStore
from tripwire.store.training import TrainingEntry, TrainingScheduleStore

STATE_MACHINE_ENV = "TRIPWIRE_TRAINING_STATE_MACHINE"
# A training job's run is failed by the sweeper if still in progress after this: the job's
# own stopping condition (``infra``: 2 h) plus an hour of queueing for an instance.
TRAINING_DEADLINE = datetime.timedelta(hours=3)
# Days of data before a profile is first trained: what ``service.train`` fits on at least
# (min_history 14 + history_periods 56 // 2, plus one) and the 14 held-back days.
FIRST_TRAINING_DAYS = 14 + 56 // 2 + 1 + 14
HISTORY_DAYS = 90  # how far back the first-training check looks
MAX_EVERY_DAYS = 90


@dataclass(frozen=True)
class TrainingJob:
    """One Map item: the training job's input (its hyperparameters in SageMaker)."""

    tenant_id: str
    profile_id: str
    run_id: str
    end: str  # ISO date: the last day trained on (held-back days included)

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _training_run(tenant: str, profile: str, trigger: Trigger) -> DetectionRun:
    run = new_run(tenant, profile, trigger)
    return run.model_copy(
        update={"training": TrainingOutcome(), "deadline": run.started_at + TRAINING_DEADLINE}
    )


class NotTrainedHere(ValueError):
    """A market profile: its model is trained with ``tripwire market train``."""

    field = "profile_id"


def request_training(
    tenant: str, profile: str, end: datetime.date | None = None, *, runs: RunStore | None = None
) -> DetectionRun:
    """Start a training of the tenant's profile now; the run, in progress."""
    found = CatalogStore().get_profile(tenant, profile)
    if found is None:
        raise ProfileNotFound(profile)
    if found.kind is not ProfileKind.ADS:
        raise NotTrainedHere(
            f"{profile} is a {found.kind} profile: its model is trained by `tripwire market train`"
        )
    run = _training_run(tenant, profile, Trigger.API)
    (runs or RunStore()).put(run)
    last = end or utcnow().date() - datetime.timedelta(days=1)  # the newest finished day
    job = TrainingJob(tenant, profile, run.run_id, last.isoformat())
    start_execution(run.run_id, [job])
    return run


def start_execution(name: str, jobs: list[TrainingJob]) -> None:
    aws_client("stepfunctions").start_execution(
        stateMachineArn=os.environ[STATE_MACHINE_ENV],
        name=name,
        input=json.dumps({"jobs": [j.to_dict() for j in jobs]}),
    )


def set_every(tenant: str, profile: str, every_days: int, *, by: str) -> TrainingEntry:
    """How often the profile is retrained (days)."""
    if CatalogStore().get_profile(tenant, profile) is None:
        raise ProfileNotFound(profile)
    return TrainingScheduleStore().set_every(tenant, profile, every_days, by=by)


def _candidates() -> list[tuple[str, str]]:
    """Ads profiles the schedule knows: scanned daily, or connected to Amazon Ads."""
    found = {(e.tenant_id, e.profile_id) for e in ScheduleStore().active(Interval.D1)}
    found |= {(c.tenant_id, c.profile_id) for c in ConnectionStore().connected()}
    catalog = CatalogStore()
    return sorted(
        (tenant, profile)
        for tenant, profile in found
        if (p := catalog.get_profile(tenant, profile)) is not None and p.kind is ProfileKind.ADS
    )


def days_with_data(tenant: str, profile: str, end: datetime.date) -> int:
    """Days with any activity in the profile's top-level series over ``HISTORY_DAYS``."""
    _, entities = CatalogStore().get_hierarchy(tenant, profile)
    roots = [e.entity_id for e in entities if e.parent_id is None]
    if not roots:
        return 0
    first = end - datetime.timedelta(days=HISTORY_DAYS - 1)
    window = MetricStore().read_window(
        tenant,
        profile,
        Interval.D1,
        roots,
        datetime.datetime.combine(first, datetime.time()),
        datetime.datetime.combine(end, datetime.time()),
    )
    days = {p[:10] for points in window.values() for p, v in points.items() if any(v)}
    return len(days)


def plan_trainings(as_of: datetime.date) -> list[TrainingJob]:
    """One run per profile due for training on ``as_of`` (claimed, so a schedule event
    delivered twice plans each profile once)."""
    schedule, registry, runs = TrainingScheduleStore(), RegistryStore(), RunStore()
    jobs = []
    for tenant, profile in _candidates():
        entry = schedule.get(tenant, profile)
        trained = registry.current_set(tenant, profile) is not None
        if trained and not entry.due(as_of):
            continue
        first = not trained and entry.last_started is None
        if not trained and days_with_data(tenant, profile, as_of) < FIRST_TRAINING_DAYS:
            continue  # too little history yet: looked at again tomorrow
        if not schedule.claim(entry, as_of):
            continue
        run = _training_run(tenant, profile, Trigger.FIRST_TRAINING if first else Trigger.SCHEDULE)
        runs.put(run)
        # the schedule's day may still be filling: train through the day before
        end = as_of - datetime.timedelta(days=1)
        jobs.append(TrainingJob(tenant, profile, run.run_id, end.isoformat()))
    return jobs


def record_failure(job: dict[str, Any], error: dict[str, Any]) -> DetectionRun | None:
    """End the job's run as failed with the job's error, unless it already ended."""
    runs = RunStore()
    run = runs.get(str(job["tenant_id"]), str(job["run_id"]))
    if run is None or run.status is not RunStatus.IN_PROGRESS:
        return run
    reason = _reason(error)
    training = (run.training or TrainingOutcome()).model_copy(update={"stage": "failed"})
    failed = run.model_copy(
        update={
            "status": RunStatus.FAILED,
            "error": reason,
            "completed_at": utcnow(),
            "training": training,
        }
    )
    runs.put(failed)
    return failed


def _reason(error: dict[str, Any]) -> str:
    """Step Functions' caught error: ``Error`` and ``Cause`` (SageMaker's FailureReason
    is inside the cause's JSON when the training job failed)."""
    cause = str(error.get("Cause", ""))
    try:
        detail = json.loads(cause)
    except ValueError:
        detail = None
    if isinstance(detail, dict) and detail.get("FailureReason"):
        cause = str(detail["FailureReason"])
    return f"{error.get('Error', 'Error')}: {cause}".strip()
