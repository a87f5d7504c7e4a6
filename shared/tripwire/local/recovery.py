"""After a restore: no run stays ``in_progress`` for ever.

A run whose slice is still on the restored scan queue is left to the pollers, which replay
it (alert ids are deterministic and alert writes conditional: a replay adds no alert twice).
A slice that neither finished nor has a message — the stack died between recording the run
and the snapshot holding its message, or mid-way through a run in one piece (an API
detection) — is recorded failed with the reason, so its run ends ``failed``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from tripwire.domain import DetectionRun, RunStatus
from tripwire.service.fanout import finish_slice, progress
from tripwire.service.messages import ScanMessage
from tripwire.service.runs import utcnow
from tripwire.store.items import from_item
from tripwire.store.runs import RunSlices, RunStore, SliceRecord

SCAN_QUEUE = "scan"  # the scan queue's name after the stack's prefix (its DLQ is not live)
LOST = (
    "the local stack stopped (killed or crashed) before this slice finished, and its queue "
    "message was not in the last snapshot; scan again to detect these periods"
)


@dataclass
class Recovered:
    replayed: list[str] = field(default_factory=list)  # runs whose slices are queued again
    failed: list[str] = field(default_factory=list)  # runs ended failed with the reason
    finished: list[str] = field(default_factory=list)  # runs whose slices had all finished

    def text(self) -> str:
        return (
            f"{len(self.replayed)} interrupted run(s) resumed from the queue, "
            f"{len(self.failed)} failed (slices lost), {len(self.finished)} closed"
        )


def _queued(messages: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], list[ScanMessage]]:
    by_run: dict[tuple[str, str], list[ScanMessage]] = {}
    for message in messages:
        try:
            scan = ScanMessage.model_validate_json(message["body"])
        except ValidationError:
            continue
        by_run.setdefault((scan.tenant_id, scan.run_id), []).append(scan)
    return by_run


def _covered(index: int, queued: list[ScanMessage]) -> bool:
    """A queued message runs slice ``index`` — itself, or as a later chunk of its backfill."""
    for m in queued:
        if m.slice_index == index:
            return True
        if m.stride and index > m.slice_index and (index - m.slice_index) % m.stride == 0:
            return True
    return False


def recover_runs(
    run_items: Iterable[Mapping[str, Any]], scan_messages: Iterable[Mapping[str, Any]]
) -> Recovered:
    """Settle every run the snapshot holds ``in_progress`` (``run_items``: the runs table's
    items; ``scan_messages``: the scan queue's restored messages)."""
    queued = _queued(scan_messages)
    report = Recovered()
    for item in run_items:
        if "body" not in item or item["pk"]["S"].count("#") != 1:
            continue  # slice records and backfill claims
        run = from_item(DetectionRun, dict(item))
        if run.status is not RunStatus.IN_PROGRESS:
            continue
        pending = queued.get((run.tenant_id, run.run_id), [])
        count = int(item.get("slice_count", {}).get("N", "0"))
        if count == 0:
            if pending:
                report.replayed.append(run.run_id)
            else:
                _fail_whole(run)
                report.failed.append(run.run_id)
            continue
        done = {int(i) for i in item.get("done_slices", {}).get("SS", [])}
        lost = [i for i in range(count) if i not in done and not _covered(i, pending)]
        for index in lost:
            message = ScanMessage(
                kind="scan",
                tenant_id=run.tenant_id,
                profile_id=run.profile_id,
                run_id=run.run_id,
                slice_index=index,
                slice_count=count,
            )
            finish_slice(message, SliceRecord(index=index, status="failed", error=LOST))
        if lost:
            report.failed.append(run.run_id)
        elif pending:
            report.replayed.append(run.run_id)
        else:  # every slice finished, but the run's own item was not updated
            final = progress(run.tenant_id, run.run_id)
            if final is not None and final.status is not RunStatus.IN_PROGRESS:
                RunSlices().update(final)
            report.finished.append(run.run_id)
    return report


def _fail_whole(run: DetectionRun) -> None:
    failed = run.model_copy(
        update={"status": RunStatus.FAILED, "completed_at": utcnow(), "error": LOST}
    )
    RunStore().put(failed)
