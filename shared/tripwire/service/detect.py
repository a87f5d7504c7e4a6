"""On-demand detection (``POST /detect``): score a profile for one day now, or queue it.

The same replay as the scheduled scan (``service.scan``): day D is scored with its sales
and orders provisional, and D − 3 re-scored now that it is settled. On top of the scan it
lets the caller narrow what is reported (an entity type, a list of entity ids), choose
the detector, and skip explanations or root causes. The whole profile is still scored:
root causes compare an entity with its parents and siblings, so they need all of them.

Size decides the path: a request scoring more than ``SYNC_ENTITY_PERIODS`` entity-periods
(profile entities × ``SCORED_PASSES``) would not finish within API Gateway's 30-second
limit, so it becomes a DetectionRun in progress plus a ``ScanMessage(kind="detect")`` on
the scan queue, answered later by the scan worker. Measured in-process on the local stack
(523 entities, 28 alerts, warm): 4.8 s — loading 2.1 s (moto), scoring 0.3 s, Shapley
explanations 1.8 s (~60 ms an alert), alert writes 0.6 s. At 10,000 entity-periods that is
~5 s of scoring plus ~60 ms per alert and the reads, inside 30 s with room for a bad day;
``TRIPWIRE_DETECT_SYNC_ENTITY_PERIODS`` overrides it.

Alerts are keyed by (entity, interval, period) as in the scan, so detecting the same day
twice writes nothing twice.
"""

from __future__ import annotations

import datetime
import os
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from tripwire.detection.pipeline import ScanPipeline
from tripwire.domain import Alert, DetectionRun, RunStatus
from tripwire.domain.alerts import severity_counts
from tripwire.domain.entities import Entity, EntityType
from tripwire.domain.runs import Trigger
from tripwire.features.ppc import LATE_ATTRIBUTION_PERIODS
from tripwire.registry.manager import default_manager
from tripwire.service.messages import ScanMessage
from tripwire.service.models import current_pipeline
from tripwire.service.runs import DetectorUnavailable, new_run, queued_deadline, utcnow
from tripwire.service.scoring import (
    ProfileScorer,
    ScanStores,
    currency_of,
    history_periods,
    read_window,
    store_found,
    stored_alerting,
    unique,
)
from tripwire.service.series import ProfileSeries, UnknownProfile
from tripwire.store.alerts import AlertStore
from tripwire.store.catalog import CatalogStore
from tripwire.store.provision import aws_client
from tripwire.store.queues import SCAN
from tripwire.store.runs import RunSlices, RunStore
from tripwire.telemetry import ALERTS_RAISED, ENTITIES_SCORED, count, count_by

Detector = Literal["ensemble", "lstm", "streaming", "isolation_forest"]
SYNC_LIMIT_ENV = "TRIPWIRE_DETECT_SYNC_ENTITY_PERIODS"
SCORED_PASSES = 2  # D provisional and D - 3 settled
# The largest request answered at once (entity-periods scored); see the module docstring.
SYNC_ENTITY_PERIODS = 10_000

__all__ = ["DetectReport", "DetectRequest", "UnknownEntity", "UnknownProfile", "detect"]


@dataclass(frozen=True)
class DetectRequest:
    profile_id: str
    day: datetime.date
    entity_type: EntityType | None = None
    entity_ids: tuple[str, ...] = ()
    detector: Detector = "ensemble"
    explain: bool = True
    root_causes: bool = True


class UnknownEntity(LookupError):
    """An entity id the profile does not hold."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"unknown entity ids: {', '.join(missing[:10])}")
        self.missing = missing


class QueueUnavailable(RuntimeError):
    """A large request needs the scan queue, and none is configured."""


@dataclass
class DetectReport:
    run: DetectionRun
    alerts: list[Alert] = field(default_factory=list)  # every anomaly found, new or known
    new: list[Alert] = field(default_factory=list)  # the alerts this run stored
    queued: bool = False
    planned: int = 0  # entities a queued run will report on
    execution_ms: float = 0.0

    @property
    def new_alerts(self) -> int:
        return len(self.new)

    def severity_counts(self) -> dict[str, int]:
        return severity_counts(self.alerts)


def detect(
    tenant: str,
    request: DetectRequest,
    *,
    now: datetime.datetime | None = None,
    catalog: CatalogStore | None = None,
    alerts: AlertStore | None = None,
    runs: RunStore | None = None,
) -> DetectReport:
    """Detect now, or queue it when too large; raises UnknownProfile / UnknownEntity."""
    started = time.perf_counter()
    now = now or datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    _, entities = (catalog or CatalogStore()).get_hierarchy(tenant, request.profile_id)
    if not entities:
        raise UnknownProfile(request.profile_id)
    selected = select(entities, request)
    runs = runs or RunStore()
    if len(entities) * SCORED_PASSES > sync_limit():
        run = enqueue(tenant, request, entities, selected, now, runs)
        planned = int(selected.sum())
        return DetectReport(run, queued=True, planned=planned, execution_ms=_ms(started))
    report = detect_now(tenant, request, now, alerts or AlertStore(), runs, selected=selected)
    report.execution_ms = _ms(started)
    return report


def sync_limit() -> int:
    """Entity-periods answered synchronously (``TRIPWIRE_DETECT_SYNC_ENTITY_PERIODS``)."""
    return int(os.environ.get(SYNC_LIMIT_ENV) or SYNC_ENTITY_PERIODS)


def select(entities: list[Entity], request: DetectRequest) -> npt.NDArray[np.bool_]:
    """Which entities the request reports on (rows of the hierarchy)."""
    ids = [e.entity_id for e in entities]
    mask = np.ones(len(entities), dtype=bool)
    if request.entity_ids:
        known = set(ids)
        missing = [i for i in request.entity_ids if i not in known]
        if missing:
            raise UnknownEntity(missing)
        mask &= np.isin(ids, list(request.entity_ids))
    if request.entity_type is not None:
        mask &= np.array([e.entity_type == request.entity_type for e in entities])
    return mask


def enqueue(
    tenant: str,
    request: DetectRequest,
    entities: list[Entity],
    selected: npt.NDArray[np.bool_],
    now: datetime.datetime,
    runs: RunStore,
) -> DetectionRun:
    """Record the run as in progress, then hand it to the scan worker."""
    if not os.environ.get(SCAN.url_env):
        raise QueueUnavailable(f"{SCAN.url_env} is not set: large detections cannot run")
    versions = default_manager().versions(tenant, request.profile_id)  # NoModels before queuing
    if request.detector != "ensemble" and request.detector not in versions:
        raise DetectorUnavailable(request.detector)
    run = new_run(tenant, request.profile_id, Trigger.API, versions=versions, now=now)
    run = run.model_copy(update={"deadline": queued_deadline(run.started_at)})
    narrowed = request.entity_ids or request.entity_type is not None
    ids = [e.entity_id for e, keep in zip(entities, selected, strict=True) if keep]
    message = ScanMessage(
        kind="detect",
        tenant_id=tenant,
        profile_id=request.profile_id,
        run_id=run.run_id,
        entity_ids=ids if narrowed else None,
        start=request.day,
        end=request.day,
        detector=request.detector,
        force=True,
    )
    RunSlices().start(run, slices=1)  # the worker completes it when its one slice is done
    try:
        aws_client("sqs").send_message(QueueUrl=SCAN.url(), MessageBody=message.model_dump_json())
    except Exception as error:
        runs.put(run.model_copy(update={"status": RunStatus.FAILED, "error": str(error)}))
        raise
    return run


def detect_now(
    tenant: str,
    request: DetectRequest,
    now: datetime.datetime,
    alerts: AlertStore,
    runs: RunStore,
    *,
    selected: npt.NDArray[np.bool_] | None = None,
    trigger: Trigger = Trigger.API,
) -> DetectReport:
    """Score the day 3 before ``request.day`` (settled) and ``request.day`` (provisional) for
    the whole profile through the scoring core; store new alerts of the ``selected`` rows
    (default: all) and a run."""
    pipeline, versions = current_pipeline(tenant, request.profile_id, detector=request.detector)
    stores = ScanStores(alerts=alerts, runs=runs)
    _, entities = stores.catalog.get_hierarchy(tenant, request.profile_id)
    if not entities:
        raise UnknownProfile(request.profile_id)
    first = request.day - datetime.timedelta(days=history_periods(pipeline.config) - 1)
    currency = currency_of(stores.catalog, tenant, request.profile_id)
    series = read_window(
        stores.metrics, tenant, request.profile_id, entities, first, request.day, currency
    )
    if selected is None:
        selected = np.ones(len(series.entities), dtype=bool)
    run = new_run(tenant, request.profile_id, trigger, versions=versions, now=now).model_copy(
        update={
            "entities_checked": int(selected.sum()),
            "rows_loaded": int(np.count_nonzero(series.raw.any(axis=2))),
        }
    )
    try:
        return _score_and_store(request, selected, series, pipeline, run, stores)
    except Exception as error:  # the audit trail keeps failed runs too
        failed = {"status": RunStatus.FAILED, "error": f"{type(error).__name__}: {error}"}
        runs.put(run.model_copy(update={**failed, "completed_at": utcnow()}))
        raise


def _score_and_store(
    request: DetectRequest,
    selected: npt.NDArray[np.bool_],
    series: ProfileSeries,
    pipeline: ScanPipeline,
    run: DetectionRun,
    stores: ScanStores,
) -> DetectReport:
    tenant, profile = run.tenant_id, run.profile_id
    settled = request.day - datetime.timedelta(days=LATE_ATTRIBUTION_PERIODS)
    history = stored_alerting(stores, tenant, profile, settled, request.day)
    scorer = ProfileScorer(pipeline, series, run, history, latest=request.day)
    # Stored alerts always carry their root causes; the request only trims the answer.
    found = unique(
        [
            scorer.score(
                day, provisional=day == request.day, rows=selected, explain=request.explain
            )
            for day in (settled, request.day)
        ]
    )
    scored = [series.entities[r].entity_id for r in np.flatnonzero(selected).tolist()]
    stored = store_found(stores, tenant, profile, found, {settled: scored})
    reported = stored.found
    if not request.root_causes:
        reported = [a.model_copy(update={"root_causes": []}) for a in reported]
    run = run.model_copy(
        update={
            "completed_at": utcnow(),
            "rows_processed": SCORED_PASSES * int(selected.sum()),
            "anomalies_found": len(found),
            "alert_ids": [a.alert_id for a in found],
            "status": RunStatus.COMPLETE,
            "warnings": _warnings(request, selected),
        }
    )
    stores.runs.put(run)
    count(ENTITIES_SCORED, len(series.entities))
    count_by(ALERTS_RAISED, "severity", severity_counts(stored.new))
    return DetectReport(run, reported, stored.new)


def _warnings(request: DetectRequest, selected: npt.NDArray[np.bool_]) -> list[str]:
    if not selected.any():
        return ["no entity of the profile matches the request's entity filter"]
    return []


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
