"""The model manager: one per warm Lambda container, so models load once per container.

``get`` constructs a detector from its artifact the first time it is asked for and then
serves it from memory. At most every ``check_seconds`` it re-reads the profile's tiny
MODELSET.json; when a detector's version changed, that profile's stale entries are dropped
and the new version loads on the next ``get`` — a warm container follows a retrain
without a redeploy.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from tripwire.registry.store import NoModels, RegistryStore

T = TypeVar("T")
CHECK_SECONDS_ENV = "TRIPWIRE_MODEL_CHECK_SECONDS"
DEFAULT_CHECK_SECONDS = 60.0

CacheKey = tuple[str, str, str, str]  # tenant, profile, detector, version


@dataclass
class _Entry:
    model: Any
    metadata: dict[str, Any]
    loaded_at: float  # wall clock, for GET /models


@dataclass
class _ModelSet:
    versions: dict[str, str] | None
    checked_at: float  # monotonic


class ModelManager:
    def __init__(
        self,
        store: RegistryStore | None = None,
        *,
        check_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store or RegistryStore()
        if check_seconds is None:
            check_seconds = float(os.environ.get(CHECK_SECONDS_ENV, DEFAULT_CHECK_SECONDS))
        self.check_seconds = check_seconds
        self._clock = clock
        self._sets: dict[tuple[str, str], _ModelSet] = {}
        self._entries: dict[CacheKey, _Entry] = {}
        # The local gateway runs handlers in threads; Lambda never contends for it.
        self._lock = threading.RLock()

    def get(self, tenant: str, profile: str, detector: str, factory: Callable[[bytes], T]) -> T:
        """The profile's current ``detector``, built by ``factory`` from the artifact bytes.

        Raises ``NoModels`` when the profile has no model set or the set lacks ``detector``.
        """
        key = self._key(tenant, profile, detector)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                data, metadata = self.store.load(*key)
                entry = _Entry(factory(data), metadata, time.time())
                self._entries[key] = entry
            model: T = entry.model
            return model

    def metadata(self, tenant: str, profile: str, detector: str) -> dict[str, Any]:
        """The metadata published with the current version (loads it if needed)."""
        key = self._key(tenant, profile, detector)
        with self._lock:
            entry = self._entries.get(key)
            return dict(entry.metadata if entry else self.store.load(*key)[1])

    def versions(self, tenant: str, profile: str) -> dict[str, str]:
        """The profile's current model set (refreshed as ``get`` would)."""
        with self._lock:
            versions = self._current(tenant, profile)
        if versions is None:
            raise NoModels(f"no models are published for profile {profile!r}")
        return dict(versions)

    def cached(self) -> list[dict[str, Any]]:
        """Every loaded model, for ``GET /models`` (callers filter by tenant)."""
        with self._lock:
            items = sorted(self._entries.items())
        return [
            {
                "tenant": tenant,
                "profile": profile,
                "detector": detector,
                "version": version,
                "loaded_at": datetime.fromtimestamp(entry.loaded_at, UTC).isoformat(),
            }
            for (tenant, profile, detector, version), entry in items
        ]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._sets.clear()

    def _key(self, tenant: str, profile: str, detector: str) -> CacheKey:
        with self._lock:
            versions = self._current(tenant, profile)
        if versions is None:
            raise NoModels(f"no models are published for profile {profile!r}")
        if detector not in versions:
            raise NoModels(
                f"profile {profile!r} has no {detector!r} model (it has {sorted(versions)})"
            )
        return tenant, profile, detector, versions[detector]

    def _current(self, tenant: str, profile: str) -> dict[str, str] | None:
        """The cached model set, re-read when older than ``check_seconds``. Holds the lock."""
        now = self._clock()
        known = self._sets.get((tenant, profile))
        if known is not None and now - known.checked_at < self.check_seconds:
            return known.versions
        versions = self.store.current_set(tenant, profile)
        if versions is None:  # not trained yet: asked again next time, so a model just
            self._sets.pop((tenant, profile), None)  # trained is used at once
            return None
        self._sets[(tenant, profile)] = _ModelSet(versions, now)
        if known is None or versions != known.versions:
            self._drop_stale(tenant, profile, versions or {})
        return versions

    def _drop_stale(self, tenant: str, profile: str, versions: dict[str, str]) -> None:
        for key in [k for k in self._entries if k[:2] == (tenant, profile)]:
            if versions.get(key[2]) != key[3]:
                del self._entries[key]


_default: ModelManager | None = None
_default_lock = threading.Lock()


def default_manager() -> ModelManager:
    """The container's manager (module-level, so it survives warm invocations)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = ModelManager()
        return _default
