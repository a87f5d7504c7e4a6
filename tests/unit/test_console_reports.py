"""Every Amazon Ads console report type, read at the level it describes.

The fixtures (``tests/data/console_reports.py``) are generated from one account, so each
report's answer is known: a search term report sums to the targeting report, a campaign
report to the sum of its keywords, and so on.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.data.console_reports import (
    ad_group_rows,
    campaign_rows,
    placement_rows,
    product_rows,
)
from tests.data.samples import report_rows
from tripwire.ingest.ads_console import (
    ReportRows,
    decimal_mark,
    normalise_header,
    parse_amount,
    read_console_report,
)
from tripwire.ingest.csv_files import Collector
from tripwire.ingest.errors import ImportRejected

ADS = Path(__file__).parents[1] / "data" / "ads"


def read(*names: str, **options: Any) -> ReportRows:
    parsed = ReportRows("A1", **options)
    for name in names:
        read_console_report(ADS / name, parsed, Collector(False))
    return parsed


def campaign_series(parsed: ReportRows) -> dict[tuple[str, str], tuple[float, ...]]:
    """(campaign name, day) -> the campaign's own values."""
    return {
        (parsed.entities[c].name, day): values
        for c, points in parsed.own.items()
        for day, values in points.items()
    }


def expected(rows: list[dict[str, Any]], scale: float = 1.0) -> dict[tuple[str, str], Any]:
    return {
        (r["campaign"], r["date"].isoformat()): pytest.approx(
            (
                r["impressions"] * scale,
                r["clicks"],
                r["spend"] * scale,
                r["sales"] * scale,
                r["orders"],
            )
        )
        for r in rows
    }


TARGETING = read("sp_targeting_report.csv")


def test_a_search_term_report_sums_into_the_targeting_reports_keywords() -> None:
    parsed = read("sp_search_term_report.xlsx")
    assert parsed.rows > len(report_rows())  # several search terms per keyword and day
    assert parsed.leaves == TARGETING.leaves  # same ids, same sums
    assert parsed.entities == TARGETING.entities


@pytest.mark.parametrize(
    ("name", "rows"),
    [
        ("sp_campaign_report.csv", campaign_rows),
        ("sp_ad_group_report.xlsx", ad_group_rows),
        ("sp_placement_report.csv", placement_rows),
        ("sp_advertised_product_report.csv", product_rows),
    ],
)
def test_campaign_level_reports_become_their_campaigns_own_series(name: str, rows: Any) -> None:
    parsed = read(name)
    assert parsed.rows == len(rows(report_rows()))
    assert not parsed.leaves and {e.entity_type for e in parsed.entities.values()} == {
        "account", "portfolio", "campaign"
    }  # fmt: skip
    assert campaign_series(parsed) == expected(campaign_rows(report_rows()))
    # the campaigns are the targeting report's (ids from names), portfolios included
    campaigns = {e for e in parsed.entities.values() if e.entity_type == "campaign"}
    assert campaigns <= set(TARGETING.entities.values())


def test_the_nearer_level_wins_when_one_import_has_several() -> None:
    parsed = read("sp_placement_report.csv", "sp_campaign_report.csv")
    assert campaign_series(parsed) == expected(campaign_rows(report_rows()))
    both = read("sp_search_term_report.xlsx", "sp_targeting_report.csv")
    assert both.leaves == TARGETING.leaves  # not their sum


def test_an_indian_14_day_report_with_start_and_end_dates_reads_like_the_us_one() -> None:
    parsed = read("sp_targeting_14d_inr.csv")
    assert parsed.currency == "INR"  # from "Spend(INR)", "₹" and "Rs." alike
    assert parsed.leaves == TARGETING.leaves  # D/M/YYYY dates, "Exact" = "EXACT"
    assert parsed.windows == {"SP": (14, "sp_targeting_14d_inr.csv")}


def test_a_european_report_reads_its_decimal_commas_and_day_first_dots() -> None:
    parsed = read("sp_campaign_report_eur.csv")
    assert parsed.currency == "EUR"
    assert campaign_series(parsed) == expected(campaign_rows(report_rows()), scale=25)


def test_several_attribution_windows_need_a_choice() -> None:
    with pytest.raises(ImportRejected) as rejected:
        read("sp_targeting_windows.csv")
    assert "1-day, 7-day, 14-day, 30-day sales: pick one with --attribution" in str(rejected.value)
    seven = read("sp_targeting_windows.csv", attribution=7)
    assert seven.leaves == TARGETING.leaves
    fourteen = read("sp_targeting_windows.csv", attribution=14)
    key = next(iter(TARGETING.leaves))
    day = next(iter(TARGETING.leaves[key]))
    _, _, _, sales, orders = TARGETING.leaves[key][day]
    assert fourteen.leaves[key][day][3:] == pytest.approx((round(sales * 1.25, 2), orders + 1))
    with pytest.raises(ImportRejected, match="--attribution 60"):
        read("sp_targeting_windows.csv", attribution=60)


def test_one_attribution_window_per_ad_product_in_an_import(tmp_path: Path) -> None:
    text = (ADS / "sp_targeting_report.csv").read_text(encoding="utf-8-sig")
    fourteen = tmp_path / "fourteen.csv"
    fourteen.write_text(text.replace("7 Day Total", "14 Day Total"), encoding="utf-8")
    parsed = ReportRows("A1")
    read_console_report(ADS / "sp_targeting_report.csv", parsed, Collector(False))
    with pytest.raises(ImportRejected) as rejected:
        read_console_report(fourteen, parsed, Collector(False))
    assert "14-day sales, but sp_targeting_report.csv has 7-day" in str(rejected.value)
    with pytest.raises(ImportRejected, match=r"column is missing \(--attribution 14; the report"):
        read("sp_targeting_report.csv", attribution=14)  # asked for, not there: no guess


def test_sponsored_brands_and_display_reports_are_their_own_campaigns() -> None:
    brands = read("Sponsored_Brands_Keyword_report.csv")
    names = {e.name for e in brands.entities.values() if e.entity_type == "campaign"}
    assert names and all(n.endswith(" (Sponsored Brands)") for n in names)
    assert not set(brands.leaves) & set(TARGETING.leaves)  # SB keywords are not SP's
    display = read("Sponsored_Display_Targeting_report.xlsx")
    assert display.rows == 40 and display.windows["SD"][0] == 14
    keywords = [e for e in display.entities.values() if e.entity_type == "keyword"]
    assert all("[-]" in k.name for k in keywords)  # targets without a match type
    both = read("sp_targeting_report.csv", "Sponsored_Brands_Keyword_report.csv")
    assert len(both.leaves) == len(TARGETING.leaves) + len(brands.leaves)


def test_an_xlsx_whose_sheet_dimension_is_wrong_is_read_whole() -> None:
    from openpyxl import load_workbook

    path = ADS / "sp_targeting_wrong_dimension.xlsx"
    book = load_workbook(path, read_only=True)
    trusted = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    assert len(trusted) <= 1  # what read-only mode sees when it trusts <dimension ref="A1">
    parsed = read("sp_targeting_wrong_dimension.xlsx")
    assert parsed.rows == len(report_rows())
    assert parsed.leaves == TARGETING.leaves


@pytest.mark.parametrize(
    ("name", "line", "column", "words"),
    [
        ("console_no_rows.csv", 1, "file", "has no data rows"),
        ("console_no_rows.xlsx", 1, "file", "has no data rows"),
        ("console_spanning_row.csv", 5, "Start Date", "spans 2026-01-01 to 2026-01-07"),
        ("console_ambiguous_dates.csv", 2, "Date", "reads as month/day and as day/month"),
        (
            "sp_purchased_product_report.csv",
            1,
            "Purchased ASIN",
            "unsupported report type: purchased product report",
        ),
    ],
)
def test_a_report_that_cannot_be_daily_points_is_refused(
    name: str, line: int, column: str, words: str
) -> None:
    with pytest.raises(ImportRejected) as rejected:
        read(name)
    error = rejected.value.errors[0]
    assert (error.source, error.line, error.field) == (name, line, column)
    assert words in error.message


def test_skipping_every_row_still_leaves_a_file_that_yields_nothing(tmp_path: Path) -> None:
    lines = (ADS / "console_bad_number.csv").read_text(encoding="utf-8-sig").splitlines()
    path = tmp_path / "all_bad.csv"
    path.write_text("\n".join([lines[0], lines[4]]) + "\n")
    with pytest.raises(ImportRejected, match="no row could be read"):
        read_console_report(path, ReportRows("A1"), Collector(True))


def test_ambiguous_dates_read_with_a_named_layout() -> None:
    parsed = read("console_ambiguous_dates.csv", date_format="mdy")
    days = {d for points in parsed.leaves.values() for d in points}
    assert min(days) == "2026-01-01" and max(days) == "2026-01-12"
    swapped = read("console_ambiguous_dates.csv", date_format="dmy")
    days = {d for points in swapped.leaves.values() for d in points}
    assert min(days) == "2026-01-01" and "2026-02-01" in days  # 01/02 read as 1 February


def test_an_account_level_report_is_refused_as_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "performance.csv"
    path.write_text("Start Date,End Date,Impressions,Clicks,Spend\n2026-01-01,2026-01-01,5,1,1\n")
    with pytest.raises(ImportRejected, match="unsupported report type"):
        read_console_report(path, ReportRows("A1"), Collector(False))


@pytest.mark.parametrize(
    ("header", "key", "currency"),
    [
        ("Spend(INR)", "spend", "INR"),
        ("Spend (₹)", "spend", "INR"),
        ("  CAMPAIGN   NAME ", "campaign name", None),
        ("7-Day Total Orders (#)", "7 day total orders", None),
        ("14 Days Total Sales (€)", "14 day total sales", "EUR"),
        ("Total Advertising Cost of Sales (ACOS) ", "total advertising cost of sales", None),
        ("Click-Thru Rate (CTR)", "click-thru rate", None),
        ("Ad_Group_Name", "ad group name", None),
    ],
)
def test_header_spellings(header: str, key: str, currency: str | None) -> None:
    assert normalise_header(header) == (key, currency)


@pytest.mark.parametrize(
    ("cell", "decimal", "count", "number", "symbol"),
    [
        ("1.234,56", ",", False, 1234.56, ""),
        ("1,234.56", ".", False, 1234.56, ""),
        ("1 234,56", ",", False, 1234.56, ""),
        ("1\u202f234,56 €", ",", False, 1234.56, "€"),
        ("1.234", ",", False, 1234.0, ""),  # a German thousand, not 1.234
        ("1.234", None, True, 1234.0, ""),  # a count has no decimals
        ("Rs. 1,234.50", ".", False, 1234.5, "Rs."),
        ("₹1,234.50", ".", False, 1234.5, "₹"),
        ("£12.30", ".", False, 12.3, "£"),
        ("¥1,200", None, False, 1200.0, "¥"),
        ("12.5%", ".", False, 0.125, "%"),
        ("12,5 %", ",", False, 0.125, "%"),
    ],
)
def test_locale_numbers_and_percentages(
    cell: str, decimal: str | None, count: bool, number: float, symbol: str
) -> None:
    assert parse_amount(cell, decimal, count) == (pytest.approx(number), symbol, None)


@pytest.mark.parametrize("cell", ["1,234.56"])
def test_a_number_against_the_files_decimal_mark_is_no_number(cell: str) -> None:
    value, _, problem = parse_amount(cell, ",")
    assert value is None and problem and "not a number" in problem


@pytest.mark.parametrize(
    ("cells", "mark"),
    [
        (["$1,234", "$0.47"], "."),
        (["1.234,00 €"], ","),
        (["12,5"], ","),
        (["1,234", "¥1,200", 12.5], None),
    ],
)
def test_a_files_decimal_mark_is_what_its_cells_show(cells: list[object], mark: str | None) -> None:
    assert decimal_mark(cells) == mark


def test_a_percentage_in_a_count_column_names_the_column(tmp_path: Path) -> None:
    path = tmp_path / "pct.csv"
    path.write_text(
        "Date,Campaign Name,Impressions,Clicks,Spend,7 Day Total Sales,7 Day Total Orders\n"
        f"{dt.date(2026, 1, 2)},C,12%,1,1.00,0.00,0\n"
    )
    with pytest.raises(ImportRejected) as rejected:
        read_console_report(path, ReportRows("A1"), Collector(False))
    assert rejected.value.errors[0].field == "Impressions"
    assert "is a percentage" in rejected.value.errors[0].message
