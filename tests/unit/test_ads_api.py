"""Amazon Ads API v3 spTargeting reports (JSON, gzip'd JSON) read into validated rows."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.data.samples import report_rows
from tripwire.ingest.ads_api import add_record, records
from tripwire.ingest.ads_console import ReportRows
from tripwire.ingest.csv_files import Collector
from tripwire.ingest.errors import ImportRejected

ADS = Path(__file__).parents[1] / "data" / "ads"


def read(path: Path, skip: bool = False) -> tuple[ReportRows, Collector]:
    parsed, collector = ReportRows("A1"), Collector(skip)
    for line, number, record in records(path):
        collector.add(add_record(path.name, line, number, record, parsed))
    return parsed, collector


def test_the_gzip_report_as_the_api_delivers_it_reads_like_the_plain_one() -> None:
    plain, _ = read(ADS / "sp_targeting.json")
    packed, _ = read(ADS / "sp_targeting.json.gz")
    assert plain.leaves == packed.leaves and plain.entities == packed.entities
    assert plain.rows == len(report_rows()) and plain.currency == "USD"


def test_ids_build_the_tree_and_measures_map_to_ppc() -> None:
    parsed, _ = read(ADS / "sp_targeting.json")
    kinds = {e.entity_type.value for e in parsed.entities.values()}
    assert kinds == {"account", "portfolio", "campaign", "keyword"}
    first = report_rows()[0]
    keywords = [e for e in parsed.entities.values() if e.entity_type == "keyword"]
    keyword = next(k for k in keywords if k.name.startswith(first["targeting"] + " ["))
    assert parsed.entities[keyword.parent_id or ""].name == first["campaign"]
    assert parsed.leaves[keyword.entity_id]["2026-01-01"] == pytest.approx(
        (first["impressions"], first["clicks"], first["spend"], first["sales"], first["orders"])
    )


def test_a_one_line_array_names_the_record(tmp_path: Path) -> None:
    body = '[{"date": "2026-01-01", "campaignId": 1, "adGroupId": 2, "keywordId": 3,'
    body += ' "impressions": 10, "clicks": 11, "cost": 1, "sales7d": 0, "purchases7d": 0}]'
    path = tmp_path / "report.json.gz"
    path.write_bytes(gzip.compress(body.encode()))
    with pytest.raises(ImportRejected) as rejected:
        read(path)
    error = rejected.value.errors[0]
    assert (error.line, error.field) == (1, "clicks")
    assert error.message.startswith("record 1: clicks (11) cannot exceed impressions (10)")


def test_json_lines_work_too(tmp_path: Path) -> None:
    path = tmp_path / "report.jsonl"
    lines = (ADS / "sp_targeting.json").read_text().splitlines()[1:-1]
    path.write_text("\n".join(line.rstrip(",") for line in lines))
    parsed, _ = read(path)
    assert parsed.rows == len(report_rows())


@pytest.mark.parametrize(
    ("name", "field", "words"),
    [
        ("api_missing_field.json", "cost", "field is missing"),
        ("api_bad_number.json", "clicks", "valid integer"),
        ("api_duplicate_row.json", "date", "already has a record for 2026-01-01"),
        ("api_unknown_currency.json", "campaignBudgetCurrencyCode", "unknown currency 'XBT'"),
    ],
)
def test_a_broken_report_names_file_line_and_field(name: str, field: str, words: str) -> None:
    with pytest.raises(ImportRejected) as rejected:
        read(ADS / name)
    error = rejected.value.errors[0]
    assert (error.source, error.line, error.field) == (name, 5, field)
    assert error.message.startswith("record 4: ") and words in error.message


def test_broken_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text((ADS / "sp_targeting.json").read_text()[:2000])
    with pytest.raises(ImportRejected, match=r"cut.json line \d+, field 'row': is not JSON"):
        read(path)


def test_skipping_bad_records_reports_each() -> None:
    parsed, collector = read(ADS / "api_bad_number.json", skip=True)
    assert [(e.line, e.field) for e in collector.errors] == [(5, "clicks")]
    assert parsed.rows == 11
