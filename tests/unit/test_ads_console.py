"""Amazon Ads console reports (CSV and XLSX downloads) read into validated keyword rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.data.samples import report_rows, write_ads_samples
from tripwire.ingest.ads_console import ReportRows, parse_amount, read_console_report
from tripwire.ingest.csv_files import Collector
from tripwire.ingest.errors import ImportRejected

ADS = Path(__file__).parents[1] / "data" / "ads"


def read(name: str, skip: bool = False) -> tuple[ReportRows, Collector]:
    parsed, collector = ReportRows("A1"), Collector(skip)
    read_console_report(ADS / name, parsed, collector)
    return parsed, collector


@pytest.mark.parametrize(
    ("cell", "number", "symbol"),
    [
        ("$1,234.56", 1234.56, "$"),
        ("1.234,56 €", 1234.56, "€"),
        ("¥1,200", 1200.0, "¥"),
        ("1,234", 1234.0, ""),
        ("12,5", 12.5, ""),
        ("CA$5.00", 5.0, "CA$"),
        ("3,00 zł", 3.0, "zł"),
        (7, 7.0, ""),
    ],
)
def test_amounts_are_read_as_the_console_writes_them(
    cell: object, number: float, symbol: str
) -> None:
    assert parse_amount(cell) == (number, symbol, None)


@pytest.mark.parametrize("cell", ["$12.3O", "12.3O", "-", "$1$"])
def test_a_cell_that_is_no_number_says_so(cell: str) -> None:
    value, _, problem = parse_amount(cell)
    assert value is None and problem and "not a number" in problem


@pytest.mark.parametrize("name", ["sp_targeting_report.csv", "sp_targeting_report.xlsx"])
def test_the_sample_report_maps_to_account_portfolio_campaign_keyword(name: str) -> None:
    parsed, collector = read(name)
    truth = report_rows()
    assert parsed.rows == len(truth) and not collector.errors
    assert parsed.currency == "USD"
    types = sorted(e.entity_type.value for e in parsed.entities.values())
    keywords = [e for e in parsed.entities.values() if e.entity_type == "keyword"]
    assert len(keywords) == len({r["keyword_id"] for r in truth})
    assert types.count("portfolio") == len({r["portfolio"] for r in truth if r["portfolio"]})
    assert types.count("campaign") == len({r["campaign"] for r in truth})
    # every leaf's day carries the report's numbers, thousands separators and $ removed
    first = truth[1]
    keyword = next(k for k in keywords if k.name.startswith(first["targeting"] + " ["))
    values = parsed.leaves[keyword.entity_id][first["date"].isoformat()]
    assert values == pytest.approx(
        (first["impressions"], first["clicks"], first["spend"], first["sales"], first["orders"])
    )


def test_csv_and_xlsx_downloads_of_one_report_read_the_same() -> None:
    csv_rows, _ = read("sp_targeting_report.csv")
    xlsx_rows, _ = read("sp_targeting_report.xlsx")
    assert csv_rows.entities == xlsx_rows.entities
    assert csv_rows.leaves == xlsx_rows.leaves


def test_campaigns_without_portfolio_sit_under_the_account() -> None:
    parsed, _ = read("sp_targeting_report.csv")
    loose = {r["campaign"] for r in report_rows() if not r["portfolio"]}
    campaigns = [e for e in parsed.entities.values() if e.entity_type == "campaign"]
    assert loose and {c.name for c in campaigns if c.parent_id == "A1"} == loose


@pytest.mark.parametrize(
    ("name", "line", "column", "words"),
    [
        ("console_missing_column.csv", 1, "Spend", "column is missing"),
        ("console_bad_number.csv", 5, "Spend", "is not a number"),
        ("console_duplicate_row.csv", 5, "Date", "already has a row for 2026-01-01"),
        ("console_unknown_currency.csv", 5, "Currency", "unknown currency 'XBT'"),
    ],
)
def test_a_broken_report_names_file_line_and_column(
    name: str, line: int, column: str, words: str
) -> None:
    with pytest.raises(ImportRejected) as rejected:
        read(name)
    error = rejected.value.errors[0]
    assert (error.source, error.line, error.field) == (name, line, column)
    assert words in error.message


def test_skipping_bad_rows_keeps_the_others_and_reports_each() -> None:
    parsed, collector = read("console_bad_number.csv", skip=True)
    assert [(e.line, e.field) for e in collector.errors] == [(5, "Spend")]
    assert parsed.rows == 11  # 12 rows in the file, one skipped


def test_one_report_is_one_currency() -> None:
    parsed = ReportRows("A1")
    assert parsed.set_currency("EUR", "a.csv", 2, "Currency") is None
    problem = parsed.set_currency("USD", "a.csv", 9, "Currency")
    assert problem and "differs from EUR (a.csv line 2)" in problem


def test_the_samples_are_what_the_project_code_writes(tmp_path: Path) -> None:
    written = write_ads_samples(tmp_path)
    for name, path in written.items():
        if name.endswith(".xlsx"):  # zip timestamps differ; its cells are compared above
            continue
        assert path.read_bytes() == (ADS / name).read_bytes(), name
