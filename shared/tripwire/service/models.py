"""The trained pipeline of a profile, loaded from the registry once per warm container.

The model manager caches each artifact by version; the assembled pipeline is cached per
profile and rebuilt only when the published model set changes.

Online learning: after a scan has scored a period, ``learn_and_save`` lets the half-space
trees absorb it and publishes their new state as a new registry version (content-addressed,
so every state ever learnt stays loadable); the next scan, in this container or a cold
one, scores with the updated trees. Each period is learnt at most once per lineage of
states: a retried or re-scanned period (or a second slice of the same profile) is skipped.
"""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass

from tripwire.detection.pipeline import ScanPipeline, ScanResult
from tripwire.detection.ppc_detectors import PPCHalfSpaceTrees
from tripwire.registry.manager import ModelManager, default_manager
from tripwire.registry.store import RegistryStore

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


def current_pipeline(
    tenant: str, profile: str, manager: ModelManager | None = None
) -> tuple[ScanPipeline, dict[str, str]]:
    """(pipeline, model versions); raises ``NoModels`` for an untrained profile."""
    manager = manager or default_manager()
    versions = manager.versions(tenant, profile)
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
    nothing was learnt: the pipeline has no online detector, its state already covers
    ``period`` (a retry, a re-scan, or another slice that learnt it first), or the profile
    was retrained since ``pipeline`` was loaded (its trees belong to the old calibration).
    ``versions`` are the ones ``current_pipeline`` returned with ``pipeline``.
    """
    trees = pipeline.detectors.get(ONLINE_DETECTOR)
    if not isinstance(trees, PPCHalfSpaceTrees):
        return None
    day = period.isoformat()
    if trees.learnt_through is not None and day <= trees.learnt_through:
        return None
    registry = registry or RegistryStore()
    if versions is not None and _others(registry.current_set(tenant, profile)) != _others(versions):
        with _lock:  # retrained meanwhile: the next scan loads the new models
            _pipelines.pop((tenant, profile), None)
        return None
    trees.learn(result.baseline.deviation)
    trees.learnt_through = day
    data, metadata = trees.export()
    metadata.update(artifact=ONLINE_DETECTOR, training=dict(pipeline.training))
    try:
        new = registry.publish_models(tenant, profile, {ONLINE_DETECTOR: (data, metadata)})
    except Exception:
        # The in-memory trees are ahead of the registry now: forget them, reload next time.
        with _lock:
            _pipelines.pop((tenant, profile), None)
        raise
    with _lock:
        cached = _pipelines.get((tenant, profile))
        if cached is not None and cached.pipeline is pipeline:
            cached.keys |= {_key(versions or cached.versions), _key(new)}
            cached.versions = dict(new)
    return new
