"""DELETE /profiles/{id} on the local stack: nothing of the profile remains, anywhere.

A profile gets data in every table and bucket through the real paths — imported metrics, a
trained model, a scheduled scan raising alerts and incident groups (announced on the topic),
an acknowledgement and a label over the API, a file dropped in the landing bucket and its
import report, a backfill slot, an archived alert, a connection secret, a Marketing Stream
route and the streamed hour it routed (stream cells, hourly points). After the delete,
every item of every table and every object version and secret is read back: none holds the
profile's id (or one of its alert or run ids) under its tenant, while the same tenant's other
profile and another tenant's profile of the same id are untouched, item for item.
"""

from __future__ import annotations

import datetime
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tripwire.demo.generator import GeneratorConfig, generate, write
from tripwire.domain import RunStatus
from tripwire.domain.connections import Connection, ConnectionStatus
from tripwire.domain.metrics import Interval
from tripwire.ingest.importer import import_account
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.service.ads_stream import ingest_messages
from tripwire.service.train import train_profile
from tripwire.store.alerts import AlertStore
from tripwire.store.connections import ConnectionStore, SecretStore
from tripwire.store.history import HistoryStore
from tripwire.store.metrics import MetricStore
from tripwire.store.provision import aws_client
from tripwire.store.runs import RunSlices, RunStore
from tripwire.store.schedule import ScheduleStore
from tripwire.store.stream import StreamStore
from tripwire.store.tables import BUCKETS, IDEMPOTENCY, LANDING, MODELS, TABLES

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("profile-deletion")]
CONFIG = GeneratorConfig(seed=5, keywords=60, campaigns=4, portfolios=1, days=90)
GONE, KEPT = "zz-gone-9", "zz-kept-9"  # ids no generated entity, name or alert id contains
MARKETPLACE, STREAMED_HOUR = "ATVPDKIKX0DER", datetime.datetime(2026, 12, 1, 14)
ADVERTISERS = {"gone": "ADV-ZZ-GONE", "kept": "ADV-ZZ-KEPT", "other": "ADV-ZZ-OTHER"}


@dataclass
class World:
    tenant: str
    other: str  # another tenant, with a profile of the same id
    alert_ids: list[str]
    run_ids: list[str]


def call(stack: LocalStack, tenant: str, method: str, path: str, body: Any = None) -> Any:
    token = issue_token(tenant, "ana", directory=stack.directory)
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(stack.api_url + path, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def everything() -> list[tuple[str, str]]:
    """(where, JSON text) of every item of every table, every object version and delete
    marker of every bucket, and every secret name."""
    dynamodb, s3 = aws_client("dynamodb"), aws_client("s3")
    found: list[tuple[str, str]] = []
    for table in TABLES:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table.name):
            found += [(table.logical, json.dumps(i, sort_keys=True)) for i in page["Items"]]
    for bucket in BUCKETS:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket.name):
            for version in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                found.append((bucket.logical, f"{version['Key']}@{version['VersionId']}"))
    for page in aws_client("secretsmanager").get_paginator("list_secrets").paginate():
        found += [("secrets", s["Name"]) for s in page["SecretList"]]
    return found


def of_tenant_profile(tenant: str, profile: str, ids: list[str]) -> list[tuple[str, str]]:
    """What the store holds of one tenant's profile: anything naming the tenant and the
    profile, or the tenant and one of the profile's alert or run ids."""
    marks = [profile, *ids]
    return sorted(
        (where, text)
        for where, text in everything()
        if tenant in text and any(mark in text for mark in marks)
    )


def drop(stack: LocalStack, tenant: str, profile: str) -> None:
    """A file in the landing bucket, imported (refused here) by the real landing function:
    its report is written beside it."""
    s3, key = aws_client("s3"), f"{tenant}/{profile}/notes.txt"
    s3.put_object(Bucket=LANDING.name, Key=key, Body=b"not a report\n")
    for _ in range(600):  # until the landing poller has written the report
        try:
            s3.head_object(Bucket=LANDING.name, Key=f"{key}.result.json")
            return
        except s3.exceptions.ClientError:
            time.sleep(0.1)
    raise AssertionError(f"no import report for {key}")


def stream(tenant: str, profile: str, advertiser: str) -> None:
    """The profile subscribed to Marketing Stream (its route) and one sp-traffic record for
    it consumed by the real ingest: keyword-hour cells, the latest-hour marker, hourly
    points of the keyword and its roll-ups."""
    StreamStore().put_route(advertiser, MARKETPLACE, tenant, profile, {"sp-traffic": "sub-1"})
    record = {
        "idempotency_id": f"t-{advertiser}",
        "dataset_id": "sp-traffic",
        "marketplace_id": MARKETPLACE,
        "currency": "USD",
        "advertiser_id": advertiser,
        "campaign_id": "111",
        "ad_group_id": "222",
        "ad_id": "333",
        "keyword_id": "444",
        "keyword_text": "garden hose",
        "match_type": "EXACT",
        "placement": "Top of Search on-Amazon",
        "time_window_start": STREAMED_HOUR.isoformat() + "Z",
        "impressions": 120,
        "clicks": 6,
        "cost": 4.2,
    }
    report = ingest_messages([json.dumps(record)])
    assert (report.new, report.refused) == (1, [])


def streamed(tenant: str, profile: str, advertiser: str) -> tuple[bool, str | None, int]:
    """(routed to the profile, latest streamed hour, hourly points of its streamed keyword)."""
    streams = StreamStore()
    route = streams.routes([(advertiser, MARKETPLACE)]).get((advertiser, MARKETPLACE))
    hours = MetricStore().read_window(
        tenant, profile, Interval.H1, ["kw-444"], STREAMED_HOUR, STREAMED_HOUR
    )
    return route == (tenant, profile), streams.latest_hour(tenant, profile), len(hours["kw-444"])


def connect(tenant: str, profile: str) -> None:
    at = datetime.datetime.now(datetime.UTC)
    secret = SecretStore().put(tenant, profile, {"refresh_token": "r"}, at=at)
    status = ConnectionStatus.DISCONNECTED
    ConnectionStore().put(
        Connection(
            tenant_id=tenant, profile_id=profile, status=status, secret_id=secret, connected_at=at
        )
    )


@pytest.fixture(scope="module")
def world(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    paths = write(generate(CONFIG), tmp_path_factory.mktemp("deletion"))
    tenant, other = (f"del-{uuid.uuid4().hex[:8]}" for _ in range(2))
    for who, profile in ((tenant, GONE), (tenant, KEPT), (other, GONE)):
        import_account(who, profile, paths["entities"], paths["metrics"])
        drop(local_stack, who, profile)
        ScheduleStore().set(who, profile, False)
    aws_client("s3").put_object(Bucket=MODELS.name, Key=f"{other}/{GONE}/m/v.bin", Body=b"m")
    # The doomed profile: trained, scanned on schedule (alerts, incidents, notifications,
    # detection state, statistics, runs with their slices), then worked on over the API.
    trained_until = CONFIG.start + datetime.timedelta(days=CONFIG.days - 31)
    train_profile(tenant, GONE, trained_until)
    ScheduleStore().set(tenant, GONE, True)
    try:
        started = local_stack.scan(trained_until + datetime.timedelta(days=10))
    finally:
        ScheduleStore().set(tenant, GONE, False)  # its item stays: the delete removes it
    run_ids = [r["run_id"] for r in started if r["tenant_id"] == tenant]
    (run,) = [RunStore().get(tenant, r) for r in run_ids]
    assert run is not None and run.status is RunStatus.COMPLETE and run.alert_ids
    first, second = run.alert_ids[:2]
    assert call(local_stack, tenant, "PATCH", f"/alerts/{first}/acknowledge", {})[0] == 200
    body = {"is_anomaly": False, "note": "promo"}
    assert call(local_stack, tenant, "POST", f"/alerts/{second}/feedback", body)[0] == 201
    RunSlices().claim(tenant, GONE, "*", "run-held")  # a backfill slot
    # Amazon Ads connections (an item, a secret), stored disconnected: no other test's
    # schedule tick may sync these made-up credentials
    for who, profile in ((tenant, GONE), (tenant, KEPT), (other, GONE)):
        connect(who, profile)
    for who, profile, key in (
        (tenant, GONE, "gone"),
        (tenant, KEPT, "kept"),
        (other, GONE, "other"),
    ):
        stream(who, profile, ADVERTISERS[key])
    stored = AlertStore().get(tenant, first)
    assert stored is not None
    expired = stored.model_copy(update={"alert_id": "al-expired-1"})
    HistoryStore().archive(expired, datetime.datetime(2026, 1, 1))  # left the alerts table
    yield World(tenant, other, [*run.alert_ids, expired.alert_id], [*run_ids, "run-held"])


def test_a_profile_with_data_everywhere_is_deleted_and_nothing_of_it_remains(
    local_stack: LocalStack, world: World
) -> None:
    tenant, other = world.tenant, world.other
    ids = world.alert_ids + world.run_ids
    before = of_tenant_profile(tenant, GONE, ids)
    kinds = {where for where, _ in before}
    expected = {t.logical for t in TABLES if t is not IDEMPOTENCY} | {"models", "landing"}
    assert kinds == expected | {"secrets"}, sorted(expected - kinds)  # data everywhere
    kept = of_tenant_profile(tenant, KEPT, [])
    others = of_tenant_profile(other, GONE, [])
    assert kept and others
    hour = STREAMED_HOUR.isoformat()
    assert streamed(tenant, GONE, ADVERTISERS["gone"]) == (True, hour, 1)

    status, body = call(local_stack, tenant, "DELETE", f"/profiles/{GONE}")
    assert status == 200, body
    assert body["profile_id"] == GONE
    removed = body["removed"]
    assert removed["alerts"] == len(world.alert_ids) - 1  # the expired one was archived
    assert all(removed[k] > 0 for k in ("metrics", "history", "runs", "models", "incidents"))
    assert removed["secrets"] == 1 and removed["landing"] == 2 and removed["schedules"] == 1
    assert removed["connections"] == 1 and removed["stream_routes"] == 1

    assert of_tenant_profile(tenant, GONE, ids) == []
    assert streamed(tenant, GONE, ADVERTISERS["gone"]) == (False, None, 0)
    assert streamed(tenant, KEPT, ADVERTISERS["kept"]) == (True, hour, 1)
    assert streamed(other, GONE, ADVERTISERS["other"]) == (True, hour, 1)
    assert of_tenant_profile(tenant, KEPT, []) == kept
    assert of_tenant_profile(other, GONE, []) == others
    # gone for the API too; a second delete says it is gone
    assert call(local_stack, tenant, "GET", f"/models?profile_id={GONE}")[0] == 404
    status, body = call(local_stack, tenant, "DELETE", f"/profiles/{GONE}")
    assert status == 404 and "profile" in json.dumps(body)


def test_a_tenant_cannot_delete_another_tenants_profile(
    local_stack: LocalStack, world: World, tenant: str
) -> None:
    before = of_tenant_profile(world.tenant, KEPT, [])
    status, _ = call(local_stack, tenant, "DELETE", f"/profiles/{KEPT}")
    assert status == 404
    assert of_tenant_profile(world.tenant, KEPT, []) == before


def test_the_cli_deletes_with_yes_and_refuses_without(
    local_stack: LocalStack, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from tripwire.cli import main

    args = ["profile", "delete", "--profile", KEPT, "--tenant", world.tenant]
    assert main(args) == 2  # not a terminal and no --yes: nothing deleted
    assert of_tenant_profile(world.tenant, KEPT, [])
    assert main([*args, "--yes"]) == 0
    assert f"deleted profile {KEPT} of {world.tenant}: " in capsys.readouterr().out
    assert of_tenant_profile(world.tenant, KEPT, []) == []
    assert main([*args, "--yes"]) == 1  # deleted already
    assert "nothing deleted" in capsys.readouterr().err


def test_unknown_or_malformed_ids(local_stack: LocalStack, tenant: str) -> None:
    assert call(local_stack, tenant, "DELETE", "/profiles/nope")[0] == 404
    status, body = call(local_stack, tenant, "DELETE", "/profiles/a%20b")
    assert status == 422 and body["detail"][0]["loc"][0] == "path"
