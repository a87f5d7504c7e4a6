"""Backfill: detect a profile's (or one entity's) history, asynchronously, through the queue.

A backfill is one run fanned out over (entity slices × chunks of ``CHUNK_PERIODS``
periods). Each entity slice walks its chunks newest first, one message at a time (the
worker sends the next older chunk when one is done), so a slice's detection state only
ever grows as one unbroken range and two chunks never write it at once. One backfill per
profile and scope (the whole profile, or one entity) runs at a time: starting it again
returns the running one.

A backfill *by ticker* (``ticker`` + ``market``, ``max_period``) is one message: the worker
fetches the symbol's history from the market data source, stores it like an OHLCV import
and detects it (``service.market_sync``); starting it while one runs for that ticker is a
409 naming the running one (``BackfillRunning``).
"""

from __future__ import annotations

import datetime
import math
import re

from pydantic import BaseModel, Field, StrictBool

from tripwire.domain import DetectionRun, Interval, RunStatus, Trigger
from tripwire.domain.calendars import Market
from tripwire.domain.entities import Identifier, ProfileKind
from tripwire.domain.metrics import Day
from tripwire.ingest.ohlcv_csv import ticker_id
from tripwire.registry.store import RegistryStore
from tripwire.service import fanout
from tripwire.service.messages import ScanMessage, TickerFetch
from tripwire.service.runs import new_run, utcnow
from tripwire.store.catalog import CatalogStore
from tripwire.store.runs import RunSlices

CHUNK_PERIODS = 30  # periods per message: a month of days (see fanout's slice budget)
MAX_PERIODS = 366 * 10  # ten years of days
MARKET = ProfileKind.MARKET
# A length of 1 up to MAX_PERIODS days in each unit: 10y, 120mo, 522w, 3660d.
_PERIOD = re.compile(
    r"^(?:(?:[1-9]|10)y"
    r"|(?:[1-9]|[1-9]\d|1[01]\d|120)mo"
    r"|(?:[1-9]|[1-9]\d|[1-4]\d\d|5[01]\d|52[0-2])w"
    r"|(?:[1-9]|[1-9]\d|[1-9]\d\d|[12]\d{3}|3[0-5]\d\d|36[0-5]\d|3660)d)$"
)
SYMBOL = r"^[A-Z0-9.\-^=]{1,32}$"  # the provider's symbol: AAPL, 7203.T, PTT.BK, ^N225
DEFAULT_MAX_PERIOD = "5y"
_TICKER_FIELDS = ("ticker", "market", "max_period")
_PROFILE_FIELDS = ("period", "start", "end", "entity_id")
_UNIT = re.compile(r"^(\d+)(y|mo|w|d)$")
_DAYS = {"y": 365, "mo": 30, "w": 7, "d": 1}


class BackfillRejected(ValueError):
    """The request names something that cannot be backfilled; ``field`` says what."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.field, self.status = field, status


class BackfillRunning(BackfillRejected):
    """A backfill of that ticker is running: ``run_id`` names it."""

    def __init__(self, run_id: str, ticker: str) -> None:
        super().__init__("ticker", f"a backfill of {ticker} is running: {run_id}", 409)
        self.run_id = run_id


class BackfillRequest(BaseModel):
    """What to backfill: a stored profile's ``period`` (``5y``, ``12mo``, ``8w``, ``90d``)
    ending at ``end`` (default today), or ``start``..``end``; or a ``ticker`` of a
    ``market``, fetched by symbol for ``max_period`` up to today."""

    profile_id: Identifier | None = Field(
        default=None, description="required unless by ticker (default there: the market)"
    )
    ticker: str | None = Field(
        default=None,
        pattern=SYMBOL,
        description="backfill by symbol: the market data source's symbol (AAPL, 7203.T)",
    )
    market: Market | None = Field(default=None, description="the ticker's market (calendar)")
    max_period: str | None = Field(
        default=None,
        pattern=_PERIOD.pattern,
        description=f"by ticker: how much history to fetch (default {DEFAULT_MAX_PERIOD}); "
        "the provider keeps 1h bars 730 days, 5m/15m bars 60",
    )
    entity_id: Identifier | None = None
    period: str | None = Field(
        default=None,
        pattern=_PERIOD.pattern,
        description=f"years, months, weeks or days (5y, 12mo, 8w, 90d); {MAX_PERIODS} days at most",
    )
    start: Day | None = None
    end: Day | None = None
    interval: Interval = Field(
        default=Interval.D1, description="intraday intervals for market profiles only"
    )
    force: StrictBool = False

    def by_ticker(self) -> bool:
        """A backfill by symbol; ``BackfillRejected`` names a field that mixes the two kinds."""
        ticker_mode = any(getattr(self, f) is not None for f in _TICKER_FIELDS)
        for name in _PROFILE_FIELDS if ticker_mode else ():
            if getattr(self, name) is not None:
                raise BackfillRejected(name, f"{name} is for a profile's backfill, not a ticker's")
        for name in ("ticker", "market") if ticker_mode else ("profile_id",):
            if getattr(self, name) is None:
                raise BackfillRejected(name, f"{name} is required")
        return ticker_mode

    def days(self, today: datetime.date) -> tuple[datetime.date, datetime.date]:
        """(first, last) period; ``BackfillRejected`` names the field that is wrong."""
        if (self.period is None) == (self.start is None):
            message = "give either period (like 5y, 12mo) or start (with optional end)"
            raise BackfillRejected("period", message)
        end = self.end or today
        if self.start is not None:
            if self.start > end:
                raise BackfillRejected("start", "start must not be after end")
            return self.start, end
        match = _UNIT.match(self.period or "")
        assert match is not None  # the field's pattern checked it
        length = int(match[1]) * _DAYS[match[2]]
        if length > MAX_PERIODS:  # before the subtraction: 9999y would leave the calendar
            raise BackfillRejected("period", f"a backfill covers at most {MAX_PERIODS} days")
        return end - datetime.timedelta(days=length - 1), end


def start_backfill(
    tenant: str, request: BackfillRequest, *, today: datetime.date | None = None
) -> tuple[DetectionRun, bool]:
    """(the run, True) for a new backfill; (the running one, False) if one is running."""
    if request.by_ticker():
        return _start_ticker_backfill(tenant, request, today or utcnow().date()), True
    assert request.profile_id is not None
    start, end = request.days(today or utcnow().date())
    if (end - start).days + 1 > MAX_PERIODS:
        raise BackfillRejected("period", f"a backfill covers at most {MAX_PERIODS} days")
    _, entities = CatalogStore().get_hierarchy(tenant, request.profile_id)
    if not entities:
        raise BackfillRejected("profile_id", f"no profile {request.profile_id}", 404)
    profile = CatalogStore().get_profile(tenant, request.profile_id)
    if request.interval is not Interval.D1 and (profile is None or profile.kind is not MARKET):
        # Ads reports are daily; only market bars come at intraday intervals.
        message = f"{request.interval.value} series exist for market profiles only; use 1d"
        raise BackfillRejected("interval", message)
    if not RegistryStore().current_set(tenant, request.profile_id):
        raise BackfillRejected("profile_id", f"{request.profile_id} has no trained models", 409)
    if request.entity_id is not None:
        if request.entity_id not in {e.entity_id for e in entities}:
            raise BackfillRejected("entity_id", f"no entity {request.entity_id}", 404)
        slices = [[request.entity_id]]
    else:
        slices = fanout.plan_slices(entities)
    run = new_run(tenant, request.profile_id, Trigger.BACKFILL, sum(map(len, slices)))
    holder = _claim(tenant, request.profile_id, request.entity_id or "*", run.run_id)
    if holder != run.run_id:
        running = fanout.progress(tenant, holder)
        if running is not None:
            return running, False
    chunks = math.ceil(((end - start).days + 1) / CHUNK_PERIODS)
    first_start = max(start, end - datetime.timedelta(days=CHUNK_PERIODS - 1))
    messages = [
        ScanMessage(
            kind="backfill",
            tenant_id=tenant,
            profile_id=request.profile_id,
            run_id=run.run_id,
            interval=request.interval,
            entity_ids=ids if request.entity_id or len(slices) > 1 else None,
            slice_index=i,
            slice_count=chunks * len(slices),
            start=first_start,
            end=end,
            force=request.force,
            backfill_from=start,
            stride=len(slices),
        )
        for i, ids in enumerate(slices)
    ]
    return fanout.enqueue(run, messages, slices=chunks * len(slices)), True


def _start_ticker_backfill(
    tenant: str, request: BackfillRequest, today: datetime.date
) -> DetectionRun:
    assert request.ticker is not None and request.market is not None
    market = request.market.value
    profile_id = request.profile_id or market
    profile = CatalogStore().get_profile(tenant, profile_id)
    if profile is not None and profile.kind is not MARKET:
        raise BackfillRejected("profile_id", f"{profile_id} is not a market profile", 409)
    period = BackfillRequest(profile_id=profile_id, period=request.max_period or DEFAULT_MAX_PERIOD)
    start, end = period.days(today)
    entity = ticker_id(market, request.ticker)
    run = new_run(tenant, profile_id, Trigger.BACKFILL, 1)
    holder = _claim(tenant, profile_id, entity, run.run_id)
    if holder != run.run_id:
        raise BackfillRunning(holder, entity)
    message = ScanMessage(
        kind="backfill",
        tenant_id=tenant,
        profile_id=profile_id,
        run_id=run.run_id,
        interval=request.interval,
        entity_ids=[entity],
        start=start,
        end=end,
        force=request.force,
        fetch=TickerFetch(symbol=request.ticker, market=market),
    )
    return fanout.enqueue(run, [message])


def _claim(tenant: str, profile: str, scope: str, run_id: str) -> str:
    """The run holding the profile's (or entity's) backfill slot after trying to take it:
    a finished holder gives it up."""
    store = RunSlices()
    holder = store.claim(tenant, profile, scope, run_id)
    for _ in range(3):  # a race with another starter: re-read and try again
        if holder == run_id:
            return holder
        running = fanout.progress(tenant, holder)
        if running is not None and running.status is RunStatus.IN_PROGRESS:
            return holder
        holder = store.claim(tenant, profile, scope, run_id, replacing=holder)
    return holder


def backfill_progress(tenant: str, run_id: str) -> DetectionRun | None:
    run = fanout.progress(tenant, run_id)
    return run if run is not None and run.trigger is Trigger.BACKFILL else None
