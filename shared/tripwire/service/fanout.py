"""Fan-out: a run split into queue messages, and the run completed when its last one is done
(the worker completing a scheduled run then asks the learner to learn it: ``service.learn``).

The scheduler sends one ``ScanMessage`` per slice of every active profile. A slice is a set
of whole *units* (a campaign with its keywords; a market with its tickers; a non-leaf
entity alone) of at most ``SLICE_ENTITIES`` entities: keywords and their siblings stay
together for root-cause analysis, and each unit's detection state has exactly one writer
(a market's state is one item, so all its tickers are always in one slice).

Why 2,500 entities: a worker reads about one metrics item per entity (BatchGetItem, ~0.3 ms
per entity on DynamoDB, ~1 ms on moto server) and scores ~6,000 entities a second per
period; the heaviest message — a 35-period catch-up or a 30-day backfill chunk — then takes
~20-40 s, far inside the worker's 5-minute timeout (and the queue's visibility timeout,
six times that), while a 10,000-keyword profile still needs only four messages.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from tripwire.domain import Alert, DetectionRun, Entity, Interval, RunStatus, Trigger
from tripwire.domain.alerts import severity_counts
from tripwire.ingest.market_source import ProviderError
from tripwire.notify.publisher import TOPIC_ENV
from tripwire.registry.store import NoModels
from tripwire.service.messages import ScanMessage

if TYPE_CHECKING:  # the scheduler and the runs API never scan: keep their cold start light
    from tripwire.service.scan import AlertsHook, SliceOutcome
from tripwire.service.runs import (
    DetectorUnavailable,
    UnsupportedInterval,
    new_run,
    new_run_id,
    queued_deadline,
    run_expiry,
    utcnow,
)
from tripwire.service.series import UnknownProfile
from tripwire.store.catalog import CatalogStore
from tripwire.store.connections import ConnectionStore
from tripwire.store.metadata import unit_of
from tripwire.store.provision import aws_client
from tripwire.store.queues import MAX_RECEIVES_ENV, SCAN
from tripwire.store.runs import RunSlices, RunStore, RunSwept, SliceRecord
from tripwire.store.schedule import ScheduleStore
from tripwire.telemetry import (
    ALERTS_RAISED,
    ENTITIES_SCORED,
    SCAN_FAILURES,
    SLICES_SCANNED,
    SYNC_FAILURES,
    count,
    count_by,
    logger,
)

SLICE_ENTITIES = 2_500
SEND_BATCH = 10  # SendMessageBatch's limit


def queue_url() -> str:
    return SCAN.url()


def plan_slices(entities: Sequence[Entity], size: int = SLICE_ENTITIES) -> list[list[str]]:
    """Entity ids per slice: whole units, packed in unit order up to ``size`` each."""
    units: dict[str, list[str]] = {}
    for entity in entities:
        units.setdefault(unit_of(entity), []).append(entity.entity_id)
    slices: list[list[str]] = [[]]
    for unit in sorted(units):
        members = units[unit]
        if slices[-1] and len(slices[-1]) + len(members) > size:
            slices.append([])
        slices[-1].extend(members)
    return slices


def send(messages: Sequence[ScanMessage], *, sqs: Any = None) -> None:
    sqs = sqs or aws_client("sqs")
    url = queue_url()
    for start in range(0, len(messages), SEND_BATCH):
        chunk = messages[start : start + SEND_BATCH]
        response = sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "MessageBody": m.model_dump_json()} for i, m in enumerate(chunk)
            ],
        )
        if response.get("Failed"):
            raise RuntimeError(f"scan queue refused messages: {response['Failed']}")


def enqueue(run: DetectionRun, messages: Sequence[ScanMessage], *, slices: int = 0) -> DetectionRun:
    """Record the run (in progress, ``slices`` parts; default one per message) with the
    deadline the sweeper holds it to, then send; returns the run as recorded."""
    parts = slices or len(messages)
    chain = -(-parts // max(len(messages), 1))  # parts each message's chain handles in turn
    run = run.model_copy(update={"deadline": queued_deadline(run.started_at, chain)})
    RunSlices().start(run, parts)
    send(messages)
    return run


@dataclass
class Scheduled:
    runs: list[DetectionRun]  # scans started now
    syncs: list[ScanMessage]  # connected profiles: synced first, then scanned (run_id)


def schedule(as_of: datetime.date | None = None, interval: Interval = Interval.D1) -> Scheduled:
    """One schedule tick: a sync message per connected Amazon Ads profile (daily only; the
    worker scans the profile once its sync has landed), a scan run per other active one.

    ``as_of``: the schedule's date (the EventBridge event's time); each slice detects up to
    the latest period loaded by then."""
    syncs = [
        ScanMessage(
            kind="sync",
            tenant_id=c.tenant_id,
            profile_id=c.profile_id,
            run_id=new_run_id(),  # the scan that follows the sync reports to this run
            interval=interval,
            end=as_of,
        )
        for c in (ConnectionStore().connected() if interval is Interval.D1 else [])
    ]
    send(syncs)
    synced = {(m.tenant_id, m.profile_id) for m in syncs}
    runs = []
    for entry in ScheduleStore().active(interval):
        if (entry.tenant_id, entry.profile_id) in synced:
            continue  # scanned after its sync
        run = start_scan(entry.tenant_id, entry.profile_id, interval, as_of)
        if run is not None:
            runs.append(run)
    return Scheduled(runs, syncs)


def schedule_scans(
    as_of: datetime.date | None = None, interval: Interval = Interval.D1
) -> list[DetectionRun]:
    """``schedule``'s runs started now (connected profiles' scans follow their syncs)."""
    return schedule(as_of, interval).runs


def start_scan(
    tenant: str,
    profile: str,
    interval: Interval,
    as_of: datetime.date | None,
    *,
    run_id: str | None = None,
) -> DetectionRun | None:
    """A scheduled scan of one profile: its run recorded, its slices on the queue. None when
    it has nothing to scan yet, or a run of this ``run_id`` exists (a redelivered sync)."""
    _, entities = CatalogStore().get_hierarchy(tenant, profile)
    if not entities:
        return None  # switched on before its first import: nothing to scan yet
    if run_id is not None and RunStore().get(tenant, run_id) is not None:
        return None
    run = new_run(tenant, profile, Trigger.SCHEDULE, len(entities))
    if run_id is not None:
        run = run.model_copy(update={"run_id": run_id})
    slices = plan_slices(entities)
    messages = [
        ScanMessage(
            kind="scan",
            tenant_id=tenant,
            profile_id=profile,
            run_id=run.run_id,
            interval=interval,
            entity_ids=ids if len(slices) > 1 else None,
            slice_index=i,
            slice_count=len(slices),
            end=as_of,
        )
        for i, ids in enumerate(slices)
    ]
    return enqueue(run, messages)


# -- the worker's side ------------------------------------------------------------------

# Failing again cannot help these: the slice is recorded failed and the message consumed.
PERMANENT = (UnknownProfile, NoModels, UnsupportedInterval, DetectorUnavailable, ProviderError)


def max_receives() -> int:
    """Receives before SQS moves a message to the DLQ (the queue's redrive policy)."""
    return int(os.environ.get(MAX_RECEIVES_ENV, str(SCAN.max_receives)))


def process(
    message: ScanMessage, *, attempt: int = 1, on_alerts: AlertsHook | None = None
) -> SliceOutcome | None:
    """Detect one slice, continue a backfill's chain, and report the slice to its run.

    Raises on a transient failure so the queue redelivers the message (and, after
    ``max_receives`` attempts, moves it to the DLQ); the slice records each failure."""
    if message.kind == "sync":
        sync_then_scan(message, attempt=attempt)
        return None
    from tripwire.service.scan import detect_slice

    try:
        outcome = detect_slice(message, attempt=attempt, on_alerts=on_alerts)
    except PERMANENT as error:
        finish_slice(message, _failed(message, attempt, error, final=True))
        return None
    except Exception as error:
        final = attempt >= max_receives()
        finish_slice(message, _failed(message, attempt, error, final=final))
        raise
    count(SLICES_SCANNED)
    count(ENTITIES_SCORED, outcome.record.entities)
    count_by(ALERTS_RAISED, "severity", severity_counts(outcome.new))
    following = next_chunk(message)
    if following is not None:
        send([following])  # before this slice counts as done: a crash between resends it
    run = finish_slice(message, outcome.record)
    if run is not None:  # this slice completed the run: every slice has scored its periods
        from tripwire.service.learn import request_learning

        request_learning(message, run, outcome.periods)
    return outcome


def sync_then_scan(message: ScanMessage, *, attempt: int = 1) -> DetectionRun | None:
    """A connected profile's sync (``service.ads_sync``), then its scan when scans are on.

    A transient failure (throttling, 5xx, a report not ready) raises: the queue redelivers
    the message and, after ``max_receives`` attempts, moves it to the DLQ. A refused sync
    or a lost connection is no reason not to scan the data already there."""
    from tripwire.service.ads_sync import SyncRefused, sync_profile

    tenant, profile = message.tenant_id, message.profile_id
    where = {"tenant_id": tenant, "profile_id": profile, "run_id": message.run_id}
    try:
        sync_profile(tenant, profile, message.end or utcnow().date())
    except SyncRefused as refused:
        logger.error("Amazon Ads sync refused", extra={**where, "error": str(refused)})
        count(SYNC_FAILURES)
    except Exception as error:
        final = attempt >= max_receives()
        log = logger.error if final else logger.warning
        log(
            "Amazon Ads sync failed for good (to the DLQ)"
            if final
            else "Amazon Ads sync failed, will be retried",
            extra={**where, "attempt": attempt, "error": f"{type(error).__name__}: {error}"},
        )
        if final:
            count(SYNC_FAILURES)
        raise
    from tripwire.service.ads_stream import subscribe_when_configured

    subscribe_when_configured(tenant, profile)  # the hourly stream, once per profile
    entry = ScheduleStore().get(tenant, profile, message.interval)
    if entry is None or not entry.enabled:
        return None  # not scanned (yet): no trained model, or switched off
    return start_scan(tenant, profile, message.interval, message.end, run_id=message.run_id)


def handle_record(record: SQSRecord) -> None:
    """One SQS record of the scan queue (the worker's Powertools record handler)."""
    message = ScanMessage.model_validate_json(record.body)  # malformed: retried, then DLQ
    attempt = int(record.attributes.approximate_receive_count or 1)
    # A backfill replays history: announcing every past incident would flood subscribers.
    announce = notifier() if message.kind != "backfill" else None
    process(message, attempt=attempt, on_alerts=announce)


def notifier() -> AlertsHook | None:
    """Announce new alert groups on the alerts topic, when one is configured."""
    if not os.environ.get(TOPIC_ENV):
        return None
    from tripwire.notify.publisher import publish_new_groups

    def announce(alerts: list[Alert]) -> None:
        publish_new_groups(alerts)  # raises NotificationFailed: the message is retried

    return announce


def _failed(message: ScanMessage, attempt: int, error: Exception, *, final: bool) -> SliceRecord:
    """The slice's failure record; a final one (no retry will come) is logged and counted."""
    where = {**_where(message), "attempt": attempt, "error": f"{type(error).__name__}: {error}"}
    if final:
        logger.error("scan slice failed for good", extra=where)
        count(SCAN_FAILURES)
    else:
        logger.warning("scan slice failed, will be retried", extra=where)
    return SliceRecord(
        index=message.slice_index,
        status="failed" if final else "retrying",
        attempts=attempt,
        error=f"{type(error).__name__}: {error}",
    )


def next_chunk(message: ScanMessage) -> ScanMessage | None:
    """A backfill's next older chunk of periods for the same entities, if any is left."""
    if message.backfill_from is None or message.start is None or message.stride == 0:
        return None
    if message.start <= message.backfill_from:
        return None
    end = message.start - datetime.timedelta(days=1)
    span = (message.end - message.start) if message.end else datetime.timedelta(0)
    start = max(message.backfill_from, end - span)
    return message.model_copy(
        update={"start": start, "end": end, "slice_index": message.slice_index + message.stride}
    )


# -- completion ---------------------------------------------------------------------------


def finish_slice(message: ScanMessage, record: SliceRecord) -> DetectionRun | None:
    """Record a slice's outcome; when it was the last one (or failed for good), store the
    run's final state and return it."""
    store = RunSlices()
    expires = run_expiry(utcnow())
    store.record(message.tenant_id, message.run_id, record, expires)
    if record.status == "retrying":
        return None
    if record.status != "failed":
        done, count = store.finish(message.tenant_id, message.run_id, record.index)
        if done < count:
            return None
    run = progress(message.tenant_id, message.run_id)
    if run is None or run.swept_at is not None:
        return None
    try:
        store.update(run)
    except RunSwept:  # the sweeper failed the run between our read and this write
        logger.warning("slice finished after its run was swept", extra=_where(message))
        return None
    return run


def _where(message: ScanMessage) -> dict[str, Any]:
    return {
        "run_id": message.run_id,
        "tenant_id": message.tenant_id,
        "profile_id": message.profile_id,
        "slice": message.slice_index,
    }


def progress(tenant: str, run_id: str) -> DetectionRun | None:
    """The run as its slices report it so far (status complete once all have finished)."""
    run = RunStore().get(tenant, run_id)
    if run is None or run.swept_at is not None:  # a swept run's outcome is final
        return run
    store = RunSlices()
    count = store.count(tenant, run_id)
    if count == 0:  # run in one piece (an API detection): its item is all there is
        return run
    records = store.of_run(tenant, run_id, count)
    return summarize(run, records, count)


def summarize(run: DetectionRun, records: Sequence[SliceRecord], count: int) -> DetectionRun:
    complete = [r for r in records if r.status == "complete"]
    failed = [r for r in records if r.status == "failed"]
    if failed:
        status = RunStatus.FAILED
    elif len(complete) >= count:
        status = RunStatus.COMPLETE
    else:
        status = RunStatus.IN_PROGRESS
    warnings = list(dict.fromkeys(w for r in records for w in r.warnings))
    errors = [f"slice {r.index}: {r.error}" for r in records if r.error]
    versions = next((r.model_versions for r in records if r.model_versions), run.model_versions)
    finished = status is not RunStatus.IN_PROGRESS
    return run.model_copy(
        update={
            "status": status,
            "completed_at": (run.completed_at or utcnow()) if finished else None,
            "rows_loaded": sum(r.rows_loaded for r in records),
            "rows_preprocessed": sum(r.rows_preprocessed for r in records),
            "rows_processed": sum(r.rows_processed for r in records),
            "anomalies_found": sum(r.anomalies_found for r in complete),
            "alert_ids": sorted({a for r in complete for a in r.alert_ids}),
            "model_versions": versions,
            "warnings": warnings,
            "error": "; ".join(errors) or None,
        }
    )
