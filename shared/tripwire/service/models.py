"""The trained pipeline of a profile, loaded from the registry once per warm container.

The model manager caches each artifact by version; the assembled pipeline is cached per
profile and rebuilt only when the published model set changes.

Online learning: once a period has been scored, ``learn_periods`` lets the half-space
trees absorb it and publishes their new state as a new registry version (content-addressed,
so every state ever learnt stays loadable); the next scan, in this container or a cold
one, scores with the updated trees. Each period is learnt at most once per lineage of
states: a retried or re-scanned period (or a second slice of the same profile) is skipped.
In Lambda the learner function calls it after a scan run (``service.learn``);
``learn_and_save`` is the same for a pipeline that has just scored (tests, in-process use).
"""

from __future__ import annotations

import copy
import datetime
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tripwire.detection.base import FloatArray
from tripwire.detection.pipeline import ScanPipeline, ScanResult
from tripwire.detection.ppc_detectors import PPCHalfSpaceTrees
from tripwire.registry.manager import ModelManager, default_manager
from tripwire.registry.store import ModelSetChanged, NoModels, RegistryStore
from tripwire.service.runs import DetectorUnavailable

DAILY_ARTIFACT = "pipeline"
HOURLY_ARTIFACT = "hourly"  # service.train.train_hours publishes it
ONLINE_DETECTOR = "streaming"  # the pipeline slot that learns online (half-space trees)

_VersionKey = tuple[tuple[str, str], ...]


@dataclass
class _Cached:
    pipeline: ScanPipeline
    # Model sets this pipeline stands for: the one it was built from and every one it has
    # published since by learning online (the manager may serve an older one for up to a
    # minute; this pipeline is newer than all of them).
    keys: set[_VersionKey]
    versions: dict[str, str]


_lock = threading.Lock()
_pipelines: dict[tuple[str, str], _Cached] = {}


def _key(versions: dict[str, str]) -> _VersionKey:
    return tuple(sorted(versions.items()))


def _others(versions: dict[str, str] | None) -> dict[str, str]:
    """The model set but the online detector: what a retrain changes, learning does not."""
    return {k: v for k, v in (versions or {}).items() if k != ONLINE_DETECTOR}


def hourly_pipeline(
    tenant: str, profile: str, registry: RegistryStore | None = None
) -> tuple[ScanPipeline, dict[str, str]] | None:
    """The profile's hourly pipeline and model set; None while it has none trained. Read
    from the registry itself, not the manager's cache: a slice must see the model another
    slice of the same first hourly scan has just trained (a small JSON artifact)."""
    registry = registry or RegistryStore()
    versions = registry.current_set(tenant, profile) or {}
    if HOURLY_ARTIFACT not in versions:
        return None
    artifact = registry.load(tenant, profile, HOURLY_ARTIFACT, versions[HOURLY_ARTIFACT])
    return ScanPipeline.from_export({"pipeline": artifact}), versions


def current_pipeline(
    tenant: str, profile: str, manager: ModelManager | None = None, *, detector: str = "ensemble"
) -> tuple[ScanPipeline, dict[str, str]]:
    """(pipeline, model versions); raises ``NoModels`` for an untrained profile and
    ``DetectorUnavailable`` for a ``detector`` the profile's model set lacks."""
    pipeline, versions = _current(tenant, profile, manager or default_manager())
    if detector == "ensemble":
        return pipeline, versions
    try:
        return pipeline.alone(detector), versions
    except KeyError:
        raise DetectorUnavailable(detector) from None


def _current(
    tenant: str, profile: str, manager: ModelManager
) -> tuple[ScanPipeline, dict[str, str]]:
    versions = manager.versions(tenant, profile)
    if DAILY_ARTIFACT not in versions:  # only an hourly model: no daily one trained yet
        raise NoModels(f"no daily models are published for profile {profile!r}")
    key = _key(versions)
    with _lock:
        cached = _pipelines.get((tenant, profile))
        if cached is not None and key in cached.keys:
            return cached.pipeline, dict(cached.versions)
    artifacts = {
        name: (manager.get(tenant, profile, name, bytes), manager.metadata(tenant, profile, name))
        for name in versions
    }
    pipeline = ScanPipeline.from_export(artifacts)
    with _lock:
        _pipelines[(tenant, profile)] = _Cached(pipeline, {key}, dict(versions))
    return pipeline, versions


def learn_and_save(
    tenant: str,
    profile: str,
    pipeline: ScanPipeline,
    result: ScanResult,
    period: datetime.date,
    *,
    versions: dict[str, str] | None = None,
    registry: RegistryStore | None = None,
) -> dict[str, str] | None:
    """Teach the pipeline's half-space trees the scored ``period`` and publish their state.

    Call once per scored period, after ``pipeline.score`` (``result`` is what it returned
    for the whole profile or the slice). Returns the profile's new model set, or None when
    nothing was learnt (see ``learn_periods``). ``versions`` are the ones
    ``current_pipeline`` returned with ``pipeline``.
    """
    trees = pipeline.detectors.get(ONLINE_DETECTOR)
    if not isinstance(trees, PPCHalfSpaceTrees):
        return None
    new = learn_periods(
        tenant,
        profile,
        trees,
        [period],
        lambda _: result.baseline.deviation,
        versions=versions,
        training=pipeline.training,
        registry=registry,
    )
    if new is not None:
        with _lock:
            cached = _pipelines.get((tenant, profile))
            if cached is not None and cached.pipeline is pipeline:
                cached.keys |= {_key(versions or cached.versions), _key(new)}
                cached.versions = dict(new)
    return new


def learn_periods(
    tenant: str,
    profile: str,
    trees: PPCHalfSpaceTrees,
    periods: Sequence[datetime.date],
    deviations: Callable[[datetime.date], FloatArray],
    *,
    versions: dict[str, str] | None,
    training: Mapping[str, Any],
    registry: RegistryStore | None = None,
) -> dict[str, str] | None:
    """Teach ``trees`` each of ``periods`` (oldest first) their state does not cover yet
    — ``deviations(period)``: the profile's (n, 10) deviations that period — and publish the
    new state as one new version. Returns the new model set, or None when nothing was
    learnt: every period is covered already (a retry, a re-scan, another slice or learner
    first), or the profile was retrained since ``versions`` were read (the trees belong to
    the old calibration). The one implementation behind the scan-time and learner paths.
    """
    fresh = sorted(
        p
        for p in set(periods)
        if trees.learnt_through is None or p.isoformat() > trees.learnt_through
    )
    if not fresh:
        return None
    registry = registry or RegistryStore()
    if versions is not None and _others(registry.current_set(tenant, profile)) != _others(versions):
        _forget(tenant, profile)  # retrained meanwhile: the next scan loads the new models
        return None
    for period in fresh:
        trees.learn(deviations(period))
        trees.learnt_through = period.isoformat()
    data, metadata = trees.export()
    metadata.update(artifact=ONLINE_DETECTOR, training=dict(training))
    try:
        return registry.publish_models(
            tenant, profile, {ONLINE_DETECTOR: (data, metadata)}, based_on=versions
        )
    except ModelSetChanged:
        _forget(tenant, profile)  # retrained (or learnt elsewhere) between check and publish
        return None
    except Exception:
        _forget(tenant, profile)  # in-memory trees are ahead of the registry: reload next time
        raise


def adopt(
    tenant: str, profile: str, trees: PPCHalfSpaceTrees, old: dict[str, str], new: dict[str, str]
) -> None:
    """Trees learnt outside the cached pipeline (the learner) replace its online detector,
    so a scan in this process scores with them at once — as a scan elsewhere does once its
    manager re-reads the model set (within ``check_seconds``). Not cached: nothing to do."""
    with _lock:
        cached = _pipelines.get((tenant, profile))
        if cached is None or _others(cached.versions) != _others(new):
            return
        successor = copy.copy(cached.pipeline)
        successor.detectors = {**cached.pipeline.detectors, ONLINE_DETECTOR: trees}
        successor._earlier = OrderedDict()  # the copy must not share a mutable cache
        _pipelines[(tenant, profile)] = _Cached(
            successor, cached.keys | {_key(old), _key(new)}, dict(new)
        )


def current_trees(
    tenant: str, profile: str, registry: RegistryStore | None = None
) -> tuple[str, dict[str, Any]] | None:
    """The half-space-trees version in the profile's model set and its metadata (how far
    they learnt: ``learnt_through``, ``learnt_periods``); None before training."""
    registry = registry or RegistryStore()
    version = (registry.current_set(tenant, profile) or {}).get(ONLINE_DETECTOR)
    if version is None:
        return None
    return version, registry.load(tenant, profile, ONLINE_DETECTOR, version)[1]


def _forget(tenant: str, profile: str) -> None:
    with _lock:
        _pipelines.pop((tenant, profile), None)
