"""The import samples in tests/data, written by the project's own generators.

``python -m tests.data.samples`` rewrites them. An Amazon Ads account from
``tripwire.demo.generator`` becomes a console targeting report (CSV and XLSX, as the console
downloads them: ``$1,234.56``, ``Nov 03, 2026``) and an API v3 ``spTargeting`` report
(gzip'd one-line JSON array, as the API delivers it, and a readable pretty-printed copy);
a market from ``tripwire.demo.market`` becomes OHLCV CSV, one file per ticker and long.
Each format also gets broken variants: a missing column, a bad number, a duplicate row,
an unknown currency (Amazon formats) or an impossible bar (OHLCV). ``console_reports``
adds every other console report type and its variants (windows, locales, date layouts).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import json
import pathlib
import sys
from typing import Any

from tests.data.console_reports import write_console_variants
from tripwire.demo.generator import GeneratorConfig, generate
from tripwire.demo.market import generate_market, write_ohlcv_csv

HERE = pathlib.Path(__file__).parent
ACCOUNT = GeneratorConfig(seed=5, keywords=16, days=14, campaigns=5, portfolios=2)
BROKEN_ROWS = 12  # the broken variants are short: the error is on line 5
CONSOLE_HEADER = (
    "Date",
    "Portfolio name",
    "Currency",
    "Campaign Name",
    "Ad Group Name",
    "Targeting",
    "Match Type",
    "Impressions",
    "Clicks",
    "Click-Thru Rate (CTR)",
    "Cost Per Click (CPC)",
    "Spend",
    "7 Day Total Sales ",  # the console's own trailing space
    "Total Advertising Cost of Sales (ACOS) ",
    "7 Day Total Orders (#)",
)


def report_rows() -> list[dict[str, Any]]:
    """One row per keyword and day of a small generated account, with its names."""
    account = generate(ACCOUNT)
    by_id = {e["entity_id"]: e for e in account.entities}
    rows = []
    for day, keyword, impressions, clicks, spend, sales, orders in account.metrics.tolist():
        entity = by_id[keyword]
        campaign = by_id[entity["parent_id"]]
        portfolio = by_id.get(campaign["parent_id"])
        parts = campaign["name"].split(" | ")  # "Kitchen | SP | Exact | Knives"
        rows.append(
            {
                "date": day,
                "keyword_id": keyword,
                "campaign_id": campaign["entity_id"],
                "portfolio_id": portfolio["entity_id"]
                if portfolio["entity_type"] == "portfolio"
                else "",
                "portfolio": portfolio["name"] if portfolio["entity_type"] == "portfolio" else "",
                "campaign": campaign["name"],
                "ad_group": f"{parts[-1]} - {parts[2]}",
                "targeting": entity["name"],
                "match_type": parts[2].upper(),
                "impressions": impressions,
                "clicks": clicks,
                "spend": spend,
                "sales": sales,
                "orders": orders,
            }
        )
    return rows


def console_cells(row: dict[str, Any], *, as_text: bool) -> list[Any]:
    """A console row: text the way the CSV download writes it, or typed XLSX cells."""
    ctr = row["clicks"] / row["impressions"] if row["impressions"] else 0.0
    cpc = row["spend"] / row["clicks"] if row["clicks"] else 0.0
    acos = row["spend"] / row["sales"] if row["sales"] else 0.0
    if not as_text:
        day = dt.datetime.combine(row["date"], dt.time())
        return [day, row["portfolio"], "USD", row["campaign"], row["ad_group"], row["targeting"],
                row["match_type"], row["impressions"], row["clicks"], ctr, cpc, row["spend"],
                row["sales"], acos, row["orders"]]  # fmt: skip
    return [
        row["date"].strftime("%b %d, %Y"),
        row["portfolio"],
        "USD",
        row["campaign"],
        row["ad_group"],
        row["targeting"],
        row["match_type"],
        f"{row['impressions']:,}",
        f"{row['clicks']:,}",
        f"{ctr:.2%}",
        f"${cpc:,.2f}",
        f"${row['spend']:,.2f}",
        f"${row['sales']:,.2f}",
        f"{acos:.2%}",
        f"{row['orders']:,}",
    ]


def write_console_csv(
    path: pathlib.Path, rows: list[list[Any]], header: tuple[str, ...] = CONSOLE_HEADER
) -> None:
    with path.open("w", newline="", encoding="utf-8-sig") as f:  # the console writes a BOM
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def write_console_xlsx(path: pathlib.Path, rows: list[list[Any]]) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sponsored Products Targeting")
    sheet.append(list(CONSOLE_HEADER))
    for row in rows:
        sheet.append(row)
    book.save(path)


def api_record(row: dict[str, Any]) -> dict[str, Any]:
    """An API v3 spTargeting row (ids are numbers as strings in JSON, like the API's)."""
    return {
        "date": row["date"].isoformat(),
        "portfolioId": _numeric_id(row["portfolio_id"]) if row["portfolio_id"] else None,
        "campaignId": _numeric_id(row["campaign_id"]),
        "campaignName": row["campaign"],
        "campaignBudgetCurrencyCode": "USD",
        "adGroupId": _numeric_id(row["campaign_id"] + "/ag"),
        "adGroupName": row["ad_group"],
        "keywordId": _numeric_id(row["keyword_id"]),
        "keyword": row["targeting"],
        "matchType": row["match_type"],
        "impressions": row["impressions"],
        "clicks": row["clicks"],
        "cost": row["spend"],
        "sales7d": row["sales"],
        "purchases7d": row["orders"],
    }


def _numeric_id(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16) % 10**15


def write_ads_samples(out: pathlib.Path) -> dict[str, pathlib.Path]:
    out.mkdir(parents=True, exist_ok=True)
    rows = report_rows()
    text = [console_cells(r, as_text=True) for r in rows]
    paths = {name: out / name for name in (
        "sp_targeting_report.csv", "sp_targeting_report.xlsx", "sp_targeting.json.gz",
        "sp_targeting.json", "console_missing_column.csv", "console_bad_number.csv",
        "console_duplicate_row.csv", "console_unknown_currency.csv", "api_missing_field.json",
        "api_bad_number.json", "api_duplicate_row.json", "api_unknown_currency.json",
    )}  # fmt: skip
    write_console_csv(paths["sp_targeting_report.csv"], text)
    write_console_xlsx(
        paths["sp_targeting_report.xlsx"], [console_cells(r, as_text=False) for r in rows]
    )
    spend = CONSOLE_HEADER.index("Spend")
    text = text[:BROKEN_ROWS]
    # Broken variants: each breaks line 5 (the 4th data row) of the good report.
    without_spend = [r[:spend] + r[spend + 1 :] for r in text]
    header = CONSOLE_HEADER[:spend] + CONSOLE_HEADER[spend + 1 :]
    write_console_csv(paths["console_missing_column.csv"], without_spend, header)
    write_console_csv(paths["console_bad_number.csv"], _replace(text, 3, spend, "$12.3O"))
    write_console_csv(paths["console_duplicate_row.csv"], [*text[:3], text[0], *text[3:]])
    write_console_csv(paths["console_unknown_currency.csv"], _replace(text, 3, 2, "XBT"))

    records = [api_record(r) for r in rows]
    paths["sp_targeting.json.gz"].write_bytes(gzip.compress(json.dumps(records).encode(), mtime=0))
    _write_json(paths["sp_targeting.json"], records)
    records = records[:BROKEN_ROWS]
    # Broken variants: record 4 (on line 5 of the pretty-printed array).
    _write_json(paths["api_missing_field.json"], _edit(records, 3, lambda r: r.pop("cost")))
    _write_json(paths["api_bad_number.json"], _edit(records, 3, lambda r: r.update(clicks="seven")))
    _write_json(paths["api_duplicate_row.json"], [*records[:3], records[0], *records[3:]])
    unknown = _edit(records, 3, lambda r: r.update(campaignBudgetCurrencyCode="XBT"))
    _write_json(paths["api_unknown_currency.json"], unknown)
    return {**paths, **write_console_variants(out, rows)}


def write_ohlcv_samples(out: pathlib.Path) -> dict[str, pathlib.Path]:
    out.mkdir(parents=True, exist_ok=True)
    market = generate_market(seed=3, tickers=3, days=90, market="US")
    paths = {"per_ticker": out / "us", "long": out / "us_long.csv"}
    write_ohlcv_csv(market.bars, paths["per_ticker"], long=False)
    write_ohlcv_csv(market.bars, paths["long"], long=True)
    lines = paths["long"].read_text().splitlines(keepends=True)[: BROKEN_ROWS + 1]
    header = lines[0].split(",")
    broken = {
        "ohlcv_missing_column.csv": [_without_cell(line, len(header) - 1) for line in lines],
        "ohlcv_bad_number.csv": _csv_cell(lines, 5, header.index("Close"), "null"),
        "ohlcv_duplicate_row.csv": [*lines[:4], lines[1], *lines[4:]],
        "ohlcv_high_below_low.csv": _csv_cell(lines, 5, header.index("High"), "0.01"),
    }  # fmt: skip
    for name, content in broken.items():
        paths[name] = out / name
        paths[name].write_text("".join(content))
    return paths


def _replace(rows: list[list[Any]], row: int, column: int, value: str) -> list[list[Any]]:
    copy = [list(r) for r in rows]
    copy[row][column] = value
    return copy


def _edit(records: list[dict[str, Any]], index: int, change: Any) -> list[dict[str, Any]]:
    copy = [dict(r) for r in records]
    change(copy[index])
    return copy


def _without_cell(line: str, column: int) -> str:
    cells = line.rstrip("\n").split(",")
    return ",".join(cells[:column] + cells[column + 1 :]) + "\n"


def _csv_cell(lines: list[str], line: int, column: int, value: str) -> list[str]:
    """``lines`` with one cell of 1-based ``line`` replaced."""
    copy = list(lines)
    cells = copy[line - 1].rstrip("\n").split(",")
    cells[column] = value
    copy[line - 1] = ",".join(cells) + "\n"
    return copy


def _write_json(path: pathlib.Path, records: list[dict[str, Any]]) -> None:
    # One record per line inside the array, so an error's line is the record's line + 1.
    body = ",\n".join(json.dumps(r, sort_keys=True) for r in records)
    path.write_text(f"[\n{body}\n]\n", encoding="utf-8")


def write_samples(out: pathlib.Path = HERE) -> dict[str, pathlib.Path]:
    return {**write_ads_samples(out / "ads"), **write_ohlcv_samples(out / "ohlcv")}


if __name__ == "__main__":
    for name, path in write_samples(
        pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    ).items():
        print(f"{name}: {path}")
