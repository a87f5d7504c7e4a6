"""Fan-out rules: slices of whole campaigns, backfill chains, a run summed from its slices."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from tripwire.domain import DetectionRun, Entity, EntityType, RunStatus, Trigger
from tripwire.service.backfill import BackfillRejected, BackfillRequest
from tripwire.service.fanout import next_chunk, plan_slices, process, summarize
from tripwire.service.messages import ScanMessage
from tripwire.store.runs import SliceRecord
from tripwire.telemetry import SCAN_FAILURES, SLICES_SCANNED, metrics


def account(campaigns: dict[str, int]) -> list[Entity]:
    out = [Entity(entity_id="A", entity_type=EntityType.ACCOUNT)]
    for campaign, keywords in campaigns.items():
        out.append(Entity(entity_id=campaign, entity_type=EntityType.CAMPAIGN, parent_id="A"))
        out += [
            Entity(entity_id=f"{campaign}-K{i}", entity_type=EntityType.KEYWORD, parent_id=campaign)
            for i in range(keywords)
        ]
    return out


def test_slices_keep_a_campaigns_keywords_together_and_stay_under_the_size() -> None:
    entities = account({"C1": 40, "C2": 30, "C3": 50, "C4": 10})
    slices = plan_slices(entities, size=60)
    assert sorted(e for s in slices for e in s) == sorted(e.entity_id for e in entities)
    for ids in slices:
        assert len(ids) <= 60
        for campaign in ("C1", "C2", "C3", "C4"):
            keywords = {i for i in ids if i.startswith(f"{campaign}-")}
            assert (
                not keywords or len(keywords) == {"C1": 40, "C2": 30, "C3": 50, "C4": 10}[campaign]
            )


def test_a_small_profile_is_one_slice() -> None:
    assert len(plan_slices(account({"C1": 5, "C2": 5}))) == 1


def message(**fields: object) -> ScanMessage:
    base: dict[str, object] = {
        "kind": "backfill",
        "tenant_id": "t",
        "profile_id": "A1",
        "run_id": "run-1",
    }
    return ScanMessage.model_validate({**base, **fields})


def test_a_backfill_walks_back_chunk_by_chunk_to_its_first_period() -> None:
    first = message(
        start="2026-03-02",
        end="2026-03-31",
        backfill_from="2026-01-15",
        stride=3,
        slice_index=1,
        slice_count=9,
    )
    second = next_chunk(first)
    assert second is not None
    assert (second.start, second.end) == (datetime.date(2026, 1, 31), datetime.date(2026, 3, 1))
    assert second.slice_index == 4
    third = next_chunk(second)
    assert third is not None
    assert (third.start, third.end) == (datetime.date(2026, 1, 15), datetime.date(2026, 1, 30))
    assert third.slice_index == 7
    assert next_chunk(third) is None


def test_scans_have_no_next_chunk() -> None:
    assert next_chunk(message(kind="scan")) is None


def run() -> DetectionRun:
    now = datetime.datetime(2026, 4, 1)
    return DetectionRun(
        run_id="run-1",
        tenant_id="t",
        profile_id="A1",
        trigger=Trigger.BACKFILL,
        started_at=now,
        expires_at=0,
    )


def record(index: int, status: str = "complete", **fields: object) -> SliceRecord:
    return SliceRecord.model_validate({"index": index, "status": status, **fields})


def test_a_run_is_complete_when_every_slice_is() -> None:
    slices = [
        record(0, rows_loaded=10, rows_processed=4, anomalies_found=1, alert_ids=["a"]),
        record(1, rows_loaded=5, rows_processed=2, anomalies_found=1, alert_ids=["b"]),
    ]
    partial = summarize(run(), slices[:1], count=2)
    assert partial.status is RunStatus.IN_PROGRESS and partial.rows_loaded == 10
    done = summarize(run(), slices, count=2)
    assert done.status is RunStatus.COMPLETE and done.completed_at is not None
    assert (done.rows_loaded, done.rows_processed, done.anomalies_found) == (15, 6, 2)
    assert done.alert_ids == ["a", "b"]


def test_a_slice_failed_for_good_fails_the_run_with_its_error() -> None:
    failed = summarize(run(), [record(0), record(1, "failed", error="Boom: no")], count=2)
    assert failed.status is RunStatus.FAILED and failed.error == "slice 1: Boom: no"
    retrying = summarize(run(), [record(0), record(1, "retrying", error="x")], count=2)
    assert retrying.status is RunStatus.IN_PROGRESS


def test_a_backfill_names_a_period_or_a_start() -> None:
    today = datetime.date(2026, 4, 30)
    assert BackfillRequest(profile_id="A1", period="12mo").days(today) == (
        datetime.date(2025, 5, 6),
        today,
    )
    assert BackfillRequest(profile_id="A1", period="5y").days(today)[0] == datetime.date(2021, 5, 2)
    explicit = BackfillRequest(profile_id="A1", start="2026-01-01", end="2026-01-31")
    assert explicit.days(today) == (datetime.date(2026, 1, 1), datetime.date(2026, 1, 31))


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"period": "5 years"}, "period"),
        ({"period": "5y", "interval": "2d"}, "interval"),  # 1h is a market's (test_backfill_api)
    ],
)
def test_a_malformed_backfill_request_names_the_field(fields: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as error:
        BackfillRequest.model_validate({"profile_id": "A1", **fields})
    assert field in str(error.value)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "period"),
        ({"period": "5y", "start": "2026-01-01"}, "period"),
        ({"start": "2026-02-01", "end": "2026-01-01"}, "start"),
    ],
)
def test_a_backfill_range_must_be_one_and_in_order(fields: dict[str, str], field: str) -> None:
    request = BackfillRequest.model_validate({"profile_id": "A1", **fields})
    with pytest.raises(BackfillRejected) as error:
        request.days(datetime.date(2026, 4, 30))
    assert error.value.field == field


# -- observability: a slice that fails for good is logged with its run and counted ---------


@pytest.fixture
def metrics_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


@pytest.mark.usefixtures("moto_aws", "metrics_on")
def test_a_permanent_failure_is_logged_with_its_run_and_slice_and_counted(
    logged: list[logging.LogRecord],
) -> None:
    failing = message(kind="scan", slice_index=2, slice_count=3, run_id="run-gone")
    assert process(failing, attempt=1) is None  # no models: failing again cannot help
    (entry,) = [r for r in logged if r.getMessage() == "scan slice failed for good"]
    assert entry.levelname == "ERROR"
    where = (entry.run_id, entry.slice, entry.tenant_id)  # type: ignore[attr-defined]
    assert where == ("run-gone", 2, "t")
    assert entry.error.startswith("NoModels")  # type: ignore[attr-defined]
    assert metrics.metric_set[SCAN_FAILURES]["Value"] == [1.0]
    assert SLICES_SCANNED not in metrics.metric_set


@pytest.mark.usefixtures("moto_aws", "metrics_on")
def test_a_failure_that_will_be_retried_is_a_warning_and_not_counted(
    logged: list[logging.LogRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise ConnectionError("moto went away")

    monkeypatch.setattr("tripwire.service.scan.detect_slice", broken)
    with pytest.raises(ConnectionError):
        process(message(kind="scan"), attempt=1)
    failures = [r.levelname for r in logged if "scan slice failed" in r.getMessage()]
    assert failures == ["WARNING"]
    assert SCAN_FAILURES not in metrics.metric_set
