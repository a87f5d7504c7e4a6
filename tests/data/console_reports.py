"""Console report variants generated from the documented column lists, never from a real report.

Every report here is built from the same generated account as the targeting report
(``samples.report_rows``): a search term report splits each keyword's day over a few
search terms; campaign, ad group, placement and advertised product reports sum its
keywords; so every variant has a known answer. Columns follow what Amazon's help pages
and public guides list for each report (``Campaign Name``, ``Ad Group Name``,
``Targeting``, ``Match Type``, ``Customer Search Term``, ``Advertised SKU``/``ASIN``,
``Placement``, ``Start Date``/``End Date``, ``N Day Total Sales``, ``N Day Total Orders
(#)``…), with the ratio columns the console adds (CTR, CPC, ACOS, ROAS) that Tripwire
reads past. Locale variants write the same numbers as Indian (``₹``, ``Rs.``, D/M/Y) and
European (``1.234,56 €``, ``D.M.YYYY``) downloads do.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import pathlib
import re
import zipfile
from collections.abc import Callable, Iterable
from typing import Any

Row = dict[str, Any]
MEASURES = ("impressions", "clicks", "spend", "sales", "orders")
PLACEMENTS = ("Top of Search on-Amazon", "Other on-Amazon", "Detail Page on-Amazon")


def _pick(key: str, n: int) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % n


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def search_term_rows(rows: list[Row]) -> list[Row]:
    """Each keyword-day split over 1-3 search terms whose numbers sum to the keyword's."""
    out = []
    for row in rows:
        k = 1 + _pick(row["keyword_id"] + str(row["date"]), 3)
        imps = _split(row["impressions"], k)
        clicks, left = [], row["clicks"]
        for share in imps:  # a search term's clicks stay within its impressions
            clicks.append(min(left, share))
            left -= clicks[-1]
        cents = {m: _split(round(row[m] * 100), k) for m in ("spend", "sales")}
        orders = _split(row["orders"], k)
        for i in range(k):
            term = row["targeting"] if i == 0 else f"{row['targeting']} {['best', 'cheap'][i - 1]}"
            out.append(
                {
                    **row,
                    "search_term": term,
                    "impressions": imps[i],
                    "clicks": clicks[i],
                    "spend": cents["spend"][i] / 100,
                    "sales": cents["sales"][i] / 100,
                    "orders": orders[i],
                }
            )
    return out


def grouped(
    rows: list[Row], key: Callable[[Row], tuple[Any, ...]], names: Iterable[str]
) -> list[Row]:
    """Rows summed by ``key`` (date first), with ``names`` the key's fields."""
    sums: dict[tuple[Any, ...], Row] = {}
    for row in rows:
        k = key(row)
        if k not in sums:
            sums[k] = {**dict(zip(names, k, strict=True)), **dict.fromkeys(MEASURES, 0)}
            sums[k]["portfolio"] = row["portfolio"]
        for m in MEASURES:
            sums[k][m] += row[m]
    for row in sums.values():
        row["spend"], row["sales"] = round(row["spend"], 2), round(row["sales"], 2)
    return list(sums.values())


def campaign_rows(rows: list[Row]) -> list[Row]:
    return grouped(rows, lambda r: (r["date"], r["campaign"]), ("date", "campaign"))


def ad_group_rows(rows: list[Row]) -> list[Row]:
    key = lambda r: (r["date"], r["campaign"], r["ad_group"])  # noqa: E731
    return grouped(rows, key, ("date", "campaign", "ad_group"))


def product_rows(rows: list[Row]) -> list[Row]:
    def key(r: Row) -> tuple[Any, ...]:
        n = _pick(r["keyword_id"], 2)
        asin = "B0" + hashlib.sha256(f"{r['ad_group']}{n}".encode()).hexdigest()[:8].upper()
        return r["date"], r["campaign"], r["ad_group"], asin, f"SKU-{asin[-4:]}"

    return grouped(rows, key, ("date", "campaign", "ad_group", "asin", "sku"))


def placement_rows(rows: list[Row]) -> list[Row]:
    def key(r: Row) -> tuple[Any, ...]:
        return r["date"], r["campaign"], PLACEMENTS[_pick(r["keyword_id"] + str(r["date"]), 3)]

    return grouped(rows, key, ("date", "campaign", "placement"))


# --- cells -----------------------------------------------------------------------------


def usd(x: float) -> str:
    return f"${x:,.2f}"


def inr(x: float) -> str:
    return f"₹{x:,.2f}"


def eur(x: float) -> str:  # German style: 1.234,56 €
    return f"{x:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".") + " €"


def eur_count(n: int) -> str:  # French style thousands: 1 234
    return f"{n:,}".replace(",", "\u202f")


def ratios(row: Row) -> dict[str, str]:
    ctr = row["clicks"] / row["impressions"] if row["impressions"] else 0.0
    acos = row["spend"] / row["sales"] if row["sales"] else 0.0
    roas = row["sales"] / row["spend"] if row["spend"] else 0.0
    cpc = row["spend"] / row["clicks"] if row["clicks"] else 0.0
    return {"ctr": f"{ctr:.2%}", "acos": f"{acos:.2%}", "roas": f"{roas:.2f}", "cpc": f"{cpc:.2f}"}


def write_csv(path: pathlib.Path, header: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8-sig") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def write_xlsx(path: pathlib.Path, header: list[str], rows: list[list[Any]]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Sheet1"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)


def with_wrong_dimension(path: pathlib.Path) -> None:
    """Rewrite the first sheet's ``<dimension ref=…>`` to ``A1``, as some exporters do."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, n = re.subn(rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', data)
                assert n == 1, "the sheet has no <dimension> to break"
            dst.writestr(item, data)
    path.write_bytes(buffer.getvalue())


# --- the reports ----------------------------------------------------------------------


def write_console_variants(out: pathlib.Path, rows: list[Row]) -> dict[str, pathlib.Path]:
    from tests.data.samples import CONSOLE_HEADER, console_cells

    paths: dict[str, pathlib.Path] = {}

    def path(name: str) -> pathlib.Path:
        paths[name] = out / name
        return paths[name]

    mdy = lambda d: d.strftime("%b %d, %Y")  # noqa: E731

    # Search term report (XLSX, typed cells): every keyword's search terms.
    header = [
        "Date",
        "Portfolio name",
        "Currency",
        "Campaign Name",
        "Ad Group Name",
        "Targeting",
        "Match Type",
        "Customer Search Term",
        "Impressions",
        "Clicks",
        "Click-Thru Rate (CTR)",
        "Cost Per Click (CPC)",
        "Spend",
        "7 Day Total Sales ",
        "Total Advertising Cost of Sales (ACOS) ",
        "Total Return on Advertising Spend (ROAS)",
        "7 Day Total Orders (#)",
        "7 Day Total Units (#)",
        "7 Day Conversion Rate",
    ]
    cells = []
    for r in search_term_rows(rows):
        q = ratios(r)
        cells.append(
            [
                dt.datetime.combine(r["date"], dt.time()),
                r["portfolio"],
                "USD",
                r["campaign"],
                r["ad_group"],
                r["targeting"],
                r["match_type"],
                r["search_term"],
                r["impressions"],
                r["clicks"],
                q["ctr"],
                q["cpc"],
                r["spend"],
                r["sales"],
                q["acos"],
                q["roas"],
                r["orders"],
                r["orders"],
                "0.00%",
            ]
        )
    write_xlsx(path("sp_search_term_report.xlsx"), header, cells)

    # Campaign report: Start Date / End Date of one day each, no Ad Group Name.
    header = [
        "Start Date",
        "End Date",
        "Portfolio name",
        "Currency",
        "Campaign Name",
        "Status",
        "Impressions",
        "Clicks",
        "Click-Thru Rate (CTR)",
        "Spend",
        "Cost Per Click (CPC)",
        "7 Day Total Orders (#)",
        "Total Advertising Cost of Sales (ACOS)",
        "Total Return on Advertising Spend (ROAS)",
        "7 Day Total Sales",
    ]
    cells = []
    for r in campaign_rows(rows):
        q = ratios(r)
        cells.append(
            [
                mdy(r["date"]),
                mdy(r["date"]),
                r["portfolio"],
                "USD",
                r["campaign"],
                "ENABLED",
                f"{r['impressions']:,}",
                f"{r['clicks']:,}",
                q["ctr"],
                usd(r["spend"]),
                usd(float(q["cpc"])),
                r["orders"],
                q["acos"],
                q["roas"],
                usd(r["sales"]),
            ]
        )
    write_csv(path("sp_campaign_report.csv"), header, cells)
    spanning = [list(c) for c in cells[:6]]
    spanning[3][1] = mdy(dt.datetime.strptime(spanning[3][0], "%b %d, %Y") + dt.timedelta(6))
    write_csv(path("console_spanning_row.csv"), header, spanning)
    write_csv(path("console_no_rows.csv"), header, [])
    write_xlsx(path("console_no_rows.xlsx"), header, [])

    # Ad group report (XLSX, typed cells).
    header = [
        "Date",
        "Portfolio name",
        "Currency",
        "Campaign Name",
        "Ad Group Name",
        "Impressions",
        "Clicks",
        "Spend",
        "7 Day Total Sales",
        "7 Day Total Orders (#)",
    ]
    cells = [
        [
            dt.datetime.combine(r["date"], dt.time()),
            r["portfolio"],
            "USD",
            r["campaign"],
            r["ad_group"],
            r["impressions"],
            r["clicks"],
            r["spend"],
            r["sales"],
            r["orders"],
        ]
        for r in ad_group_rows(rows)
    ]
    write_xlsx(path("sp_ad_group_report.xlsx"), header, cells)

    # Advertised product report: ISO dates.
    header = [
        "Date",
        "Portfolio name",
        "Currency",
        "Campaign Name",
        "Ad Group Name",
        "Advertised SKU",
        "Advertised ASIN",
        "Impressions",
        "Clicks",
        "Click-Thru Rate (CTR)",
        "Cost Per Click (CPC)",
        "Spend",
        "7 Day Total Sales ",
        "Total Advertising Cost of Sales (ACOS) ",
        "Total Return on Advertising Spend (ROAS)",
        "7 Day Total Orders (#)",
        "7 Day Total Units (#)",
        "7 Day Advertised SKU Sales ",
        "7 Day Other SKU Sales ",
    ]
    cells = []
    for r in product_rows(rows):
        q = ratios(r)
        cells.append(
            [
                r["date"].isoformat(),
                r["portfolio"],
                "USD",
                r["campaign"],
                r["ad_group"],
                r["sku"],
                r["asin"],
                r["impressions"],
                r["clicks"],
                q["ctr"],
                usd(float(q["cpc"])),
                usd(r["spend"]),
                usd(r["sales"]),
                q["acos"],
                q["roas"],
                r["orders"],
                r["orders"],
                usd(r["sales"]),
                "$0.00",
            ]
        )
    write_csv(path("sp_advertised_product_report.csv"), header, cells)

    # Placement report: M/D/YYYY dates (the 13th and 14th tell the layout).
    header = [
        "Start Date",
        "End Date",
        "Portfolio name",
        "Currency",
        "Campaign Name",
        "Bidding strategy",
        "Placement",
        "Impressions",
        "Clicks",
        "Cost Per Click (CPC)",
        "Spend",
        "7 Day Total Sales",
        "Total Advertising Cost of Sales (ACOS)",
        "Total Return on Advertising Spend (ROAS)",
        "7 Day Total Orders (#)",
        "7 Day Total Units (#)",
    ]
    cells = []
    for r in placement_rows(rows):
        q, day = ratios(r), f"{r['date'].month}/{r['date'].day}/{r['date'].year}"
        cells.append(
            [
                day,
                day,
                r["portfolio"],
                "USD",
                r["campaign"],
                "Dynamic bids - down only",
                r["placement"],
                r["impressions"],
                r["clicks"],
                usd(float(q["cpc"])),
                usd(r["spend"]),
                usd(r["sales"]),
                q["acos"],
                q["roas"],
                r["orders"],
                r["orders"],
            ]
        )
    write_csv(path("sp_placement_report.csv"), header, cells)

    # Indian targeting report: 14-day window, Start/End Date D/M/YYYY, currency in the
    # headers and symbols (₹, Rs.), header spellings that vary in case, spacing and dashes.
    header = [
        "Start Date",
        "End Date",
        "portfolio name",
        "CAMPAIGN NAME",
        "Ad group  name",
        " Targeting ",
        "Match type",
        "Impressions",
        "Clicks",
        "Click-thru rate (CTR)",
        "Spend(INR)",
        "14 Day Total Sales (₹)",
        "Total Advertising Cost of Sales (ACOS)",
        "14-Day Total Orders (#)",
        "14 Day Total Units (#)",
    ]
    cells = []
    for i, r in enumerate(rows):
        day = r["date"].strftime("%d/%m/%Y")
        sales = inr(r["sales"]) if i % 2 else "Rs. " + f"{r['sales']:,.2f}"
        cells.append(
            [
                day,
                day,
                r["portfolio"],
                r["campaign"],
                r["ad_group"],
                r["targeting"],
                r["match_type"].title(),
                r["impressions"],
                r["clicks"],
                ratios(r)["ctr"],
                inr(r["spend"]),
                sales,
                ratios(r)["acos"],
                r["orders"],
                r["orders"],
            ]
        )
    write_csv(path("sp_targeting_14d_inr.csv"), header, cells)

    # European campaign report: 1.234,56 €, 1 234 impressions, D.M.YYYY, Spend (€).
    header = [
        "Date",
        "Portfolio name",
        "Campaign Name",
        "Impressions",
        "Clicks",
        "Spend (€)",
        "7 Day Total Sales (€)",
        "7 Day Total Orders (#)",
    ]
    cells = [
        [
            r["date"].strftime("%d.%m.%Y"),
            r["portfolio"],
            r["campaign"],
            eur_count(r["impressions"] * 25),
            r["clicks"],
            eur(r["spend"] * 25),
            eur(r["sales"] * 25),
            r["orders"],
        ]
        for r in campaign_rows(rows)
    ]
    write_csv(path("sp_campaign_report_eur.csv"), header, cells)

    # Several attribution windows in one report (the campaign performance report's 1-30 days).
    header = [
        "Date",
        "Currency",
        "Campaign Name",
        "Ad Group Name",
        "Targeting",
        "Match Type",
        "Impressions",
        "Clicks",
        "Spend",
        "1 Day Total Sales",
        "1 Day Total Orders (#)",
        "7 Day Total Sales",
        "7 Day Total Orders (#)",
        "14 Day Total Sales",
        "14 Day Total Orders (#)",
        "30 Day Total Sales",
        "30 Day Total Orders (#)",
    ]
    cells = []
    for r in rows:
        windows = [
            (r["sales"] * f, r["orders"] + extra)
            for f, extra in ((0.5, 0), (1.0, 0), (1.25, 1), (1.5, 2))
        ]
        cells.append(
            [
                mdy(r["date"]),
                "USD",
                r["campaign"],
                r["ad_group"],
                r["targeting"],
                r["match_type"],
                r["impressions"],
                r["clicks"],
                usd(r["spend"]),
                *[c for s, o in windows for c in (usd(s), o)],
            ]
        )
    write_csv(path("sp_targeting_windows.csv"), header, cells)

    # Sponsored Brands keyword report: 14-day, no ad group, new-to-brand columns.
    header = [
        "Date",
        "Portfolio name",
        "Currency",
        "Campaign Name",
        "Targeting",
        "Match Type",
        "Impressions",
        "Clicks",
        "Spend",
        "14 Day Total Sales ",
        "14 Day Total Orders (#)",
        "14 Day New-to-brand Orders (#)",
        "14 Day New-to-brand Sales",
    ]
    sb = [r for r in rows if r["match_type"] in ("EXACT", "PHRASE")]
    cells = [
        [
            mdy(r["date"]),
            r["portfolio"],
            "USD",
            r["campaign"],
            r["targeting"],
            r["match_type"],
            r["impressions"],
            r["clicks"],
            usd(r["spend"]),
            usd(r["sales"]),
            r["orders"],
            0,
            "$0.00",
        ]
        for r in sb
    ]
    write_csv(path("Sponsored_Brands_Keyword_report.csv"), header, cells)

    # Sponsored Display targeting report (XLSX): no match type, bid optimization column.
    header = [
        "Date",
        "Currency",
        "Campaign Name",
        "Ad Group Name",
        "Targeting",
        "Bid Optimization",
        "Impressions",
        "Viewable Impressions",
        "Clicks",
        "Spend",
        "14 Day Total Sales ",
        "14 Day Total Orders (#)",
    ]
    cells = [
        [
            dt.datetime.combine(r["date"], dt.time()),
            "USD",
            r["campaign"],
            r["ad_group"],
            f'views=(exact-product="{r["targeting"][:12]}")',
            "Optimize for page visits",
            r["impressions"],
            r["impressions"],
            r["clicks"],
            r["spend"],
            r["sales"],
            r["orders"],
        ]
        for r in rows[:40]
    ]
    write_xlsx(path("Sponsored_Display_Targeting_report.xlsx"), header, cells)

    # The targeting report as an XLSX whose <dimension> says A1 (0 rows in read-only mode).
    write_xlsx(
        path("sp_targeting_wrong_dimension.xlsx"),
        list(CONSOLE_HEADER),
        [console_cells(r, as_text=False) for r in rows],
    )
    with_wrong_dimension(paths["sp_targeting_wrong_dimension.xlsx"])

    # Unsupported: a purchased product report.
    header = [
        "Date",
        "Portfolio name",
        "Currency",
        "Campaign Name",
        "Ad Group Name",
        "Advertised SKU",
        "Advertised ASIN",
        "Targeting",
        "Match Type",
        "Purchased ASIN",
        "7 Day Other SKU Units (#)",
        "7 Day Other SKU Orders (#)",
        "7 Day Other SKU Sales",
    ]
    cells = [
        [
            mdy(r["date"]),
            r["portfolio"],
            "USD",
            r["campaign"],
            r["ad_group"],
            "SKU-1",
            "B000000001",
            r["targeting"],
            r["match_type"],
            "B000000002",
            1,
            1,
            "$9.99",
        ]
        for r in rows[:5]
    ]
    write_csv(path("sp_purchased_product_report.csv"), header, cells)

    # Ambiguous dates: only the 1st-12th, written M/D/YYYY (or D/M/YYYY: no way to tell).
    early = [r for r in rows if r["date"].day <= 12]
    text = [console_cells(r, as_text=True) for r in early]
    for cells_, r in zip(text, early, strict=True):
        cells_[0] = r["date"].strftime("%m/%d/%Y")
    write_csv(path("console_ambiguous_dates.csv"), list(CONSOLE_HEADER), text)
    return paths
