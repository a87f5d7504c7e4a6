"""`tripwire train`: fit a profile's detectors on its stored history and publish them.

Each artifact of the trained pipeline goes to the model registry with its SHA-256 as its
version, then the model set is published last, so scans see all of the new models or
none. A profile with too little history gets a clear status instead of models.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field

import numpy as np

from tripwire.detection.pipeline import HOURLY, PipelineConfig, ScanPipeline
from tripwire.registry.store import RegistryStore
from tripwire.service.models import HOURLY_ARTIFACT
from tripwire.service.scoring import read_hours
from tripwire.service.series import load_series
from tripwire.store.catalog import CatalogStore
from tripwire.store.metrics import MetricStore

TRAINING_DAYS = 90  # history a model learns from: three months of weekday patterns
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


def train_profile(
    tenant: str,
    profile: str,
    end: datetime.date,
    *,
    days: int = TRAINING_DAYS,
    config: PipelineConfig | None = None,
    registry: RegistryStore | None = None,
) -> TrainReport:
    started = time.perf_counter()
    series = load_series(tenant, profile, end, days)
    active = series.raw.sum(axis=(0, 2)) > 0
    first_active = int(active.argmax()) if active.any() else series.days
    history = series.raw[:, first_active:]
    pipeline = ScanPipeline(config)
    if history.shape[1] <= pipeline.config.min_history + pipeline.config.history_periods // 2:
        raise InsufficientHistory(
            f"{profile} has {history.shape[1]} days of data up to {end}; training needs more "
            f"than {pipeline.config.min_history + pipeline.config.history_periods // 2}"
        )
    first_day = series.day(first_active)
    pipeline.fit(history, first_day.weekday())
    artifacts = pipeline.export()
    for _, metadata in artifacts.values():
        metadata.update(training_start=first_day.isoformat(), training_end=end.isoformat())
    versions = (registry or RegistryStore()).publish_models(tenant, profile, artifacts)
    return TrainReport(
        tenant,
        profile,
        end,
        len(series.entities),
        int(history.shape[1]),
        versions,
        time.perf_counter() - started,
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
