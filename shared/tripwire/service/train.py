"""Training a profile's detectors on its stored history, with its users' labels.

Two ways in, one fitting code:

- ``train_profile`` (``tripwire train``, the demo): fit on the whole window and publish.
- ``run_training`` (the cloud job and its local stand-in, per run): fit on the window but
  its last ``HELD_BACK_DAYS``, score those days with the new model and with the one in use,
  and publish the new one only if it is not worse (``not_worse``); otherwise it is stored
  as a candidate. The run record follows each stage and ends with the versions, both
  models' held-back quality and how many labels were used — or failed, with the reason.

Labels (the feedback table): a "real anomaly" day is replaced by its entity's same-weekday
median in the training history (a model must not learn an incident as normal) and counts
toward recall on the held-back window; a "not an anomaly" alert becomes a labelled pattern
of the model (``detection.labels``), so the same move on the same entity stays quiet.

Each artifact goes to the model registry with its SHA-256 as its version, then the model
set is published last, so scans see all of the new models or none.
"""

from __future__ import annotations

import datetime
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tripwire.detection.labels import LabelledPatterns
from tripwire.detection.pipeline import HOURLY, PipelineConfig, ScanPipeline
from tripwire.domain.alerts import Feedback
from tripwire.domain.runs import DetectionRun, HeldBackQuality, LabelsUsed, RunStatus
from tripwire.registry.store import RegistryStore
from tripwire.service.models import HOURLY_ARTIFACT
from tripwire.service.runs import utcnow
from tripwire.service.scoring import read_hours, silence_labelled
from tripwire.service.series import ProfileSeries, load_series
from tripwire.store.catalog import CatalogStore
from tripwire.store.feedback import FeedbackStore
from tripwire.store.metrics import MetricStore
from tripwire.store.runs import RunStore

TRAINING_DAYS = 90  # history a model learns from: three months of weekday patterns
HELD_BACK_DAYS = 14  # two weeks (each weekday twice) scored by the new and the current model
# "Worse" means more false alerts than the current model's count could differ by chance:
# two standard deviations of a Poisson count (at least 1 alert of slack).
NOISE_SIGMAS = 2.0
# The hours the hourly model learns from — the latest three days, each against the hours
# before it — and the leaves it learns on: every non-leaf entity, a seeded sample of the
# leaves. The count model learns per-feature tails, which 72 hours of a few hundred series
# pin down; the hour-of-week baselines of every hour of 10,000 keywords would cost minutes
# (bench/hourly_scan.py measures the training the first hourly scan does).
HOURLY_TRAINING_TARGETS = 72
HOURLY_MIN_TARGETS = 24  # hours with ``HOURLY.min_history`` before them: a day at least
HOURLY_TRAINING_LEAVES = 400


class InsufficientHistory(ValueError):
    """The profile has too few periods to train on; nothing was published."""


@dataclass
class TrainReport:
    tenant: str
    profile: str
    end: datetime.date
    entities: int
    days: int
    versions: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        models = ", ".join(f"{name} {v[:12]}" for name, v in sorted(self.versions.items()))
        return (
            f"trained {self.profile} on {self.entities} entities × {self.days} days "
            f"up to {self.end} in {self.seconds:.1f}s: {models}"
        )


@dataclass(frozen=True)
class Labels:
    """A profile's labels placed on its series: (row, day index) of real anomalies and the
    false alerts as (entity, kind, tail probability)."""

    anomalies: set[tuple[int, int]]
    false_alerts: list[tuple[str, str, float]]
    used: LabelsUsed

    @classmethod
    def of(cls, feedback: Sequence[Feedback], series: ProfileSeries) -> Labels:
        rows = {e.entity_id: i for i, e in enumerate(series.entities)}
        anomalies, false_alerts = set(), []
        for label in feedback:
            day = series.index_of(label.period.date())
            if label.entity_id not in rows or not 0 <= day < series.days:
                continue  # an entity gone from the catalogue, or a day outside the window
            if label.is_anomaly:
                anomalies.add((rows[label.entity_id], day))
            else:
                false_alerts.append((label.entity_id, label.kind, 1.0 - label.score))
        used = LabelsUsed(not_anomaly=len(false_alerts), anomaly=len(anomalies))
        return cls(anomalies, false_alerts, used)


def clean_anomalies(
    raw: npt.NDArray[np.float64], anomalies: set[tuple[int, int]], offset: int = 0
) -> npt.NDArray[np.float64]:
    """``raw`` (n, D, 5) with each labelled anomaly (row, offset + day) replaced by that
    entity's median of the same weekday over the window (its other labelled days left out)."""
    out = raw.copy()
    for row, day in anomalies:
        d = day - offset
        if not 0 <= d < raw.shape[1]:
            continue
        same = [
            k
            for k in range(d % 7, raw.shape[1], 7)
            if k != d and (row, k + offset) not in anomalies
        ]
        if same:
            out[row, d] = np.median(raw[row, same], axis=0)
    return out


def fit_labelled(
    history: npt.NDArray[np.float64],
    first_day: datetime.date,
    labels: Labels,
    config: PipelineConfig | None,
    offset: int,
) -> ScanPipeline:
    """A pipeline fitted on ``history`` (series days from ``offset``) with ``labels``: the
    labelled anomalies cleaned out of it, the false alerts as its labelled patterns."""
    pipeline = ScanPipeline(config)
    needed = pipeline.config.min_history + pipeline.config.history_periods // 2
    if history.shape[1] <= needed:
        raise InsufficientHistory(
            f"{history.shape[1]} days of data to train on; training needs more than {needed}"
        )
    pipeline.fit(clean_anomalies(history, labels.anomalies, offset), first_day.weekday())
    pipeline.labels = LabelledPatterns.of(labels.false_alerts)
    return pipeline


def _active_from(series: ProfileSeries) -> int:
    active = series.raw.sum(axis=(0, 2)) > 0
    return int(active.argmax()) if active.any() else series.days


def train_profile(
    tenant: str,
    profile: str,
    end: datetime.date,
    *,
    days: int = TRAINING_DAYS,
    config: PipelineConfig | None = None,
    registry: RegistryStore | None = None,
) -> TrainReport:
    """Fit on every day up to ``end`` (with the profile's labels) and publish."""
    started = time.perf_counter()
    series = load_series(tenant, profile, end, days)
    first = _active_from(series)
    labels = Labels.of(FeedbackStore().of_profile(tenant, profile), series)
    pipeline = fit_labelled(series.raw[:, first:], series.day(first), labels, config, first)
    artifacts = _artifacts(pipeline, series.day(first), end)
    versions = (registry or RegistryStore()).publish_models(tenant, profile, artifacts)
    return TrainReport(
        tenant,
        profile,
        end,
        len(series.entities),
        int(series.days - first),
        versions,
        time.perf_counter() - started,
    )


def _artifacts(
    pipeline: ScanPipeline, first: datetime.date, end: datetime.date
) -> dict[str, tuple[bytes, dict[str, object]]]:
    artifacts = pipeline.export()
    for _, metadata in artifacts.values():
        metadata.update(training_start=first.isoformat(), training_end=end.isoformat())
    return dict(artifacts.items())


# -- held-back quality ----------------------------------------------------------------------


def held_back_quality(
    pipeline: ScanPipeline, series: ProfileSeries, days: range, anomalies: set[tuple[int, int]]
) -> HeldBackQuality:
    """``pipeline``'s alerts on ``days`` (indexes of ``series``), its labelled patterns
    silenced as in a scan: false alerts per 1,000 entity-days and recall of the labelled
    real anomalies in those days."""
    ids = [e.entity_id for e in series.entities]
    alerts = false = 0
    for d in days:
        result = pipeline.score(series.raw[:, : d + 1], series.day(d).weekday())
        result = silence_labelled(pipeline, ids, result)
        rows = np.flatnonzero(result.alert).tolist()
        alerts += len(rows)
        false += sum(1 for r in rows if (r, d) not in anomalies)
    wanted = [(r, d) for r, d in anomalies if d in days]
    found = alerts - false
    entity_days = len(ids) * len(days)
    return HeldBackQuality(
        entity_days=entity_days,
        alerts=alerts,
        false_alerts=false,
        false_per_1k_entity_days=round(1000.0 * false / max(entity_days, 1), 3),
        labelled_anomalies=len(wanted),
        recall=round(found / len(wanted), 4) if wanted else None,
    )


def not_worse(new: HeldBackQuality, current: HeldBackQuality | None) -> tuple[bool, str]:
    """Whether the new model may replace the current one, and why, on the same window:
    it must find at least the share of labelled real anomalies the current one finds, and
    raise no more false alerts than the current count's noise allows."""
    if current is None:
        return True, "first model of the profile"
    if current.recall is not None and (new.recall or 0.0) < current.recall:
        return False, f"recall {new.recall} below the current model's {current.recall}"
    allowed = current.false_alerts + NOISE_SIGMAS * math.sqrt(max(current.false_alerts, 1))
    if new.false_alerts > allowed:
        return False, (
            f"{new.false_alerts} false alerts on the held-back days against the current "
            f"model's {current.false_alerts} (at most {allowed:.1f} allowed)"
        )
    return True, (
        f"{new.false_alerts} false alerts against the current model's {current.false_alerts}"
    )


def _current_pipeline(registry: RegistryStore, tenant: str, profile: str) -> ScanPipeline | None:
    versions = registry.current_set(tenant, profile)
    if not versions or "pipeline" not in versions:
        return None
    artifacts = {d: registry.load(tenant, profile, d, v) for d, v in versions.items()}
    return ScanPipeline.from_export(artifacts)


# -- the training run -----------------------------------------------------------------------


def run_training(
    tenant: str,
    run_id: str,
    end: datetime.date,
    *,
    days: int = TRAINING_DAYS,
    held_back: int = HELD_BACK_DAYS,
    config: PipelineConfig | None = None,
    registry: RegistryStore | None = None,
    runs: RunStore | None = None,
) -> DetectionRun:
    """The training job: train the run's profile up to ``end``, publish if not worse.

    The run ends complete (published, or held as a candidate) or failed with the reason;
    the error is raised again so the job itself fails too."""
    runs = runs or RunStore()
    registry = registry or RegistryStore()
    run = runs.get(tenant, run_id)
    if run is None or run.training is None:
        raise LookupError(f"no training run {run_id!r} for tenant {tenant!r}")
    if run.status is not RunStatus.IN_PROGRESS:
        return run  # a retried job: the run already has its outcome
    try:
        return _train_run(run, end, days, held_back, config, registry, runs)
    except Exception as error:
        runs.put(
            run.model_copy(
                update={
                    "status": RunStatus.FAILED,
                    "error": f"{type(error).__name__}: {error}",
                    "completed_at": utcnow(),
                    "training": run.training.model_copy(update={"stage": "failed"}),
                }
            )
        )
        raise


def _train_run(
    run: DetectionRun,
    end: datetime.date,
    days: int,
    held_back: int,
    config: PipelineConfig | None,
    registry: RegistryStore,
    runs: RunStore,
) -> DetectionRun:
    tenant, profile = run.tenant_id, run.profile_id
    assert run.training is not None
    outcome = run.training.model_copy(update={"end": end.isoformat(), "held_back_days": held_back})

    def stage(name: str, **changes: object) -> DetectionRun:
        nonlocal run, outcome
        outcome = outcome.model_copy(update={"stage": name})
        run = run.model_copy(update={"training": outcome, **changes})
        runs.put(run)
        return run

    stage("loading")
    series = load_series(tenant, profile, end, days)
    first = _active_from(series)
    labels = Labels.of(FeedbackStore().of_profile(tenant, profile), series)
    outcome = outcome.model_copy(update={"labels_used": labels.used})
    train_end = series.days - held_back
    if train_end - first <= 0:
        raise InsufficientHistory(f"{profile} has no data before its {held_back} held-back days")
    stage("training", entities_checked=len(series.entities))
    pipeline = fit_labelled(
        series.raw[:, first:train_end], series.day(first), labels, config, first
    )
    stage("evaluating")
    window = range(train_end, series.days)
    quality = held_back_quality(pipeline, series, window, labels.anomalies)
    current = _current_pipeline(registry, tenant, profile)
    current_quality = (
        None if current is None else held_back_quality(current, series, window, labels.anomalies)
    )
    publish, why = not_worse(quality, current_quality)
    outcome = outcome.model_copy(
        update={"quality": quality, "current_quality": current_quality, "decision": why}
    )
    stage("publishing")
    artifacts = _artifacts(pipeline, series.day(first), series.day(train_end - 1))
    if publish:
        versions = registry.publish_models(tenant, profile, artifacts)
    else:
        versions = registry.store_candidate(tenant, profile, artifacts, run_id=run.run_id)
    outcome = outcome.model_copy(update={"published": publish, "versions": versions})
    return stage(
        "done",
        status=RunStatus.COMPLETE,
        completed_at=utcnow(),
        model_versions=versions if publish else run.model_versions,
        rows_processed=int(series.raw[:, first:].shape[1] * len(series.entities)),
        deadline=None,
    )


def train_hours(
    tenant: str,
    profile: str,
    end: datetime.datetime,
    *,
    registry: RegistryStore | None = None,
    seed: int = 0,
) -> tuple[ScanPipeline, dict[str, str]]:
    """Fit the profile's hourly pipeline (``HOURLY``) on its streamed hours up to ``end`` and
    publish it as the ``HOURLY_ARTIFACT`` of its model set; (pipeline, model set)."""
    _, entities = CatalogStore().get_hierarchy(tenant, profile)
    leaves = [e for e in entities if e.is_leaf]
    picked = np.random.default_rng(seed).permutation(len(leaves))[:HOURLY_TRAINING_LEAVES]
    rows = [e for e in entities if not e.is_leaf] + [leaves[i] for i in sorted(picked)]
    first = end - datetime.timedelta(hours=HOURLY.min_history + HOURLY_TRAINING_TARGETS - 1)
    series = read_hours(MetricStore(), tenant, profile, rows, first, end)
    active = series.raw.sum(axis=(0, 2)) > 0
    start = int(active.argmax()) if active.any() else series.days
    history = series.raw[:, start:]
    needed = HOURLY.min_history + HOURLY_MIN_TARGETS - 1
    if history.shape[1] <= needed:
        raise InsufficientHistory(
            f"{profile} has {history.shape[1]} hours of streamed data up to {end}; its hourly "
            f"model needs more than {needed}"
        )
    pipeline = ScanPipeline(HOURLY).fit(history, series.season_of(series.hour(start)))
    data, metadata = pipeline.export()["pipeline"]
    metadata.update(training_start=series.hour(start).isoformat(), training_end=end.isoformat())
    versions = (registry or RegistryStore()).publish_models(
        tenant, profile, {HOURLY_ARTIFACT: (data, metadata)}
    )
    return pipeline, versions
