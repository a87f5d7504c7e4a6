"""Run ids, clocks and the failures a scan cannot retry — light enough for the scheduler and
the runs API, which must not import the detection machinery (cold starts)."""

from __future__ import annotations

import datetime
import uuid

from tripwire.domain.runs import DetectionRun, Trigger
from tripwire.store.tables import RUNS


class UnsupportedInterval(ValueError):
    """Only daily series are scanned so far (the PPC pipeline is trained on days)."""


class DetectorUnavailable(ValueError):
    """The profile's model set has no such detector."""


def run_expiry(now: datetime.datetime) -> int:
    return int((now + datetime.timedelta(days=RUNS.ttl_days or 30)).timestamp())


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
