"""The trained pipeline of a profile, loaded from the registry once per warm container.

The model manager caches each artifact by version; the assembled pipeline is cached per
profile and rebuilt only when the published model set changes.
"""

from __future__ import annotations

import threading

from tripwire.detection.pipeline import ScanPipeline
from tripwire.registry.manager import ModelManager, default_manager

_lock = threading.Lock()
_pipelines: dict[tuple[str, str], tuple[tuple[tuple[str, str], ...], ScanPipeline]] = {}


def current_pipeline(
    tenant: str, profile: str, manager: ModelManager | None = None
) -> tuple[ScanPipeline, dict[str, str]]:
    """(pipeline, model versions); raises ``NoModels`` for an untrained profile."""
    manager = manager or default_manager()
    versions = manager.versions(tenant, profile)
    key = tuple(sorted(versions.items()))
    with _lock:
        cached = _pipelines.get((tenant, profile))
        if cached is not None and cached[0] == key:
            return cached[1], versions
    artifacts = {
        name: (manager.get(tenant, profile, name, bytes), manager.metadata(tenant, profile, name))
        for name in versions
    }
    pipeline = ScanPipeline.from_export(artifacts)
    with _lock:
        _pipelines[(tenant, profile)] = (key, pipeline)
    return pipeline, versions
