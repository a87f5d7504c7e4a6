"""What travels on the scan queue: one message asks a worker to detect one slice of a profile.

The scheduler, ``POST /detect`` (when too large to answer at once) and ``POST /backfill``
all send these; ``scan_worker`` consumes them. Idempotency: a worker keys its work on
(tenant, profile, slice, periods), so a redelivered message writes nothing twice.

``entity_ids`` are the entities the slice *owns* (whole campaigns with their keywords);
the worker adds every non-leaf entity as context for root-cause analysis. ``end`` bounds the
periods from above: a scheduled scan sends the schedule's date and detects up to the latest
period loaded by then.
"""

from __future__ import annotations

import datetime
from typing import Literal

from pydantic import BaseModel, Field

from tripwire.domain.entities import Identifier
from tripwire.domain.metrics import Interval


class TickerFetch(BaseModel):
    """A backfill by symbol: fetch the ticker's history from the market data source and store
    it (``service.market_sync``) before detecting ``start``..``end``."""

    symbol: str
    market: str


class ScanMessage(BaseModel):
    # "sync": pull a connected profile's Amazon Ads reports, then start its scan (run_id)
    kind: Literal["scan", "detect", "backfill", "sync"]
    tenant_id: Identifier
    profile_id: Identifier
    run_id: Identifier  # the DetectionRun this slice reports to
    interval: Interval = Interval.D1
    entity_ids: list[Identifier] | None = None  # None: every entity of the profile
    slice_index: int = Field(default=0, ge=0)
    slice_count: int = Field(default=1, ge=1)
    start: datetime.date | None = None  # first period to detect (None: the next undetected)
    end: datetime.date | None = None  # last period to detect (None: the latest loaded)
    detector: Literal["ensemble", "lstm", "streaming", "isolation_forest"] = "ensemble"
    force: bool = False  # re-detect periods already detected
    # A backfill goes chunk by chunk, newest first: after [start, end] the worker sends the
    # next older chunk (slice index + stride) until this first period is covered.
    backfill_from: datetime.date | None = None
    stride: int = Field(default=0, ge=0)
    fetch: TickerFetch | None = None


class LearnMessage(BaseModel):
    """What travels on the learn queue (FIFO, one message group per tenant and profile):
    a scheduled scan run finished every slice, so the half-space trees may learn the periods
    it scored that had settled (see ``service.learn``)."""

    tenant_id: Identifier
    profile_id: Identifier
    run_id: Identifier  # the completed scan run that scored ``periods``
    periods: list[datetime.date] = Field(min_length=1)  # scored by the run, ascending
