"""The Amazon Ads API sync through the local stack, against its Amazon Ads stand-in over
HTTP: ``PUT /profiles/{id}/connection`` → the schedule → one sync message → the worker's
production client (LWA token, a report needing several polls, a 429 storm) → the file
import path → the profile's scan, which sees the new day; a restated day replacing its
provisional figures without a duplicate; a revoked token disconnecting the profile with
one notification. The tests run in order on one xdist worker (one account, day by day)."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tripwire import cli
from tripwire.demo.ads_book import SyntheticAdsBook
from tripwire.demo.config import GeneratorConfig
from tripwire.domain import Interval
from tripwire.domain.runs import RunStatus
from tripwire.local.auth import issue_token
from tripwire.local.notifications import LocalNotifications
from tripwire.local.stack import LocalStack
from tripwire.service import fanout
from tripwire.service.ads_sync import HISTORY_DAYS, SyncRefused, sync_profile
from tripwire.service.train import train_profile
from tripwire.store.catalog import CatalogStore
from tripwire.store.connections import ConnectionStore
from tripwire.store.metrics import MetricStore
from tripwire.store.provision import aws_client
from tripwire.store.schedule import ScheduleStore
from tripwire.store.tables import METADATA

pytestmark = [
    pytest.mark.integration,
    pytest.mark.usefixtures("local_stack"),
    pytest.mark.xdist_group("ads_sync"),
]
PROFILE = "acme-us"
ADS_PROFILE = "4061029384"
CLIENT_ID = "amzn1.application-oa2-client.sync-test"
CLIENT_SECRET = "client-secret-never-shown"
BOOK = SyntheticAdsBook(
    GeneratorConfig(seed=3, keywords=40, campaigns=4, portfolios=2, days=90),
    ads_profile_id=ADS_PROFILE,
)
KEYWORD = "kw-A1-K00001"


@dataclass
class Account:
    tenant: str
    refresh_token: str
    day: dt.date  # the first schedule's date: the first sync pulls up to the day before


def _call(
    stack: LocalStack, tenant: str, method: str, path: str, body: Any = None
) -> tuple[int, str]:
    token = issue_token(tenant, "ana", directory=stack.directory)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(stack.api_url + path, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as failed:
        return failed.code, failed.read().decode()


def _tick(stack: LocalStack, tenant: str, day: dt.date) -> dict[str, str] | None:
    """One schedule tick on ``day`` with the stand-in's clock there; this tenant's entry."""
    stack.ads.today = day
    mine = [r for r in stack.scan(day) if r["tenant_id"] == tenant]
    assert len(mine) <= 1, mine
    return mine[0] if mine else None


def _sales(tenant: str, day: dt.date) -> float:
    start = dt.datetime.combine(day, dt.time())
    series = MetricStore().read_window(tenant, PROFILE, Interval.D1, [KEYWORD], start, start)
    return series[KEYWORD][day.isoformat()][3]


def _final_sales(day: dt.date) -> float:
    (row,) = [r for r in BOOK(ADS_PROFILE, day, day) if f"kw-{r['keywordId']}" == KEYWORD]
    return float(row["sales7d"])


@pytest.fixture(scope="module")
def account(local_stack: LocalStack) -> Iterator[Account]:
    tenant = f"adsync-{uuid.uuid4().hex[:8]}"
    refresh = f"Atzr|{uuid.uuid4().hex}"
    local_stack.ads.book = BOOK
    local_stack.ads.account(refresh, CLIENT_ID, CLIENT_SECRET, ADS_PROFILE)
    local_stack.ads.polls = 4  # PENDING, PROCESSING, PROCESSING, COMPLETED
    try:
        yield Account(tenant, refresh, BOOK.last_day - dt.timedelta(days=4))
    finally:
        local_stack.ads.polls = 2
        ConnectionStore().delete(tenant, PROFILE)  # other modules' ticks must skip it
        ScheduleStore().set(tenant, PROFILE, False)


def _connect(stack: LocalStack, account: Account, **extra: Any) -> tuple[int, str]:
    body = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": account.refresh_token,
        "ads_profile_id": ADS_PROFILE,
        **extra,
    }
    return _call(stack, account.tenant, "PUT", f"/profiles/{PROFILE}/connection", body)


def test_bad_input_is_a_422_naming_the_field(local_stack: LocalStack, account: Account) -> None:
    status, text = _connect(local_stack, account, lookback_days=30)
    assert status == 422 and json.loads(text)["detail"][0]["loc"] == ["body", "lookback_days"]
    status, text = _connect(local_stack, account, region="SA")
    assert status == 422 and json.loads(text)["detail"][0]["loc"] == ["body", "region"]
    status, _ = _call(local_stack, account.tenant, "GET", f"/profiles/{PROFILE}/connection")
    assert status == 404  # nothing was stored


def test_connecting_keeps_the_credentials_in_secrets_manager_only(
    local_stack: LocalStack, account: Account
) -> None:
    status, text = _connect(local_stack, account)
    assert status == 200, text
    shown = json.loads(text)
    assert shown["status"] == "connected" and shown["lookback_days"] == 3
    assert shown["last_sync_at"] is None and shown["ads_profile_id"] == ADS_PROFILE
    assert CLIENT_SECRET not in text and account.refresh_token not in text
    # the metadata item holds no secret; the secret holds all three
    items = aws_client("dynamodb").scan(TableName=METADATA.name)["Items"]
    mine = [i for i in items if account.tenant in json.dumps(i)]
    assert len(mine) == 1 and CLIENT_SECRET not in json.dumps(mine)
    assert account.refresh_token not in json.dumps(mine)
    connection = ConnectionStore().get(account.tenant, PROFILE)
    assert connection is not None
    secret = aws_client("secretsmanager").get_secret_value(SecretId=connection.secret_id)
    assert json.loads(secret["SecretString"]) == {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": account.refresh_token,
    }


def test_the_first_sync_pulls_the_history_through_polls_and_a_429_storm(
    local_stack: LocalStack, account: Account
) -> None:
    asked = len(local_stack.ads.requests)
    local_stack.ads.fail(429, 429, 429, retry_after=0)  # inside the client's retries
    local_stack.ads.token_uses = 6  # an access token's hour runs out mid-sync
    try:
        entry = _tick(local_stack, account.tenant, account.day)
    finally:
        local_stack.ads.token_uses = None
    assert entry is not None and entry["sync"] == "amazon-ads"
    # not trained yet: no scan follows the sync, so the run id names no run
    assert fanout.progress(account.tenant, entry["run_id"]) is None
    calls = local_stack.ads.requests[asked:]
    assert calls[0] == ("POST", "/auth/o2/token")  # LWA: the refresh token → access token
    # 10 authorised calls (the 429s never reach the token check) on tokens lasting 6:
    # one 401, one refresh, then the call again; then the Marketing Stream subscription
    # that follows a profile's first sync (its own client: one more token)
    assert calls.count(("POST", "/auth/o2/token")) == 2 + 1
    assert calls.count(("POST", "/streams/subscriptions")) == 2  # sp-traffic, sp-conversion
    assert calls.count(("POST", "/portfolios/list")) == 1  # the names a report leaves out
    assert calls.count(("POST", "/reporting/reports")) == 2 + 3  # two reports, 3 × 429
    polls = [c for c in calls if c[0] == "GET" and c[1].startswith("/reporting/reports/")]
    assert len(polls) == 2 * 4 + 1  # each report: PENDING, PROCESSING ×2, COMPLETED; one 401
    assert sum(1 for c in calls if c[1].startswith("/download/")) == 2
    _, text = _call(local_stack, account.tenant, "GET", f"/profiles/{PROFILE}/connection")
    shown = json.loads(text)
    last = account.day - dt.timedelta(days=1)
    assert shown["last_sync_last"] == last.isoformat()
    first = last - dt.timedelta(days=HISTORY_DAYS - 1)
    assert shown["last_sync_first"] == first.isoformat()
    assert shown["last_sync_rows"] == HISTORY_DAYS * 40
    portfolios = {
        e.entity_id.removeprefix("pf-"): e.name
        for e in CatalogStore().get_hierarchy(account.tenant, PROFILE)[1]
        if e.entity_type == "portfolio"
    }
    assert portfolios == BOOK.portfolios(ADS_PROFILE) and len(portfolios) == 2
    # yesterday is provisional: 60 % of its final sales so far
    assert _sales(account.tenant, last) == pytest.approx(round(_final_sales(last) * 0.6, 2))


def test_the_next_sync_restates_recent_days_and_the_scan_sees_the_new_day(
    local_stack: LocalStack, account: Account
) -> None:
    restated = account.day - dt.timedelta(days=1)
    trained_until = restated - dt.timedelta(days=3)
    train_profile(account.tenant, PROFILE, trained_until)
    ScheduleStore().set(account.tenant, PROFILE, True)
    local_stack.ads.fail(*[429] * 5, retry_after=0)  # a storm longer than one delivery
    day = account.day + dt.timedelta(days=1)
    asked = len(local_stack.ads.requests)
    entry = _tick(local_stack, account.tenant, day)
    assert entry is not None
    calls = local_stack.ads.requests[asked:]
    # the first delivery gave up after 5 × 429; the queue redelivered it, which synced
    assert calls.count(("POST", "/auth/o2/token")) == 2
    assert calls.count(("POST", "/reporting/reports")) == 5 + 1
    run = fanout.progress(account.tenant, entry["run_id"])
    assert run is not None and run.status is RunStatus.COMPLETE, run
    # the scan after the sync scored every day since training, the new one included
    assert (
        run.rows_processed
        == (day - dt.timedelta(days=1) - trained_until).days * run.entities_checked
    )
    # the restated day replaced its provisional figures: one point, the new value
    assert _sales(account.tenant, restated) == pytest.approx(
        round(_final_sales(restated) * 0.85, 2)
    )
    first = restated - dt.timedelta(days=HISTORY_DAYS - 1)
    window = MetricStore().read_window(
        account.tenant,
        PROFILE,
        Interval.D1,
        [KEYWORD],
        dt.datetime.combine(first - dt.timedelta(days=5), dt.time()),
        dt.datetime.combine(day, dt.time()),
    )[KEYWORD]
    assert len(window) == HISTORY_DAYS + 1  # the history and one new day, nothing twice
    connection = ConnectionStore().get(account.tenant, PROFILE)
    assert connection is not None and connection.last_sync_rows == 3 * 40
    # a redelivered sync message syncs again (a merge: nothing changes) but starts no
    # second scan: its run exists
    again = fanout.ScanMessage(
        kind="sync", tenant_id=account.tenant, profile_id=PROFILE, run_id=run.run_id, end=day
    )
    assert fanout.sync_then_scan(again) is None
    assert _sales(account.tenant, restated) == pytest.approx(
        round(_final_sales(restated) * 0.85, 2)
    )


def test_a_revoked_token_disconnects_the_profile_and_notifies_once(
    local_stack: LocalStack, account: Account
) -> None:
    notifications = local_stack.notifications
    assert isinstance(notifications, LocalNotifications)
    local_stack.ads.revoke(account.refresh_token)
    day = account.day + dt.timedelta(days=2)
    entry = _tick(local_stack, account.tenant, day)
    assert entry is not None and entry.get("sync") == "amazon-ads"
    run = fanout.progress(account.tenant, entry["run_id"])
    assert run is not None and run.status is RunStatus.COMPLETE  # the data there is scanned
    _, text = _call(local_stack, account.tenant, "GET", f"/profiles/{PROFILE}/connection")
    shown = json.loads(text)
    assert shown["status"] == "disconnected" and "invalid_grant" in shown["reason"]
    # the next tick scans without a sync, and says nothing again
    later = _tick(local_stack, account.tenant, day + dt.timedelta(days=1))
    assert later is not None and "sync" not in later
    lost = []
    for _ in range(100):  # SNS → the notifier → Slack runs beside the worker
        lost = [
            m
            for m in notifications.slack_messages
            if account.tenant in json.dumps(m) and "disconnected" in m.get("text", "")
        ]
        if lost:
            break
        time.sleep(0.1)
    assert len(lost) == 1, lost
    assert "connect it again" in json.dumps(lost[0])


def test_a_sync_that_keeps_failing_ends_in_the_dlq(
    local_stack: LocalStack, new_tenant: Any
) -> None:
    tenant, refresh = new_tenant(), f"Atzr|{uuid.uuid4().hex}"
    local_stack.ads.account(refresh, CLIENT_ID, CLIENT_SECRET, ADS_PROFILE)
    status, _ = _connect(local_stack, Account(tenant, refresh, BOOK.last_day))
    assert status == 200
    sqs = aws_client("sqs")
    local_stack.ads.fail(*[503] * 5 * 3, retry_after=0)  # every attempt of every delivery
    try:
        entry = _tick(local_stack, tenant, BOOK.last_day)
        connection = ConnectionStore().get(tenant, PROFILE)
    finally:
        ConnectionStore().delete(tenant, PROFILE)
    # a transient failure never disconnects: the next day's schedule tries again
    assert connection is not None and connection.status.value == "connected"
    assert connection.last_sync_at is None
    assert entry is not None
    parked = []
    for _ in range(20):  # the DLQ holds every stack's parked messages: find this one
        answer = sqs.receive_message(
            QueueUrl=local_stack.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        )
        parked += [
            json.loads(m["Body"])
            for m in answer.get("Messages", [])
            if json.loads(m["Body"]).get("tenant_id") == tenant
        ]
        if parked:
            break
    assert parked and parked[0]["kind"] == "sync" and parked[0]["run_id"] == entry["run_id"]


@pytest.mark.parametrize("opened", [("5550001",), ("5550001", "5550002")])
def test_without_an_ads_profile_the_first_sync_takes_the_only_one(
    local_stack: LocalStack, new_tenant: Any, opened: tuple[str, ...]
) -> None:
    tenant, refresh = new_tenant(), f"Atzr|{uuid.uuid4().hex}"
    local_stack.ads.account(refresh, CLIENT_ID, CLIENT_SECRET, *opened)
    body = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": refresh}
    status, text = _call(local_stack, tenant, "PUT", f"/profiles/{PROFILE}/connection", body)
    assert status == 200 and json.loads(text)["ads_profile_id"] is None
    try:
        if len(opened) == 1:
            synced = sync_profile(tenant, PROFILE, BOOK.last_day)
            assert synced.status == "synced"  # (the book serves no rows for it: no activity)
            assert synced.warnings and "no activity" in synced.warnings[0]
        else:
            with pytest.raises(SyncRefused, match="opens 2 Amazon Ads profiles"):
                sync_profile(tenant, PROFILE, BOOK.last_day)
        connection = ConnectionStore().get(tenant, PROFILE)
    finally:
        ConnectionStore().delete(tenant, PROFILE)
    assert connection is not None
    if len(opened) == 1:
        assert connection.ads_profile_id == opened[0] and connection.last_error is None
    else:
        assert connection.ads_profile_id is None and "5550002" in str(connection.last_error)


def test_the_cli_connects_and_syncs(
    local_stack: LocalStack,
    new_tenant: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tenant, refresh = new_tenant(), f"Atzr|{uuid.uuid4().hex}"
    local_stack.ads.account(refresh, CLIENT_ID, CLIENT_SECRET, ADS_PROFILE)
    local_stack.ads.book = BOOK
    as_of = BOOK.last_day + dt.timedelta(days=1)
    local_stack.ads.today = as_of
    monkeypatch.setenv("TRIPWIRE_ADS_REFRESH_TOKEN", refresh)  # kept out of the command line
    args = ["connect", "amazon-ads", "--tenant", tenant, "--profile", PROFILE]
    args += ["--client-id", CLIENT_ID, "--ads-profile-id", ADS_PROFILE]
    try:
        assert cli.main([*args, "--lookback-days", "20"]) == 2  # 1-14
        assert (
            "--lookback-days: Input should be less than or equal to 14" in capsys.readouterr().err
        )
        synced = ["--client-secret", CLIENT_SECRET, "--sync", "--as-of", as_of.isoformat()]
        assert cli.main([*args, *synced]) == 0
        said = capsys.readouterr().out
        assert f"connected to Amazon Ads profile {ADS_PROFILE}" in said
        assert f"{HISTORY_DAYS * 40} rows of" in said and refresh not in said
        again = ["sync", "--tenant", tenant, "--profile", PROFILE, "--as-of", as_of.isoformat()]
        assert cli.main(again) == 0
        assert "120 rows of" in capsys.readouterr().out  # 3 days × 40 keywords
    finally:
        ConnectionStore().delete(tenant, PROFILE)


def test_connecting_again_resumes_the_sync(local_stack: LocalStack, account: Account) -> None:
    fresh = f"Atzr|{uuid.uuid4().hex}"
    local_stack.ads.account(fresh, CLIENT_ID, CLIENT_SECRET, ADS_PROFILE)
    status, text = _connect(local_stack, Account(account.tenant, fresh, account.day))
    assert status == 200 and json.loads(text)["status"] == "connected"
    # the same Ads profile: the sync history is kept, no second full backfill
    assert json.loads(text)["last_sync_last"] is not None
    connection = ConnectionStore().get(account.tenant, PROFILE)
    assert connection is not None
    status, text = _call(local_stack, account.tenant, "DELETE", f"/profiles/{PROFILE}/connection")
    assert status == 200 and json.loads(text)["status"] == "disconnected"
    assert json.loads(text)["reason"] == "disconnected by ana"
    secrets = aws_client("secretsmanager")
    with pytest.raises(secrets.exceptions.ResourceNotFoundException):
        secrets.get_secret_value(SecretId=connection.secret_id)
    status, _ = _call(local_stack, account.tenant, "GET", "/profiles/nobody/connection")
    assert status == 404
