"""The landing bucket on the local stack: a file dropped under ``<tenant>/<profile>/`` is
imported through S3's notification → the landing queue → the real landing function, and
its outcome is written beside it as ``<key>.result.json`` and listed by ``GET /imports``."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.data.samples import report_rows
from tripwire.domain.entities import Profile, ProfileKind
from tripwire.domain.metrics import Interval
from tripwire.local.auth import issue_token
from tripwire.local.stack import LocalStack
from tripwire.store.catalog import CatalogStore
from tripwire.store.metrics import MetricStore
from tripwire.store.provision import aws_client
from tripwire.store.tables import LANDING

pytestmark = pytest.mark.integration
DATA = Path(__file__).parents[1] / "data"
ADS, OHLCV = DATA / "ads", DATA / "ohlcv"
JAN = (datetime(2026, 1, 1), datetime(2026, 1, 31))


@pytest.fixture
def known(new_tenant: Callable[[], str]) -> str:
    """A tenant the stack knows: it has a profile (tenants are provisioned, not dropped)."""
    tenant = new_tenant()
    CatalogStore().put_profile(Profile(tenant_id=tenant, profile_id="first"))
    return tenant


def drop(stack: LocalStack, key: str, body: bytes, **metadata: str) -> dict[str, Any] | None:
    """Put a file in the landing bucket, wait for the landing queue to drain, and return
    the report written beside it (None: none was)."""
    s3 = aws_client("s3")
    s3.put_object(Bucket=LANDING.name, Key=key, Body=body, Metadata=metadata)
    assert stack.landing is not None
    stack.landing.drain(timeout=120)
    return report_of(key)


def report_of(key: str) -> dict[str, Any] | None:
    try:
        body = aws_client("s3").get_object(Bucket=LANDING.name, Key=f"{key}.result.json")["Body"]
    except aws_client("s3").exceptions.NoSuchKey:
        return None
    report: dict[str, Any] = json.loads(body.read())
    return report


def keys_under(prefix: str) -> list[str]:
    listed = aws_client("s3").list_objects_v2(Bucket=LANDING.name, Prefix=prefix)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def imports(stack: LocalStack, tenant: str, query: str = "") -> tuple[int, Any]:
    token = issue_token(tenant, "ana", directory=stack.directory)
    request = urllib.request.Request(
        f"{stack.api_url}/imports{query}", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def account_totals(tenant: str, profile: str) -> dict[str, tuple[float, ...]]:
    return MetricStore().read_window(tenant, profile, Interval.D1, [profile], *JAN).get(profile, {})


# -- a file that imports ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["sp_targeting_report.csv", "sp_targeting_report.xlsx"])
def test_a_dropped_console_report_is_imported_and_reported_beside_it(
    local_stack: LocalStack, known: str, name: str
) -> None:
    key = f"{known}/acme-us/{name}"
    report = drop(local_stack, key, (ADS / name).read_bytes())

    assert report is not None
    assert report["status"] == "imported", report["reason"]
    assert (report["format"], report["tenant_id"], report["profile_id"]) == (
        "ads-console",
        known,
        "acme-us",
    )
    assert report["rows"] == len(report_rows()) and report["items_changed"] > 0
    assert report["errors"] == [] and report["skipped"] == []
    day = [r for r in report_rows() if r["date"].isoformat() == "2026-01-03"]
    assert account_totals(known, "acme-us")["2026-01-03"][0] == sum(r["impressions"] for r in day)
    # The report is beside the file, and writing it imported nothing more.
    assert keys_under(f"{known}/acme-us/") == [key, f"{key}.result.json"]

    status, listed = imports(local_stack, known, "?profile_id=acme-us")
    assert status == 200 and listed["items"] == [report]


def test_an_api_report_and_an_ohlcv_file_are_told_apart_by_their_content(
    local_stack: LocalStack, known: str
) -> None:
    api = drop(
        local_stack,
        f"{known}/ads/sp_targeting.json.gz",
        (ADS / "sp_targeting.json.gz").read_bytes(),
    )
    bars = drop(local_stack, f"{known}/US/AAPX.csv", (OHLCV / "us" / "AAPX.csv").read_bytes())

    assert api is not None and (api["status"], api["format"]) == ("imported", "ads-api")
    assert bars is not None and (bars["status"], bars["format"]) == ("imported", "ohlcv")
    market = CatalogStore().get_profile(known, "US")
    assert market is not None and market.kind is ProfileKind.MARKET
    _, entities = CatalogStore().get_hierarchy(known, "US")
    assert {e.entity_id for e in entities} == {"US", "US-AAPX"}


def test_options_ride_on_the_objects_metadata(local_stack: LocalStack, known: str) -> None:
    key = f"{known}/acme-us/console_bad_number.csv"
    body = (ADS / "console_bad_number.csv").read_bytes()

    report = drop(local_stack, key, body, **{"skip-bad-rows": "true"})

    assert report is not None and report["status"] == "imported"
    assert [(s["line"], s["field"]) for s in report["skipped"]] == [(5, "Spend")]
    assert "1 bad rows skipped" in report["reason"]


# -- files that do not import: a report says why, nothing is written ---------------------


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("console_bad_number.csv", "console_bad_number.csv line 5"),
        ("console_missing_column.csv", "column"),
        ("sp_purchased_product_report.csv", "unsupported report type"),
    ],
)
def test_a_bad_file_writes_nothing_and_its_report_says_why(
    local_stack: LocalStack, known: str, name: str, why: str
) -> None:
    key = f"{known}/acme-us/{name}"
    report = drop(local_stack, key, (ADS / name).read_bytes())

    assert report is not None and report["status"] == "refused"
    assert why in report["reason"] and report["errors"]
    assert report["rows"] == report["items_changed"] == 0
    assert CatalogStore().get_profile(known, "acme-us") is None
    assert account_totals(known, "acme-us") == {}


@pytest.mark.parametrize(
    ("name", "body", "why"),
    [
        ("empty.csv", b"", "is empty"),
        ("console_no_rows.csv", (ADS / "console_no_rows.csv").read_bytes(), "no data rows"),
        ("console_no_rows.xlsx", (ADS / "console_no_rows.xlsx").read_bytes(), "no data rows"),
    ],
)
def test_a_file_that_yields_no_rows_is_an_error(
    local_stack: LocalStack, known: str, name: str, body: bytes, why: str
) -> None:
    report = drop(local_stack, f"{known}/acme-us/{name}", body)

    assert report is not None and report["status"] == "refused"
    assert why in report["reason"]
    assert CatalogStore().get_profile(known, "acme-us") is None


@pytest.mark.parametrize(
    ("where", "why"),
    [
        ("{tenant}/report.csv", "has 1 '/'"),
        ("{tenant}/acme-us/2026/report.csv", "has 3 '/'"),
        ("{tenant}/acme us/report.csv", "the profile 'acme us' is not an id"),
    ],
)
def test_a_key_not_shaped_tenant_profile_file_is_refused_saying_why(
    local_stack: LocalStack, known: str, where: str, why: str
) -> None:
    key = where.format(tenant=known)
    report = drop(local_stack, key, (ADS / "sp_targeting_report.csv").read_bytes())

    assert report is not None and report["status"] == "refused"
    assert why in report["reason"]
    assert CatalogStore().list_profiles(known) == [Profile(tenant_id=known, profile_id="first")]


def test_an_unknown_tenant_is_refused(
    local_stack: LocalStack, new_tenant: Callable[[], str]
) -> None:
    stranger = new_tenant()
    report = drop(
        local_stack, f"{stranger}/acme-us/r.csv", (ADS / "sp_targeting_report.csv").read_bytes()
    )

    assert report is not None and report["status"] == "refused"
    assert f"tenant {stranger!r} is not known" in report["reason"]
    assert CatalogStore().list_profiles(stranger) == []


def test_a_file_of_an_unsupported_type_is_refused(local_stack: LocalStack, known: str) -> None:
    report = drop(local_stack, f"{known}/acme-us/report.pdf", b"%PDF-1.7")

    assert report is not None and "unsupported file type '.pdf'" in report["reason"]


def test_an_unknown_option_is_refused(local_stack: LocalStack, known: str) -> None:
    body = (ADS / "sp_targeting_report.csv").read_bytes()
    report = drop(local_stack, f"{known}/acme-us/r.csv", body, colour="blue")

    assert report is not None and report["status"] == "refused"
    assert report["errors"][0]["field"] == "x-amz-meta-colour"
    assert CatalogStore().get_profile(known, "acme-us") is None


# -- the same file twice --------------------------------------------------------------


def test_the_same_file_twice_changes_nothing(local_stack: LocalStack, known: str) -> None:
    key = f"{known}/acme-us/sp_targeting_report.csv"
    body = (ADS / "sp_targeting_report.csv").read_bytes()
    first = drop(local_stack, key, body)
    totals = account_totals(known, "acme-us")

    again = drop(local_stack, key, body)  # uploaded again: the same ETag

    assert again == first  # the report was not rewritten
    assert account_totals(known, "acme-us") == totals


def test_a_redelivered_notification_changes_nothing(local_stack: LocalStack, known: str) -> None:
    key = f"{known}/acme-us/sp_targeting_report.csv"
    first = drop(local_stack, key, (ADS / "sp_targeting_report.csv").read_bytes())
    assert first is not None
    etag = aws_client("s3").head_object(Bucket=LANDING.name, Key=key)["ETag"].strip('"')
    event = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": LANDING.name}, "object": {"key": key, "eTag": etag}},
            }
        ]
    }
    sqs = aws_client("sqs")
    queue = local_stack.env["TRIPWIRE_LANDING_QUEUE_URL"]
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(event))  # S3: at least once
    assert local_stack.landing is not None
    local_stack.landing.drain(timeout=120)

    assert report_of(key) == first


def test_a_changed_file_is_imported_again(local_stack: LocalStack, known: str) -> None:
    key = f"{known}/acme-us/report.csv"
    bad = drop(local_stack, key, (ADS / "console_bad_number.csv").read_bytes())
    fixed = drop(local_stack, key, (ADS / "sp_targeting_report.csv").read_bytes())

    assert bad is not None and bad["status"] == "refused"
    assert fixed is not None and fixed["status"] == "imported" and fixed["etag"] != bad["etag"]


# -- GET /imports ----------------------------------------------------------------------


def test_imports_are_listed_newest_first_for_the_callers_tenant_only(
    local_stack: LocalStack, known: str, new_tenant: Callable[[], str]
) -> None:
    body = (ADS / "sp_targeting_report.csv").read_bytes()
    drop(local_stack, f"{known}/acme-us/a.csv", body)
    drop(local_stack, f"{known}/acme-us/b.csv", b"")
    drop(local_stack, f"{known}/other/c.csv", body)
    other = new_tenant()
    CatalogStore().put_profile(Profile(tenant_id=other, profile_id="acme-us"))

    status, mine = imports(local_stack, known, "?profile_id=acme-us")
    _, everything = imports(local_stack, known)
    _, one = imports(local_stack, known, "?limit=1")
    _, theirs = imports(local_stack, other, "?profile_id=acme-us")

    assert status == 200
    assert [(r["key"].rsplit("/")[-1], r["status"]) for r in mine["items"]] == [
        ("b.csv", "refused"),
        ("a.csv", "imported"),
    ]
    assert [r["key"].rsplit("/")[-1] for r in everything["items"]] == ["c.csv", "b.csv", "a.csv"]
    assert [r["key"] for r in one["items"]] == [everything["items"][0]["key"]]
    assert theirs == {"items": []}


def test_imports_query_is_validated(local_stack: LocalStack, known: str) -> None:
    assert imports(local_stack, known, "?limit=0")[0] == 422
    assert imports(local_stack, known, "?profile_id=a%2Fb")[0] == 422


# -- the local stack keeps them --------------------------------------------------------


def test_the_local_stack_keeps_dropped_files_and_their_reports(tmp_path: Path) -> None:
    tenant = f"keep-{uuid.uuid4().hex[:8]}"
    key = f"{tenant}/acme-us/sp_targeting_report.csv"
    body = (ADS / "sp_targeting_report.csv").read_bytes()
    folders = {"directory": tmp_path / "state", "data": tmp_path / "data"}
    with socket.socket() as probe:  # one moto port for both, as test_local_persistence
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    kept = {"prefix": "tripwire-landing-keep", "aws_port": port, "notifications": False}
    with LocalStack(**kept, **folders) as stack:  # type: ignore[arg-type]
        CatalogStore().put_profile(Profile(tenant_id=tenant, profile_id="first"))
        report = drop(stack, key, body)
    assert report is not None and report["status"] == "imported"

    with LocalStack(**kept, **folders) as stack:  # type: ignore[arg-type]
        assert keys_under(f"{tenant}/") == [key, f"{key}.result.json"]
        assert drop(stack, key, body) == report  # the restored report: still a redelivery
        assert imports(stack, tenant)[1] == {"items": [report]}


def test_tripwire_land_drops_a_file_and_prints_its_report(
    local_stack: LocalStack, known: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tripwire.cli import main as cli

    code = cli(["land", str(ADS / "sp_targeting_report.csv"), "--tenant", known, "--profile", "P1"])

    assert code == 0
    assert "rows imported into P1 as ads-console" in capsys.readouterr().out
    assert (
        cli(["land", str(ADS / "console_no_rows.csv"), "--tenant", known, "--profile", "P1"]) == 2
    )


def test_the_sample_event_is_handled_by_the_landing_function(
    local_stack: LocalStack, known: str
) -> None:
    """events/landing_sqs.json (an S3 notification in an SQS record), invoked as Lambda would."""
    from tripwire.local.functions import invoke

    event = json.loads((Path(__file__).parents[2] / "events" / "landing_sqs.json").read_text())
    notification = json.loads(event["Records"][0]["body"])
    record = notification["Records"][0]["s3"]
    record["bucket"]["name"] = LANDING.name
    record["object"]["key"] = record["object"]["key"].replace("acme/", f"{known}/", 1)
    event["Records"][0]["body"] = json.dumps(notification)
    key = f"{known}/acme-us/Sponsored Products Targeting report.csv"
    body = (ADS / "sp_targeting_report.csv").read_bytes()
    aws_client("s3").put_object(Bucket=LANDING.name, Key=key, Body=body)
    assert local_stack.landing is not None
    local_stack.landing.drain(timeout=120)  # the bucket's own notification first

    result = invoke("landing", event)  # the same notification again: a redelivery

    assert result == {"batchItemFailures": []}
    report = report_of(key)
    assert report is not None and report["status"] == "imported"
