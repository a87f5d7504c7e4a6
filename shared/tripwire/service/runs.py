"""Run ids, clocks and the failures a scan cannot retry — light enough for the scheduler and
the runs API, which must not import the detection machinery (cold starts)."""

from __future__ import annotations

import datetime
import uuid

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
