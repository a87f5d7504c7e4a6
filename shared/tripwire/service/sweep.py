"""The run sweeper: queued runs still ``in_progress`` past their deadline are failed.

A queued run finishes when its last slice reports; a slice whose message is lost — a worker
killed by its timeout on the last receive, a message moved to the DLQ unrecorded — never
reports, and the run would stay ``in_progress`` for good (holding its backfill slot, too).
Each queued run is stored with a deadline (``service.runs.queued_deadline``: queue wait
plus every retry the queue allows); past it, nothing can still finish the run. The sweeper
(EventBridge, every 15 minutes; locally the stack's sweep ticker) fails it, saying so; the
write is conditional on the run still being in progress, so a run finishing concurrently
keeps its outcome, and a slice reporting after the sweep leaves the failure as it is.
"""

from __future__ import annotations

import contextlib
import datetime

from tripwire.domain.runs import DetectionRun, RunStatus
from tripwire.service.fanout import progress
from tripwire.service.runs import utcnow
from tripwire.store.runs import RunSlices, RunStore, RunSwept
from tripwire.telemetry import RUNS_SWEPT, count, logger


def sweep_reason(deadline: datetime.datetime) -> str:
    return f"no progress by {deadline.isoformat(timespec='seconds')}Z; swept"


def sweep_runs(now: datetime.datetime | None = None) -> list[DetectionRun]:
    """Fail every overdue queued run; returns the runs this call failed."""
    now = now or utcnow()
    store, swept = RunStore(), []
    for tenant, run_id in store.overdue(now):
        current = progress(tenant, run_id)  # what its slices did, for the record
        if current is None or current.swept_at is not None or current.deadline is None:
            continue
        if current.status is not RunStatus.IN_PROGRESS:
            _settle(current)  # every slice reported but the run item missed the last write
            continue
        reason = sweep_reason(current.deadline)
        failed = current.model_copy(
            update={
                "status": RunStatus.FAILED,
                "error": f"{reason}: {current.error}" if current.error else reason,
                "completed_at": now,
                "swept_at": now,
            }
        )
        if not store.sweep(failed):
            continue  # it finished (or was swept) between the read and the write
        logger.error(
            "run swept",
            extra={
                "run_id": run_id,
                "tenant_id": tenant,
                "profile_id": failed.profile_id,
                "trigger": failed.trigger.value,
                "deadline": current.deadline.isoformat(),
                "error": failed.error,
            },
        )
        count(RUNS_SWEPT)
        swept.append(failed)
    return swept


def _settle(run: DetectionRun) -> None:
    with contextlib.suppress(RunSwept):  # swept meanwhile by another sweep: that stands
        RunSlices().update(run)
