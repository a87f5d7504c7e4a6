"""Detection of a profile, or one slice of it: the use case behind the schedule, backfill,
large ``/detect`` requests and the demo.

A slice owns some entities (whole campaigns with their keywords, see ``service.fanout``);
every non-leaf entity of the profile is scored with it as context, so root-cause analysis
sees each keyword's campaign, portfolio and account — but a slice writes alerts and
detection state only for what it owns. ``service.incremental`` decides which periods each
series needs. Writes happen in a safe order: alerts (keyed by tenant, profile, entity,
interval and period, so a rewrite stores nothing twice), then detection state, then the
slice's record — a worker killed anywhere re-detects on retry and adds nothing twice.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from tripwire.detection.pipeline import ScanPipeline
from tripwire.domain import (
    Alert,
    DetectionMetadata,
    DetectionRun,
    Entity,
    EntityType,
    Interval,
    ProfileKind,
    Trigger,
)
from tripwire.features.ppc import LATE_ATTRIBUTION_PERIODS
from tripwire.registry.manager import default_manager
from tripwire.registry.store import NoModels
from tripwire.service.incremental import (
    MAX_CATCHUP,
    Detected,
    Plan,
    fresh_start,
    plan_range,
    plan_scan,
)
from tripwire.service.market import MarketScanReport, scan_market
from tripwire.service.market_sync import Fetched, fetch_ticker, not_trained, refresh_tickers
from tripwire.service.messages import ScanMessage
from tripwire.service.models import current_pipeline, hourly_pipeline
from tripwire.service.runs import UnsupportedInterval, run_expiry, utcnow
from tripwire.service.scoring import (
    ProfileScorer,
    ScanStores,
    currency_of,
    history_periods,
    read_hours,
    read_window,
    store_found,
    stored_alerting,
    unique,
)
from tripwire.service.series import ProfileSeries, UnknownProfile
from tripwire.service.train import InsufficientHistory, train_hours
from tripwire.store.metadata import SeriesState, unit_of
from tripwire.store.runs import SliceRecord
from tripwire.store.stream import StreamStore

Day = datetime.date
AlertsHook = Callable[[list[Alert]], None]


@dataclass
class SliceOutcome:
    record: SliceRecord
    new: list[Alert]  # alerts this run stored (including by an earlier attempt of it)
    found: list[Alert]  # every alert found, new or not (what notifications are offered)
    periods: list[Day]  # periods scored


# -- a slice from the queue -------------------------------------------------------------


def detect_slice(
    message: ScanMessage,
    *,
    stores: ScanStores | None = None,
    attempt: int = 1,
    on_alerts: AlertsHook | None = None,
) -> SliceOutcome:
    """Detect the periods the message's slice still needs; store alerts and state."""
    stores = stores or ScanStores()
    # A backfill by symbol stores the ticker's history first (the profile may be new).
    fetched = fetch_ticker(message, stores) if message.fetch is not None else None
    if _is_market(stores, message):  # any interval: market bars may be intraday
        return _detect_market_slice(message, stores, attempt, on_alerts, fetched)
    if message.interval is Interval.H1 and message.kind == "scan":
        return _detect_ads_hours(message, stores, attempt, on_alerts)
    if message.interval is not Interval.D1:
        raise UnsupportedInterval(f"interval {message.interval.value} cannot be scanned yet")
    tenant, profile = message.tenant_id, message.profile_id
    pipeline, versions = current_pipeline(tenant, profile, detector=message.detector)
    hierarchy, rows, owned, states = _slice_rows(stores, message)
    detected = [_detected(states.get(e.entity_id)) for e in rows]

    needed = history_periods(pipeline.config)
    end = message.end or utcnow().date()
    first = (message.start or end - datetime.timedelta(days=MAX_CATCHUP - 1)) - datetime.timedelta(
        days=needed - 1
    )
    # A range also reads the periods just after it: whether its last periods are still
    # provisional depends on the data loaded since, not on where the range stops.
    lag = LATE_ATTRIBUTION_PERIODS if message.start is not None else 0
    series = read_window(
        stores.metrics,
        tenant,
        profile,
        rows,
        first,
        end + datetime.timedelta(days=lag),
        currency_of(stores.catalog, tenant, profile),
    )
    latest = _latest_loaded(series)
    if message.start is not None:
        plan = plan_range(detected, message.start, end, latest, force=message.force)
    else:
        owned_states = [d for d, mine in zip(detected, owned, strict=True) if mine]
        start = fresh_start(owned_states, _trained_until(tenant, profile))
        plan = plan_scan(detected, latest, start)
    for mask in plan.periods.values():
        mask &= owned

    found = _score(pipeline, series, plan, _stub(message, versions), stores)
    # Incident groups persist across scans: a campaign paused three days is one group.
    found = store_found(stores, tenant, profile, found, _settled(plan, rows)).found
    # A redelivered message counts what its earlier attempt stored as its own.
    mine = [a for a in found if a.run_id == message.run_id]
    if on_alerts is not None:
        on_alerts(found)  # after the alerts are stored: a notification never loses one
    units_of = {e.entity_id: unit_of(e) for e in hierarchy}
    _save_states(stores, message, rows, owned, plan, states, units_of, mine, versions)

    periods = list(plan.periods)
    record = SliceRecord(
        index=message.slice_index,
        status="complete",
        attempts=attempt,
        entities=int(owned.sum()),
        rows_loaded=int(np.count_nonzero(series.raw[owned].any(axis=2))),
        rows_processed=int(sum(int(m.sum()) for m in plan.periods.values())),
        anomalies_found=len(mine),
        alert_ids=sorted(a.alert_id for a in mine),
        model_versions=versions,
        warnings=_warnings(plan, latest, periods),
    )
    return SliceOutcome(record, mine, found, periods)


def _slice_rows(
    stores: ScanStores, message: ScanMessage
) -> tuple[list[Entity], list[Entity], np.ndarray[Any, np.dtype[np.bool_]], dict[str, SeriesState]]:
    """The profile's hierarchy; the rows a slice scores (its leaves and every non-leaf, as
    context); which of them it owns; the owned series' detection states at its interval."""
    _, hierarchy = stores.catalog.get_hierarchy(message.tenant_id, message.profile_id)
    if not hierarchy:
        raise UnknownProfile(message.profile_id)
    wanted = set(message.entity_ids) if message.entity_ids is not None else None
    rows = [e for e in hierarchy if wanted is None or not e.is_leaf or e.entity_id in wanted]
    owned = np.array([wanted is None or e.entity_id in wanted for e in rows])
    units = {unit_of(e) for e, mine in zip(rows, owned, strict=True) if mine}
    states = stores.metadata.read(message.tenant_id, message.profile_id, message.interval, units)
    return list(hierarchy), rows, owned, states


# -- an Ads profile by the hour ------------------------------------------------------------

HOURLY_CATCHUP = 24  # hours one hourly scan catches up on


def _detect_ads_hours(
    message: ScanMessage, stores: ScanStores, attempt: int, on_alerts: AlertsHook | None
) -> SliceOutcome:
    """The Marketing Stream hours since the slice's last hourly scan (at most a day's; the
    first scan: the latest hour), scored by the scoring core with the profile's hourly
    pipeline (``detection.pipeline.HOURLY``: an hour-of-week baseline), trained on its
    streamed hours by the first scan that finds none. Every hour is provisional: Amazon
    restates an hour's conversions later, so its sales-side drops are not alerted."""
    tenant, profile = message.tenant_id, message.profile_id
    _, rows, owned, states = _slice_rows(stores, message)
    latest = StreamStore().latest_hour(tenant, profile)
    hours = _hours_to_scan(states, latest)
    found: list[Alert] = []
    loaded = hourly_pipeline(tenant, profile) if hours else None
    if hours and loaded is None:
        try:
            loaded = train_hours(tenant, profile, hours[-1])
        except InsufficientHistory as short:
            return _not_scanned(message, attempt, int(owned.sum()), str(short))
    versions: dict[str, str] = {}
    if hours and loaded is not None:
        hourly, versions = loaded
        first = hours[0] - datetime.timedelta(hours=history_periods(hourly.config) - 1)
        currency = currency_of(stores.catalog, tenant, profile)
        series = _hour_window(stores, message, rows, first, hours[-1], currency)
        history = stored_alerting(stores, tenant, profile, hours[0], hours[-1])
        scorer = ProfileScorer(hourly, series, _stub(message, versions), history)
        scored = [scorer.score(h, provisional=True, rows=owned) for h in hours]
        found = store_found(stores, tenant, profile, unique(scored)).found
    mine = [a for a in found if a.run_id == message.run_id]
    if on_alerts is not None:
        on_alerts(found)
    if hours:
        _save_hour_states(stores, message, rows, owned, states, hours, mine, versions)
    record = SliceRecord(
        index=message.slice_index,
        status="complete",
        attempts=attempt,
        entities=int(owned.sum()),
        rows_processed=int(owned.sum()) * len(hours),
        anomalies_found=len(mine),
        alert_ids=sorted(a.alert_id for a in mine),
        model_versions=versions,
        warnings=[] if hours else [_no_new_hour(latest)],
    )
    return SliceOutcome(record, mine, found, [])  # hours are not learnt (daily trees)


def _hour_window(
    stores: ScanStores,
    message: ScanMessage,
    rows: Sequence[Entity],
    first: datetime.datetime,
    last: datetime.datetime,
    currency: str,
) -> ProfileSeries:
    """The rows' hourly measures over [first, last]: the slice's leaves read, the non-leaf
    rows (every slice's context) as the run's first slice in this worker read them."""
    inner = np.array([not e.is_leaf for e in rows], dtype=bool)
    leaves = [e for e in rows if e.is_leaf]
    tenant, profile = message.tenant_id, message.profile_id
    read = read_hours(stores.metrics, tenant, profile, leaves, first, last, currency)
    raw = np.empty((len(rows), *read.raw.shape[1:]))
    raw[~inner] = read.raw
    raw[inner] = _CONTEXT.window(stores, message, [e for e in rows if not e.is_leaf], first, last)
    return replace(read, entities=list(rows), raw=raw)


class _RunContext:
    """The non-leaf entities' hourly window of the run this worker scanned last.

    Every slice of an hourly run scores all of the profile's non-leaf entities as context
    (root causes reach across campaigns), and a worker is usually handed several slices of
    one run at once (the scan queue's batch): reading them once per run instead of once per
    slice saves ~400 entities' months per slice of a 10,000-keyword profile. Kept for one
    run and window only: the next run, or a slice scanning another hour, reads afresh (an
    hour restated while a run is under way reaches its keywords' rows, and the context of
    the next run)."""

    def __init__(self) -> None:
        self._kept: tuple[tuple[Any, ...], np.ndarray[Any, np.dtype[np.float64]]] | None = None

    def window(
        self,
        stores: ScanStores,
        message: ScanMessage,
        entities: list[Entity],
        first: datetime.datetime,
        last: datetime.datetime,
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        tenant, profile = message.tenant_id, message.profile_id
        key = (tenant, profile, message.run_id, first, last, tuple(e.entity_id for e in entities))
        kept = self._kept
        if kept is not None and kept[0] == key:
            return kept[1]
        raw = read_hours(stores.metrics, tenant, profile, entities, first, last).raw
        self._kept = (key, raw)
        return raw


_CONTEXT = _RunContext()


def _not_scanned(message: ScanMessage, attempt: int, entities: int, why: str) -> SliceOutcome:
    record = SliceRecord(
        index=message.slice_index,
        status="complete",
        attempts=attempt,
        entities=entities,
        warnings=[why],
    )
    return SliceOutcome(record, [], [], [])


def _hours_to_scan(states: dict[str, SeriesState], latest: str | None) -> list[datetime.datetime]:
    if latest is None:
        return []
    last = datetime.datetime.fromisoformat(latest)
    detected = [s.meta.last_detected for s in states.values() if s.meta.last_detected]
    step = datetime.timedelta(hours=1)
    first = last if not detected else max(max(detected) + step, last - (HOURLY_CATCHUP - 1) * step)
    return [first + k * step for k in range(int((last - first) / step) + 1)]


def _no_new_hour(latest: str | None) -> str:
    if latest is None:
        return "no hourly data: subscribe the profile to Marketing Stream"
    return f"nothing new to detect: every hour is detected up to {latest}"


def _save_hour_states(
    stores: ScanStores,
    message: ScanMessage,
    rows: Sequence[Entity],
    owned: np.ndarray[Any, np.dtype[np.bool_]],
    states: dict[str, SeriesState],
    hours: list[datetime.datetime],
    alerts: list[Alert],
    versions: dict[str, str],
) -> None:
    """Each owned series detected up to the last hour scored (its unit's item rewritten)."""
    by_unit: dict[str, dict[str, SeriesState]] = {}
    for entity, mine in zip(rows, owned, strict=True):
        old = states.get(entity.entity_id)
        state = old
        if mine:
            meta = DetectionMetadata(
                tenant_id=message.tenant_id,
                profile_id=message.profile_id,
                entity_id=entity.entity_id,
                interval=Interval.H1,
                last_detected=hours[-1],
                model_version=model_set_version(versions),
                rows_processed=(old.meta.rows_processed if old else 0) + len(hours),
                anomalies_found=(old.meta.anomalies_found if old else 0)
                + sum(1 for a in alerts if a.entity_id == entity.entity_id),
            )
            state = SeriesState(meta, old.first_detected if old else hours[0])
        if state is not None:
            by_unit.setdefault(unit_of(entity), {})[entity.entity_id] = state
    stores.metadata.write(
        message.tenant_id,
        message.profile_id,
        Interval.H1,
        {unit: list(series.values()) for unit, series in by_unit.items()},
    )


def _is_market(stores: ScanStores, message: ScanMessage) -> bool:
    profile = stores.catalog.get_profile(message.tenant_id, message.profile_id)
    return profile is not None and profile.kind is ProfileKind.MARKET


def _detect_market_slice(
    message: ScanMessage,
    stores: ScanStores,
    attempt: int,
    on_alerts: AlertsHook | None,
    fetched: Fetched | None = None,
) -> SliceOutcome:
    """A market profile's slice: each market's tickers scanned by ``service.market`` (the
    fan-out keeps a market's tickers in one slice — its detection state is one item). A
    scheduled scan first fetches the new bars of the tickers kept up to date by symbol."""
    tenant, profile = message.tenant_id, message.profile_id
    _, hierarchy = stores.catalog.get_hierarchy(tenant, profile)
    wanted = set(message.entity_ids) if message.entity_ids is not None else None
    if message.kind == "scan":
        owned = [e for e in hierarchy if e.is_leaf and (wanted is None or e.entity_id in wanted)]
        fetched = refresh_tickers(message, stores, owned)
    markets = sorted(
        {
            e.parent_id
            for e in hierarchy
            if e.entity_type is EntityType.TICKER
            and e.parent_id
            and (wanted is None or e.entity_id in wanted)
        }
    )
    if not markets:
        raise UnknownProfile(profile)
    start = _at(message.start, datetime.time())
    end = _at(message.end, datetime.time(23, 59, 59))
    try:
        reports = _scan_markets(message, stores, markets, start, end, on_alerts)
    except NoModels:
        if fetched is None or message.fetch is None:
            raise
        failed = SliceRecord(
            index=message.slice_index,
            status="failed",
            attempts=attempt,
            rows_loaded=fetched.received,
            rows_preprocessed=fetched.kept,
            warnings=fetched.warnings,
            error=not_trained(message.fetch.market, message.interval, fetched),
        )
        return SliceOutcome(failed, [], [], [])
    found = [a for r in reports for a in r.found]
    # A redelivered message counts what its earlier attempt stored as its own.
    stored = stores.alerts.get_many(tenant, [a.alert_id for a in found])
    mine = [
        a for a in found if a.alert_id in stored and stored[a.alert_id].run_id == message.run_id
    ]
    scored = sum(r.bars_scored for r in reports)
    record = SliceRecord(
        index=message.slice_index,
        status="complete",
        attempts=attempt,
        entities=sum(r.run.entities_checked for r in reports),
        # A fetch counts the bars it received; a scan of stored bars the bars it read.
        rows_loaded=fetched.received if fetched else sum(r.run.rows_loaded for r in reports),
        rows_preprocessed=fetched.kept if fetched else 0,
        rows_processed=scored,
        anomalies_found=len(mine),
        alert_ids=sorted(a.alert_id for a in mine),
        model_versions={k: v for r in reports for k, v in r.run.model_versions.items()},
        warnings=list(
            dict.fromkeys([*(fetched.warnings if fetched else []), *_scan_warnings(reports)])
        ),
    )
    # Bars, not days, are what a market scan counts (``rows_processed``); the days listed
    # are those with an anomaly.
    return SliceOutcome(record, mine, found, sorted({a.period.date() for a in found}))


def _scan_markets(
    message: ScanMessage,
    stores: ScanStores,
    markets: list[str],
    start: datetime.datetime | None,
    end: datetime.datetime | None,
    on_alerts: AlertsHook | None,
) -> list[MarketScanReport]:
    return [
        scan_market(
            message.tenant_id,
            message.profile_id,
            market,
            message.interval,
            entity_ids=message.entity_ids,
            start=start,
            end=end,
            force=message.force,
            run_id=message.run_id,
            trigger=_TRIGGERS[message.kind],
            stores=stores,
            on_alerts=on_alerts,
        )
        for market in markets
    ]


def _scan_warnings(reports: list[MarketScanReport]) -> list[str]:
    return [w for r in reports for w in r.run.warnings]


def _at(day: Day | None, moment: datetime.time) -> datetime.datetime | None:
    return None if day is None else datetime.datetime.combine(day, moment)


def _detected(state: SeriesState | None) -> Detected:
    if state is None or state.meta.last_detected is None:
        return Detected()
    first = state.first_detected or state.meta.last_detected
    return Detected(first.date(), state.meta.last_detected.date())


def _trained_until(tenant: str, profile: str) -> Day | None:
    """The last period the profile's models were trained on (loaded with them)."""
    end = default_manager().metadata(tenant, profile, "pipeline").get("training_end")
    return datetime.date.fromisoformat(end) if end else None


def _latest_loaded(series: ProfileSeries) -> Day | None:
    """The latest period any entity has data for (today's may not have arrived yet)."""
    active = np.flatnonzero(series.raw.any(axis=(0, 2)))
    return series.day(int(active[-1])) if active.size else None


def _warnings(plan: Plan, latest: Day | None, periods: list[Day]) -> list[str]:
    if latest is None:
        return ["no metric data in the scanned window"]
    notes = []
    if not periods:
        notes.append(f"nothing new to detect: every series is detected up to {latest}")
    if plan.catchup_capped:
        notes.append(f"caught up on the last {MAX_CATCHUP} periods only; backfill older ones")
    return notes


def _stub(message: ScanMessage, versions: dict[str, str]) -> DetectionRun:
    now = utcnow()
    return DetectionRun(
        run_id=message.run_id,
        tenant_id=message.tenant_id,
        profile_id=message.profile_id,
        trigger=_TRIGGERS[message.kind],
        model_versions=versions,
        started_at=now,
        expires_at=run_expiry(now),
    )


_TRIGGERS = {"scan": Trigger.SCHEDULE, "detect": Trigger.API, "backfill": Trigger.BACKFILL}


def _score(
    pipeline: ScanPipeline,
    series: ProfileSeries,
    plan: Plan,
    run: DetectionRun,
    stores: ScanStores,
) -> list[Alert]:
    """Score each planned period for every row; alerts of the rows planned for it."""
    if not plan.periods:
        return []
    days = sorted(plan.periods)
    # Who alerted in the periods before (stored incidents): which entity moved first.
    history = stored_alerting(stores, run.tenant_id, run.profile_id, days[0], days[-1])
    scorer = ProfileScorer(pipeline, series, run, history, latest=plan.latest)
    return unique(
        [
            scorer.score(day, provisional=plan.provisional(day), rows=plan.periods[day])
            for day in days
            if plan.periods[day].any()
        ]
    )


def _settled(plan: Plan, rows: Sequence[Entity]) -> dict[Day, list[str]]:
    """The periods scored on settled figures and the entities scored in each: their
    provisional alerts are confirmed or withdrawn (``store_found``)."""
    return {
        day: [rows[r].entity_id for r in np.flatnonzero(mask).tolist()]
        for day, mask in plan.periods.items()
        if mask.any() and not plan.provisional(day)
    }


def _save_states(
    stores: ScanStores,
    message: ScanMessage,
    rows: Sequence[Entity],
    owned: np.ndarray[Any, np.dtype[np.bool_]],
    plan: Plan,
    states: dict[str, SeriesState],
    unit_by_id: dict[str, str],
    alerts: list[Alert],
    versions: dict[str, str],
) -> None:
    """Extend each owned series' detected range; rewrite its unit's item whole."""
    if not plan.periods:
        return
    anomalies: dict[str, int] = {}
    for alert in alerts:
        anomalies[alert.entity_id] = anomalies.get(alert.entity_id, 0) + 1
    version = model_set_version(versions)
    by_unit: dict[str, dict[str, SeriesState]] = {}
    for entity_id, state in states.items():  # keep every series of the items read, owned or not
        if entity_id in unit_by_id:
            by_unit.setdefault(unit_by_id[entity_id], {})[entity_id] = state
    for row, entity in enumerate(rows):
        span = plan.detected_span(row)
        if not owned[row] or span is None:
            continue
        old = states.get(entity.entity_id)
        extended = _detected(old).extended(*span)
        processed = sum(1 for m in plan.periods.values() if m[row])
        meta = DetectionMetadata(
            tenant_id=message.tenant_id,
            profile_id=message.profile_id,
            entity_id=entity.entity_id,
            interval=message.interval,
            last_detected=_midnight(extended.last),
            model_version=version,
            rows_processed=(old.meta.rows_processed if old else 0) + processed,
            anomalies_found=(old.meta.anomalies_found if old else 0)
            + anomalies.get(entity.entity_id, 0),
        )
        by_unit.setdefault(unit_of(entity), {})[entity.entity_id] = SeriesState(
            meta, _midnight(extended.first)
        )
    stores.metadata.write(
        message.tenant_id,
        message.profile_id,
        message.interval,
        {unit: list(series.values()) for unit, series in by_unit.items()},
    )


def _midnight(day: Day | None) -> datetime.datetime | None:
    return None if day is None else datetime.datetime.combine(day, datetime.time())


def model_set_version(versions: dict[str, str]) -> str:
    """One version for a model set: its artifacts' versions hashed together."""
    text = json.dumps(sorted(versions.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
