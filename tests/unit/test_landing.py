"""The landing bucket's rules that need no AWS: where a key says a file goes, which reader
a file needs, the options a drop may carry, and which notifications name a file to import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from tripwire.domain.landing import (
    BadKey,
    LandingFormat,
    LandingKey,
    LandingOptions,
    is_report,
    report_key,
)
from tripwire.ingest.errors import ImportRejected
from tripwire.ingest.formats import detect_format
from tripwire.service.landing import object_keys

DATA = Path(__file__).parents[1] / "data"


def test_a_key_names_tenant_profile_and_file() -> None:
    assert LandingKey.parse("acme/A1/Sponsored Products Targeting report.xlsx") == LandingKey(
        tenant="acme", profile="A1", file="Sponsored Products Targeting report.xlsx"
    )


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("report.csv", "has 0 '/'"),
        ("acme/report.csv", "has 1 '/'"),
        ("acme/A1/2026/report.csv", "has 3 '/'"),
        ("/A1/report.csv", "the tenant '' is not an id"),
        ("acme/A 1/report.csv", "the profile 'A 1' is not an id"),
        ("acme/A#1/report.csv", "the profile 'A#1' is not an id"),
        (f"acme/{'p' * 129}/report.csv", "is not an id"),
        ("acme/A1/ ", "names no file"),
    ],
)
def test_a_key_not_shaped_tenant_profile_file_says_why(key: str, why: str) -> None:
    with pytest.raises(BadKey, match=why):
        LandingKey.parse(key)


def test_the_report_sits_beside_the_file_and_is_never_imported() -> None:
    assert report_key("acme/A1/r.csv") == "acme/A1/r.csv.result.json"
    assert is_report(report_key("acme/A1/r.csv"))
    assert not is_report("acme/A1/r.csv")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (DATA / "ads" / "sp_targeting_report.csv", LandingFormat.ADS_CONSOLE),
        (DATA / "ads" / "sp_search_term_report.xlsx", LandingFormat.ADS_CONSOLE),
        (DATA / "ads" / "sp_targeting.json", LandingFormat.ADS_API),
        (DATA / "ads" / "sp_targeting.json.gz", LandingFormat.ADS_API),
        (DATA / "ohlcv" / "us" / "AAPX.csv", LandingFormat.OHLCV),
        (DATA / "ohlcv" / "us_long.csv", LandingFormat.OHLCV),
    ],
    ids=lambda value: value.name if isinstance(value, Path) else str(value),
)
def test_the_format_is_told_by_the_extension_and_the_header(
    path: Path, expected: LandingFormat
) -> None:
    assert detect_format(path) is expected


def test_a_file_type_no_reader_reads_is_refused_naming_it(tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.7")
    with pytest.raises(ImportRejected, match=r"unsupported file type '\.pdf'"):
        detect_format(pdf)


def test_options_come_from_the_objects_metadata_as_s3_spells_it() -> None:
    options = LandingOptions.model_validate(
        {"currency": "INR", "attribution": "14", "date-format": "dmy", "skip-bad-rows": "true"}
    )
    assert (options.currency, options.attribution, options.date_format) == ("INR", 14, "dmy")
    assert options.skip_bad_rows and options.format is None


@pytest.mark.parametrize(
    "metadata", [{"attribution": "3"}, {"format": "pdf"}, {"colour": "blue"}, {"currency": "RUPEE"}]
)
def test_bad_options_are_refused(metadata: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        LandingOptions.model_validate(metadata)


def _notification(*records: dict[str, object]) -> str:
    return json.dumps({"Records": list(records)})


def _created(bucket: str, key: str, event: str = "ObjectCreated:Put") -> dict[str, object]:
    return {
        "eventSource": "aws:s3",
        "eventName": event,
        "s3": {"bucket": {"name": bucket}, "object": {"key": key}},
    }


def test_notifications_name_the_created_objects_keys_decoded() -> None:
    body = _notification(
        _created("landing", "acme/A1/Sponsored+Products+%282%29.csv"),
        _created("landing", "acme/A1/r.xlsx", "ObjectCreated:CompleteMultipartUpload"),
        _created("landing", "acme/A1/old.csv", "ObjectRemoved:Delete"),
    )
    assert object_keys(body, "landing") == ["acme/A1/Sponsored Products (2).csv", "acme/A1/r.xlsx"]


def test_s3s_test_event_names_nothing() -> None:
    body = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "landing"})
    assert object_keys(body, "landing") == []


def test_another_buckets_notification_is_an_error() -> None:
    with pytest.raises(ValueError, match="bucket 'other'"):
        object_keys(_notification(_created("other", "acme/A1/r.csv")), "landing")
