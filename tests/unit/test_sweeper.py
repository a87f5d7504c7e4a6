"""The run sweeper (service/sweep.py) on moto: queued runs still in progress past their
deadline are failed with the reason; nothing else is touched, and a run that finishes
concurrently keeps its outcome. Every clock is passed in: no timed assertions."""

from __future__ import annotations

import datetime
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from tripwire.domain import DetectionRun, RunStatus, Trigger
from tripwire.local.functions import invoke
from tripwire.service import fanout, sweep
from tripwire.service.messages import ScanMessage
from tripwire.service.runs import QUEUE_WAIT, new_run, queued_deadline
from tripwire.service.sweep import sweep_reason, sweep_runs
from tripwire.store.queues import SCAN
from tripwire.store.runs import RunSlices, RunStore, SliceRecord
from tripwire.telemetry import RUNS_SWEPT, metrics

pytestmark = pytest.mark.usefixtures("moto_aws")
EVENTS = Path(__file__).resolve().parents[2] / "events"
T0 = datetime.datetime(2026, 4, 1, 6, 0)
MICRO = datetime.timedelta(microseconds=1)


def queued(run_id: str = "run-a", slices: int = 2, tenant: str = "t") -> DetectionRun:
    """A queued run recorded as ``fanout.enqueue`` records it (without sending)."""
    run = new_run(tenant, "A1", Trigger.SCHEDULE, 10, now=T0).model_copy(
        update={"run_id": run_id, "deadline": queued_deadline(T0)}
    )
    RunSlices().start(run, slices)
    return run


def report(run: DetectionRun, index: int, count: int = 2) -> DetectionRun | None:
    message = ScanMessage(
        kind="scan",
        tenant_id=run.tenant_id,
        profile_id=run.profile_id,
        run_id=run.run_id,
        slice_index=index,
        slice_count=count,
    )
    return fanout.finish_slice(message, SliceRecord(index=index, status="complete", entities=5))


def stored(run: DetectionRun) -> DetectionRun:
    found = RunStore().get(run.tenant_id, run.run_id)
    assert found is not None
    return found


def test_the_deadline_allows_the_queue_wait_and_every_retry_of_each_chained_message() -> None:
    per_message = QUEUE_WAIT + datetime.timedelta(seconds=3 * (300 * 6 + 30))
    assert SCAN.retry_seconds() == 3 * (300 * 6 + 30)
    assert queued_deadline(T0) == T0 + per_message
    assert queued_deadline(T0, chain=4) == T0 + 4 * per_message


def test_enqueue_stores_the_deadline_a_backfill_chain_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fanout, "send", lambda messages: None)
    run = new_run("t", "A1", Trigger.BACKFILL, 10, now=T0)
    messages = [ScanMessage(kind="backfill", tenant_id="t", profile_id="A1", run_id=run.run_id)] * 2
    recorded = fanout.enqueue(run, messages, slices=6)  # 2 slices × 3 chunks in a row
    assert recorded.deadline == queued_deadline(T0, chain=3)
    assert stored(recorded).deadline == recorded.deadline


def test_a_run_stuck_past_its_deadline_is_failed_with_the_reason() -> None:
    run = queued()
    report(run, 0)  # one of two slices reported; the other's message was lost
    assert run.deadline is not None
    now = run.deadline + datetime.timedelta(minutes=15)
    (swept,) = sweep_runs(now)
    after = stored(run)
    assert after == swept
    assert after.status is RunStatus.FAILED
    assert after.error == sweep_reason(run.deadline)
    assert after.error == f"no progress by {run.deadline.isoformat()}Z; swept"
    assert after.swept_at == now and after.completed_at == now
    assert after.entities_checked == 10 and after.rows_loaded == 0  # the slices' summary kept
    assert sweep_runs(now + datetime.timedelta(hours=1)) == []  # once only
    assert fanout.progress(run.tenant_id, run.run_id) == after


def test_a_slice_error_is_kept_after_the_reason() -> None:
    run = queued()
    message = ScanMessage(kind="scan", tenant_id="t", profile_id="A1", run_id=run.run_id)
    record = SliceRecord(index=1, status="retrying", error="ConnectionError: gone")
    RunSlices().record("t", run.run_id, record, expires_at=0)
    assert fanout.finish_slice(message, record) is None
    assert run.deadline is not None
    (swept,) = sweep_runs(run.deadline + MICRO)
    assert swept.error == f"{sweep_reason(run.deadline)}: slice 1: ConnectionError: gone"


def test_the_deadline_itself_is_not_past_it() -> None:
    run = queued()
    assert run.deadline is not None
    assert sweep_runs(T0) == []
    assert sweep_runs(run.deadline - MICRO) == []
    assert sweep_runs(run.deadline) == []  # due, not overdue
    assert stored(run).status is RunStatus.IN_PROGRESS
    assert [r.run_id for r in sweep_runs(run.deadline + MICRO)] == [run.run_id]


def test_only_overdue_runs_are_swept_across_tenants() -> None:
    late = queued("run-late", tenant="t1")
    later = new_run("t2", "A1", Trigger.API, now=T0 + datetime.timedelta(hours=6))
    later = later.model_copy(update={"deadline": queued_deadline(later.started_at)})
    RunSlices().start(later, 1)
    assert late.deadline is not None
    swept = sweep_runs(late.deadline + datetime.timedelta(hours=1))
    assert [(r.tenant_id, r.run_id) for r in swept] == [("t1", "run-late")]
    assert stored(later).status is RunStatus.IN_PROGRESS


def test_runs_that_finished_or_were_never_queued_are_left_alone() -> None:
    run = queued()
    assert report(run, 0) is None
    finished = report(run, 1)
    assert finished is not None and finished.status is RunStatus.COMPLETE
    # a synchronous detection is stored finished, without a deadline
    RunStore().put(new_run("t", "A1", Trigger.API, now=T0).model_copy(update={"run_id": "s"}))
    assert sweep_runs(T0 + datetime.timedelta(days=29)) == []
    assert stored(run).status is RunStatus.COMPLETE
    assert stored(run).swept_at is None


def test_a_run_completing_while_the_sweeper_decides_keeps_its_outcome(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = queued()
    report(run, 0)
    real = sweep.progress

    def read_then_the_worker_finishes(tenant: str, run_id: str) -> DetectionRun | None:
        seen = real(tenant, run_id)  # still in progress when the sweeper reads it
        finished = report(run, 1)  # … and the last slice reports before it writes
        assert finished is not None and finished.status is RunStatus.COMPLETE
        return seen

    monkeypatch.setattr(sweep, "progress", read_then_the_worker_finishes)
    assert run.deadline is not None
    assert sweep_runs(run.deadline + MICRO) == []
    after = stored(run)
    assert after.status is RunStatus.COMPLETE and after.error is None
    assert after.swept_at is None


def test_a_slice_reporting_after_the_sweep_leaves_the_failure_standing() -> None:
    run = queued()
    assert run.deadline is not None
    (swept,) = sweep_runs(run.deadline + MICRO)
    assert report(run, 0) is None
    assert report(run, 1) is None  # the last slice: no completion, no learning request
    assert stored(run) == swept


def test_a_run_whose_slices_all_reported_is_settled_not_swept() -> None:
    run = queued(slices=1)
    message = ScanMessage(kind="scan", tenant_id="t", profile_id="A1", run_id=run.run_id)
    slices = RunSlices()
    slices.record("t", run.run_id, SliceRecord(index=0, status="complete"), expires_at=0)
    slices.finish("t", run.run_id, 0)  # … and the worker died before updating the run
    assert message.run_id == run.run_id
    assert run.deadline is not None
    assert sweep_runs(run.deadline + MICRO) == []
    assert stored(run).status is RunStatus.COMPLETE


# -- the function, its metric and its log ------------------------------------------------


def test_a_swept_run_is_logged_and_counted(
    logged: list[logging.LogRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics.clear_metrics()
    run = queued()
    assert run.deadline is not None
    sweep_runs(run.deadline + MICRO)
    (entry,) = [r for r in logged if r.getMessage() == "run swept"]
    assert entry.levelname == "ERROR"
    assert (entry.run_id, entry.tenant_id, entry.trigger) == (run.run_id, "t", "schedule")  # type: ignore[attr-defined]
    assert metrics.metric_set[RUNS_SWEPT]["Value"] == [1.0]
    metrics.clear_metrics()


def test_the_sweeper_function_fails_overdue_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    run = queued()  # started 2026-04-01: long overdue by the real clock of any later day
    event: dict[str, Any] = json.loads((EVENTS / "sweeper_schedule.json").read_text())
    monkeypatch.setattr(sweep, "utcnow", lambda: T0 + datetime.timedelta(days=1))
    answer = invoke("sweeper", event)
    assert answer == {"swept": [{"tenant_id": "t", "run_id": run.run_id}]}
    assert stored(run).status is RunStatus.FAILED
