"""The scheduler and worker handlers on their sample events (AWS in-process)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tripwire.local.functions import invoke
from tripwire.service.fanout import progress
from tripwire.store.provision import aws_client
from tripwire.store.queues import SCAN

EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.fixture(autouse=True)
def aws(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    queue: str = aws_client("sqs").create_queue(QueueName="scan")["QueueUrl"]
    monkeypatch.setenv(SCAN.url_env, queue)
    return queue


def event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return loaded


def test_the_scheduler_reads_the_schedules_date_and_skips_when_nothing_is_on() -> None:
    result = invoke("scan_scheduler", event("scan_scheduler_schedule.json"))
    assert result == {"as_of": "2026-03-31", "runs": [], "syncs": []}


def test_a_slice_that_cannot_ever_succeed_is_recorded_failed_not_retried() -> None:
    from tripwire.domain import Trigger
    from tripwire.service.runs import new_run
    from tripwire.store.runs import RunSlices

    sample = event("scan_worker_sqs.json")
    body = json.loads(sample["Records"][0]["body"])
    run = new_run(body["tenant_id"], body["profile_id"], Trigger.SCHEDULE, 0)
    body["run_id"] = run.run_id
    RunSlices().start(run, 1)
    record = {**sample["Records"][0], "body": json.dumps(body)}
    # No models were ever trained for this profile: retrying cannot help.
    assert invoke("scan_worker", {"Records": [record]}) == {"batchItemFailures": []}
    failed = progress(run.tenant_id, run.run_id)
    assert failed is not None and failed.status.value == "failed"
    assert failed.error is not None and "NoModels" in failed.error


def test_a_malformed_message_fails_alone_so_the_queue_retries_it() -> None:
    sample = event("scan_worker_sqs.json")
    bad = {**sample["Records"][0], "messageId": "bad", "body": '{"kind": "scan"}'}
    good = sample["Records"][0]
    result = invoke("scan_worker", {"Records": [good, bad]})
    assert result == {"batchItemFailures": [{"itemIdentifier": "bad"}]}


def test_a_sync_message_of_a_profile_not_connected_is_consumed() -> None:
    # (disconnected, or the connection deleted, after the schedule sent it)
    assert invoke("scan_worker", event("scan_worker_sync.json")) == {"batchItemFailures": []}


def test_a_sync_whose_credentials_are_gone_disconnects_the_profile_once() -> None:
    import datetime as dt

    from tripwire.domain.connections import Connection, ConnectionStatus
    from tripwire.store.connections import ConnectionStore

    store = ConnectionStore()
    at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    store.put(
        Connection(
            tenant_id="acme",
            profile_id="acme-us",
            ads_profile_id="1",
            secret_id="tripwire/amazon-ads/acme/acme-us",
            connected_at=at,
        )
    )
    for _ in range(2):  # a redelivery, or the next day's sync
        assert invoke("scan_worker", event("scan_worker_sync.json")) == {"batchItemFailures": []}
    found = store.get("acme", "acme-us")
    assert found is not None and found.status is ConnectionStatus.DISCONNECTED
    assert found.reason == "the connection's credentials secret is gone"
    assert store.connected() == []
