"""Online learning after a scan: the half-space trees learn the periods a scheduled run
scored, in the learner function (river's layer; no onnxruntime), and publish their state.

Why a separate function: river's layer with the scan worker's (onnxruntime) would pass
Lambda's 250 MB limit. The learner needs no detector: what the trees learn is the
profile's baseline deviations (``detection.pipeline.period_baseline``).

When: the worker whose slice completes a *scheduled* run (``service.fanout``) sends one
``LearnMessage`` — after every slice of the run has scored its periods, so no score of
those periods ever comes from trees that learnt them. Backfills, API detections and failed
runs never learn: a backfill replays the past, and trees that have learnt recent periods
must not go back and learn older ones. The trees learn only *settled* days, oldest first,
each once: up to ``LATE_ATTRIBUTION_PERIODS`` before the newest day that both the run
scored and every series of the profile has been detected through (its detection states),
so every series has scored them with restated sales, and later scans re-score only later
days: scores stay causal. A learn message lost on the way costs nothing but time: the next
run's learns the days it skipped.

At most once: the learn queue is FIFO with one message group per tenant and profile, so
one learner at a time learns a profile (two racing learners could each publish a state
the other never saw); a redelivered or duplicate message finds its periods covered by the
trees' ``learnt_through`` and publishes nothing.
"""

from __future__ import annotations

import datetime
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from tripwire.detection.base import FloatArray
from tripwire.detection.pipeline import config_from_export, period_baseline
from tripwire.detection.ppc_detectors import PPCHalfSpaceTrees
from tripwire.domain import DetectionRun, Entity, Interval, RunStatus
from tripwire.features.ppc import LATE_ATTRIBUTION_PERIODS
from tripwire.registry.store import NoModels, RegistryStore
from tripwire.service.incremental import MAX_CATCHUP
from tripwire.service.messages import LearnMessage, ScanMessage
from tripwire.service.models import ONLINE_DETECTOR, adopt, learn_periods
from tripwire.service.series import UnknownProfile, dense
from tripwire.store.catalog import CatalogStore
from tripwire.store.metadata import MetadataStore, unit_of
from tripwire.store.metrics import MetricStore
from tripwire.store.provision import aws_client
from tripwire.store.queues import LEARN
from tripwire.telemetry import logger


@dataclass
class Learnt:
    """What one learn message changed (``new`` None: nothing was published)."""

    periods: list[datetime.date] = field(default_factory=list)
    old: str | None = None  # the half-space trees' version before
    new: str | None = None  # and after


# -- the worker's side: one message when a scheduled run completes ----------------------


def request_learning(
    message: ScanMessage, run: DetectionRun, periods: Sequence[datetime.date], *, sqs: Any = None
) -> LearnMessage | None:
    """Send the learn message of a completed scheduled run (``periods``: what the slice
    that completed it scored). None when the run must not learn, or no learn queue is
    configured (no learner)."""
    url = os.environ.get(LEARN.url_env)
    if not url or message.kind != "scan" or message.detector != "ensemble":
        return None
    if run.status is not RunStatus.COMPLETE or message.interval is not Interval.D1 or not periods:
        return None
    if ONLINE_DETECTOR not in run.model_versions:  # no trees scored it (a market profile)
        return None
    learn = LearnMessage(
        tenant_id=message.tenant_id,
        profile_id=message.profile_id,
        run_id=message.run_id,
        periods=sorted(set(periods)),
    )
    group = f"{learn.tenant_id}#{learn.profile_id}"
    (sqs or aws_client("sqs")).send_message(
        QueueUrl=url,
        MessageBody=learn.model_dump_json(),
        MessageGroupId=group,
        # A last slice redelivered within SQS's 5-minute window is dropped here; later
        # duplicates find their periods learnt.
        MessageDeduplicationId=hashlib.sha256(f"{group}#{learn.run_id}".encode()).hexdigest(),
    )
    return learn


# -- the learner's side -----------------------------------------------------------------


@dataclass
class LearnStores:
    registry: RegistryStore = field(default_factory=RegistryStore)
    catalog: CatalogStore = field(default_factory=CatalogStore)
    metadata: MetadataStore = field(default_factory=MetadataStore)
    metrics: MetricStore = field(default_factory=MetricStore)


def learnable(
    periods: Sequence[datetime.date],
    detected_through: datetime.date | None,
    covered: datetime.date | None,
) -> list[datetime.date]:
    """The days to learn, oldest first: every day after ``covered`` (the last the trees
    learnt or were trained on) that has settled — ``LATE_ATTRIBUTION_PERIODS`` before the
    newest day both the run scored (``periods``) and every series of the profile has been
    detected through — at most ``MAX_CATCHUP`` of them. Every series has scored these days
    with restated sales, and later scans re-score only later days: scores stay causal. A
    day a lost message skipped is learnt with the next run's."""
    if not periods or detected_through is None:
        return []
    last = min(max(periods), detected_through) - datetime.timedelta(days=LATE_ATTRIBUTION_PERIODS)
    first = last - datetime.timedelta(days=MAX_CATCHUP - 1)
    if covered is not None:
        first = max(first, covered + datetime.timedelta(days=1))
    return [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]


def learn(message: LearnMessage, stores: LearnStores | None = None) -> Learnt:
    """Teach the profile's current half-space trees the settled days they have not learnt
    (``learnable``) and publish them as one new version."""
    tenant, profile = message.tenant_id, message.profile_id
    stores = stores or LearnStores()
    versions = stores.registry.current_set(tenant, profile)
    if not versions or ONLINE_DETECTOR not in versions or "pipeline" not in versions:
        return Learnt()  # no trees to teach (a market profile, or trained without them)
    old = versions[ONLINE_DETECTOR]
    trees = PPCHalfSpaceTrees.load(*stores.registry.load(tenant, profile, ONLINE_DETECTOR, old))
    state, meta = stores.registry.load(tenant, profile, "pipeline", versions["pipeline"])
    covered = max(filter(None, [trees.learnt_through, meta.get("training_end")]), default=None)
    _, hierarchy = stores.catalog.get_hierarchy(tenant, profile)
    if not hierarchy:
        raise UnknownProfile(profile)
    through = _detected_through(stores.metadata, tenant, profile, hierarchy)
    days = learnable(message.periods, through, _day(covered))
    if not days:
        return Learnt([], old, None)
    deviations = _deviations(stores.metrics, tenant, profile, hierarchy, state, days)
    new = learn_periods(
        tenant,
        profile,
        trees,
        days,
        deviations.__getitem__,
        versions=versions,
        training=meta.get("training", {}),
        registry=stores.registry,
    )
    if new is None:
        return Learnt([], old, None)
    adopt(tenant, profile, trees, versions, new)
    return Learnt(days, old, new[ONLINE_DETECTOR])


def _day(iso: str | None) -> datetime.date | None:
    return None if iso is None else datetime.date.fromisoformat(iso[:10])


def _detected_through(
    metadata: MetadataStore, tenant: str, profile: str, hierarchy: Sequence[Entity]
) -> datetime.date | None:
    """The last day every detected series of the profile has been detected over (its
    detection states: a few fat items); None when none has been detected."""
    ids = {e.entity_id for e in hierarchy}
    states = metadata.read(tenant, profile, Interval.D1, {unit_of(e) for e in hierarchy})
    lasts = [
        s.meta.last_detected.date()
        for entity, s in states.items()
        if entity in ids and s.meta.last_detected is not None
    ]
    return min(lasts, default=None)


def _deviations(
    metrics: MetricStore,
    tenant: str,
    profile: str,
    hierarchy: Sequence[Entity],
    pipeline_state: bytes,
    days: list[datetime.date],
) -> dict[datetime.date, FloatArray]:
    """The profile's deviations on each of ``days``, as a scan scores them (not provisional:
    every day is settled), from one read of the metrics window they need."""
    config = config_from_export(pipeline_state)
    first = days[0] - datetime.timedelta(days=config.window - 1)
    window = metrics.read_window(
        tenant,
        profile,
        Interval.D1,
        [e.entity_id for e in hierarchy],
        datetime.datetime.combine(first, datetime.time()),
        datetime.datetime.combine(days[-1], datetime.time()),
    )
    raw = dense(hierarchy, window, first, (days[-1] - first).days + 1)
    return {
        day: period_baseline(config, raw[:, : (day - first).days + 1], day.weekday()).deviation
        for day in days
    }


# Failing again cannot help these: the message is consumed (logged), not retried.
PERMANENT = (UnknownProfile, NoModels)


def handle_record(record: SQSRecord) -> None:
    """One record of the learn queue (the learner's Powertools record handler)."""
    message = LearnMessage.model_validate_json(record.body)  # malformed: retried, then DLQ
    try:
        learnt = learn(message)
    except PERMANENT as error:
        logger.warning("nothing to learn", extra={"run_id": message.run_id, "error": str(error)})
        return
    logger.info(
        "learnt" if learnt.new else "nothing new to learn",
        extra={
            "tenant_id": message.tenant_id,
            "profile_id": message.profile_id,
            "run_id": message.run_id,
            "periods": [p.isoformat() for p in learnt.periods],
            "old_version": learnt.old,
            "new_version": learnt.new,
        },
    )
