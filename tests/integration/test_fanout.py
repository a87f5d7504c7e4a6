"""Scheduled scans through the local stack: scheduler → SQS → poller → worker → alerts.

Everything runs the deployed code path against moto server over HTTP: the real scheduler
and worker handlers, moto's queue with its redrive policy, the poller deleting what the
worker's partial batch response says succeeded.
"""

from __future__ import annotations

import datetime
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tripwire.demo.generator import GeneratorConfig, Incident, generate, write
from tripwire.domain import DetectionRun, Interval, RunStatus, Trigger
from tripwire.ingest.importer import import_account
from tripwire.local.auth import issue_token
from tripwire.local.poller import fire_schedule
from tripwire.local.stack import LocalStack
from tripwire.service import fanout
from tripwire.service.messages import ScanMessage
from tripwire.service.runs import new_run
from tripwire.service.train import train_profile
from tripwire.store import keys
from tripwire.store.batch import query_all
from tripwire.store.metadata import MetadataStore
from tripwire.store.provision import aws_client
from tripwire.store.runs import RunSlices
from tripwire.store.schedule import ScheduleStore
from tripwire.store.tables import ALERTS

# The tests tell one story on a module-scoped account (each scan settles earlier days):
# they run in order, on one xdist worker (`--dist loadgroup`).
pytestmark = [
    pytest.mark.integration,
    pytest.mark.usefixtures("local_stack"),
    pytest.mark.xdist_group("fanout"),
]
CONFIG = GeneratorConfig(seed=11, keywords=150, campaigns=8, portfolios=2, days=100)
PROFILE = "A1"
STRONG = ("campaign_paused", "campaign_budget_exhausted")  # incidents the count model nails


@dataclass
class Account:
    tenant: str
    incidents: list[Incident]
    trained_until: datetime.date
    scan_day: datetime.date
    entities: int
    first_run: DetectionRun


def _scan(stack: LocalStack, tenant: str, day: datetime.date) -> DetectionRun:
    started = [r for r in stack.scan(day) if r["tenant_id"] == tenant]
    assert len(started) == 1, started
    run = fanout.progress(tenant, started[0]["run_id"])
    assert run is not None
    return run


def _stored_alerts(tenant: str) -> list[str]:
    items = query_all(
        aws_client("dynamodb"),
        TableName=ALERTS.name,
        IndexName="by_profile",
        KeyConditionExpression="profile_pk = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.profile_pk(tenant, PROFILE)}},
    )
    return [json.loads(i["body"]["S"])["alert_id"] for i in items]


@pytest.fixture(scope="module")
def account(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    generated = generate(CONFIG)
    paths = write(generated, tmp_path_factory.mktemp("fanout"))
    tenant = f"fanout-{uuid.uuid4().hex[:8]}"
    import_account(tenant, PROFILE, paths["entities"], paths["metrics"])
    first = CONFIG.start + datetime.timedelta(days=CONFIG.days - generated.config.incident_days)
    trained_until = first - datetime.timedelta(days=1)
    train_profile(tenant, PROFILE, trained_until)
    scan_day = first + datetime.timedelta(days=12)  # leaves later days for later scans
    ScheduleStore().set(tenant, PROFILE, True)
    try:
        run = _scan(local_stack, tenant, scan_day)
        entities = run.entities_checked
        yield Account(tenant, generated.incidents, trained_until, scan_day, entities, run)
    finally:
        ScheduleStore().set(tenant, PROFILE, False)  # other modules' ticks must skip it


def test_a_scheduled_scan_raises_the_planted_incidents(account: Account) -> None:
    run = account.first_run
    assert run.status is RunStatus.COMPLETE and run.trigger is Trigger.SCHEDULE
    # Nothing was detected since training: the first scan caught up on every day since.
    days = (account.scan_day - account.trained_until).days
    assert run.rows_processed == days * account.entities
    stored = set(_stored_alerts(account.tenant))
    assert set(run.alert_ids) == stored and run.anomalies_found == len(stored)
    alerts = {a: fanout_alert(account.tenant, a) for a in run.alert_ids}
    raised = {(a["entity_id"], str(a["period"])[:10]) for a in alerts.values()}
    planted = [i for i in account.incidents if i.kind in STRONG and i.start <= account.scan_day]
    assert planted
    for incident in planted:
        assert (incident.root_entity, incident.start.isoformat()) in raised, incident


def fanout_alert(tenant: str, alert_id: str) -> dict[str, object]:
    item = aws_client("dynamodb").get_item(
        TableName=ALERTS.name, Key={"pk": {"S": f"{tenant}#{alert_id}"}}
    )["Item"]
    body: dict[str, object] = json.loads(item["body"]["S"])
    return body


def test_a_second_scan_with_no_new_data_raises_nothing_new_and_says_so(
    local_stack: LocalStack, account: Account
) -> None:
    before = sorted(_stored_alerts(account.tenant))
    again = _scan(local_stack, account.tenant, account.scan_day)
    assert again.status is RunStatus.COMPLETE
    assert again.anomalies_found == 0 and again.rows_processed == 0
    assert any("nothing new to detect" in w for w in again.warnings)
    assert sorted(_stored_alerts(account.tenant)) == before


def test_after_new_data_a_scan_looks_only_at_the_new_period(
    local_stack: LocalStack, account: Account
) -> None:
    later = _scan(local_stack, account.tenant, account.scan_day + datetime.timedelta(days=1))
    # The new day, and the day that settled since (re-scored with restated sales).
    assert later.rows_processed == 2 * account.entities
    state = MetadataStore().read(account.tenant, PROFILE, Interval.D1, [PROFILE])
    assert state[PROFILE].meta.last_detected is not None
    assert state[PROFILE].meta.last_detected.date() == account.scan_day + datetime.timedelta(days=1)


def http(
    stack: LocalStack, tenant: str, method: str, path: str, body: object = None
) -> tuple[int, dict[str, Any]]:
    token = issue_token(tenant, "ana", directory=stack.directory)
    request = urllib.request.Request(
        stack.api_url + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_profile_switched_off_is_skipped_by_the_scheduler(
    local_stack: LocalStack, account: Account
) -> None:
    path = f"/profiles/{PROFILE}/schedule"
    status, body = http(local_stack, account.tenant, "PUT", path, {"enabled": False})
    assert status == 200 and body["enabled"] is False
    try:
        started = fire_schedule(account.scan_day)
        assert account.tenant not in {r["tenant_id"] for r in started}
    finally:
        assert http(local_stack, account.tenant, "PUT", path, {"enabled": True})[0] == 200


def _detect_message(account: Account, run: DetectionRun) -> ScanMessage:
    day = account.scan_day - datetime.timedelta(days=2)
    return ScanMessage(
        kind="detect",
        tenant_id=account.tenant,
        profile_id=PROFILE,
        run_id=run.run_id,
        start=day - datetime.timedelta(days=3),
        end=day,
        force=True,
    )


def test_a_redelivered_message_creates_no_duplicate(
    local_stack: LocalStack, account: Account
) -> None:
    run = new_run(account.tenant, PROFILE, Trigger.API, account.entities)
    message = _detect_message(account, run)
    before = _stored_alerts(account.tenant)
    fanout.enqueue(run, [message])
    local_stack.drain()
    once = _stored_alerts(account.tenant)
    fanout.send([message])  # the same message delivered again
    local_stack.drain()
    after = _stored_alerts(account.tenant)
    assert sorted(after) == sorted(once) and len(after) == len(set(after))
    done = fanout.progress(account.tenant, run.run_id)
    assert done is not None and done.status is RunStatus.COMPLETE
    # The run counts what it stored itself (re-detected by force: at most the periods
    # that settled since the scheduled scan add alerts), once, however often delivered.
    assert done.anomalies_found == len(set(once) - set(before))
    assert done.rows_processed == 4 * account.entities


def test_a_poison_message_reaches_the_dlq_while_the_rest_of_its_batch_succeeds(
    local_stack: LocalStack, account: Account
) -> None:
    run = new_run(account.tenant, PROFILE, Trigger.API, account.entities)
    RunSlices().start(run, 1)
    poison = f'{{"kind": "scan", "tenant_id": "{account.tenant}", "poison": "{run.run_id}"}}'
    sqs = aws_client("sqs")
    sqs.send_message_batch(
        QueueUrl=local_stack.queue_url,
        Entries=[
            {"Id": "good", "MessageBody": _detect_message(account, run).model_dump_json()},
            {"Id": "poison", "MessageBody": poison},
        ],
    )
    local_stack.drain()  # the poison is retried until the redrive policy moves it
    done = fanout.progress(account.tenant, run.run_id)
    assert done is not None and done.status is RunStatus.COMPLETE
    dead = sqs.receive_message(QueueUrl=local_stack.dlq_url, MaxNumberOfMessages=10).get(
        "Messages", []
    )
    assert poison in [m["Body"] for m in dead]
    for m in dead:
        sqs.delete_message(QueueUrl=local_stack.dlq_url, ReceiptHandle=m["ReceiptHandle"])


def test_a_worker_killed_mid_slice_and_retried_finishes_with_every_alert_exactly_once(
    local_stack: LocalStack, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Dies after writing its alerts, before recording where detection stands.
    real_write = MetadataStore.write
    kills = []

    def killed_once(self: MetadataStore, *args: object, **kwargs: object) -> int:
        if not kills:
            kills.append(1)
            raise SystemError("worker killed")
        return real_write(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(MetadataStore, "write", killed_once)
    run = _scan(local_stack, account.tenant, account.scan_day + datetime.timedelta(days=9))
    assert kills and run.status is RunStatus.COMPLETE and run.alert_ids
    slices = RunSlices().of_run(account.tenant, run.run_id, 1)
    assert slices[0].attempts == 2  # the retry did the work
    stored = _stored_alerts(account.tenant)
    assert len(stored) == len(set(stored))
    assert set(run.alert_ids) <= set(stored) and run.anomalies_found == len(run.alert_ids)
    mine = [a for a in stored if fanout_alert(account.tenant, a)["run_id"] == run.run_id]
    assert sorted(mine) == sorted(run.alert_ids)


def test_backfill_progress_moves_to_complete_and_a_running_one_is_returned(
    local_stack: LocalStack, account: Account
) -> None:
    request = {
        "profile_id": PROFILE,
        "start": (account.trained_until - datetime.timedelta(days=44)).isoformat(),
        "end": account.trained_until.isoformat(),
    }
    status, started = http(local_stack, account.tenant, "POST", "/backfill", request)
    assert status == 202 and started["status"] == "in_progress"
    status, again = http(local_stack, account.tenant, "POST", "/backfill", request)
    assert status == 200 and again["backfill_id"] == started["backfill_id"]
    assert again["status"] == "in_progress"
    local_stack.drain()
    path = f"/backfill/{started['backfill_id']}"
    status, done = http(local_stack, account.tenant, "GET", path)
    assert status == 200 and done["status"] == "complete", done
    # 45 days in two chunks (30 + 15), newest first, every entity detected once per day.
    assert done["rows_processed"] == 45 * account.entities
    assert done["rows_loaded"] > 0 and done["error"] is None
    assert http(local_stack, "someone-else", "GET", path)[0] == 404
    status, fresh = http(local_stack, account.tenant, "POST", "/backfill", request)
    assert status == 202 and fresh["backfill_id"] != started["backfill_id"]  # it gave way
    local_stack.drain()
    status, rerun = http(local_stack, account.tenant, "GET", f"/backfill/{fresh['backfill_id']}")
    assert rerun["status"] == "complete" and rerun["rows_processed"] == 0  # all detected


def test_a_queued_detection_can_ask_for_one_detector(
    local_stack: LocalStack, account: Account
) -> None:
    run = new_run(account.tenant, PROFILE, Trigger.API, account.entities)
    message = _detect_message(account, run).model_copy(update={"detector": "isolation_forest"})
    fanout.enqueue(run, [message])
    local_stack.drain()
    done = fanout.progress(account.tenant, run.run_id)
    assert done is not None and done.status is RunStatus.COMPLETE, done
    assert done.rows_processed == 4 * account.entities
