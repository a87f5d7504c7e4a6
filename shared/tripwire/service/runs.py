"""Run ids, clocks and the failures a scan cannot retry, and the runs API's reads (the
detection audit trail, the models in use) — light enough for the scheduler and the runs
API, which must not import the detection machinery (cold starts)."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from tripwire.domain.runs import DetectionRun, Trigger
from tripwire.registry.manager import default_manager
from tripwire.registry.store import RegistryStore
from tripwire.store.catalog import CatalogStore
from tripwire.store.queues import SCAN
from tripwire.store.runs import RunStore
from tripwire.store.tables import RUNS

# How long a queued message may wait behind a backlog before a worker first receives it
# (the scan queue's age alarm fires at half of this).
QUEUE_WAIT = datetime.timedelta(hours=1)


class UnsupportedInterval(ValueError):
    """Only daily series are scanned so far (the PPC pipeline is trained on days)."""


class DetectorUnavailable(ValueError):
    """The profile's model set has no such detector."""


def run_expiry(now: datetime.datetime) -> int:
    return int((now + datetime.timedelta(days=RUNS.ttl_days or 30)).timestamp())


def queued_deadline(started: datetime.datetime, chain: int = 1) -> datetime.datetime:
    """When a queued run still in progress can no longer finish: each of the ``chain``
    messages it waits for in a row (a backfill's chunks follow one another; slices run side
    by side) may wait ``QUEUE_WAIT``, then be retried until the queue gives up on it."""
    per_message = QUEUE_WAIT + datetime.timedelta(seconds=SCAN.retry_seconds())
    return started + max(chain, 1) * per_message


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def new_run_id() -> str:
    return f"run-{uuid.uuid4().hex[:16]}"


def new_run(
    tenant: str,
    profile: str,
    trigger: Trigger,
    entities: int = 0,
    *,
    versions: dict[str, str] | None = None,
    now: datetime.datetime | None = None,
) -> DetectionRun:
    """A fresh run record (in progress), expiring with the runs table's TTL."""
    now = now or utcnow()
    return DetectionRun(
        run_id=new_run_id(),
        tenant_id=tenant,
        profile_id=profile,
        trigger=trigger,
        model_versions=versions or {},
        started_at=now,
        entities_checked=entities,
        expires_at=run_expiry(now),
    )


class ProfileNotFound(LookupError):
    """No such profile for this tenant."""


class RunNotFound(LookupError):
    """No such run for this tenant."""


def _known_profile(tenant: str, profile: str) -> None:
    if CatalogStore().get_profile(tenant, profile) is None:
        raise ProfileNotFound(profile)


def runs_page(
    tenant: str, profile: str, limit: int, after: str | None = None
) -> tuple[list[DetectionRun], str | None]:
    """A profile's runs, newest first, after the sort key ``after``; and the page's last key."""
    _known_profile(tenant, profile)
    return RunStore().page_of_profile(tenant, profile, limit, after)


def get_run(tenant: str, run_id: str) -> DetectionRun:
    found = RunStore().get(tenant, run_id)
    if found is None:
        raise RunNotFound(run_id)
    return found


def models_in_use(tenant: str, profile: str | None = None) -> list[dict[str, Any]]:
    """Per profile (one, or all of the tenant's), its current model set and whether this
    container holds each model loaded."""
    if profile is not None:
        _known_profile(tenant, profile)
        profiles = [profile]
    else:
        profiles = sorted(p.profile_id for p in CatalogStore().list_profiles(tenant))
    registry = RegistryStore()
    loaded = {
        (m["profile"], m["detector"], m["version"]): m["loaded_at"]
        for m in default_manager().cached()
        if m["tenant"] == tenant
    }
    items = []
    for name in profiles:
        versions = registry.current_set(tenant, name) or {}
        detectors = [
            {
                "detector": detector,
                "version": version,
                "cached": (name, detector, version) in loaded,
                "loaded_at": loaded.get((name, detector, version)),
            }
            for detector, version in sorted(versions.items())
        ]
        items.append({"profile_id": name, "trained": bool(versions), "models": detectors})
    return items
