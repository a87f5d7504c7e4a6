"""Amazon Ads console downloads: every sponsored ads report, CSV or XLSX, at its level.

What each report describes, and where it goes (Tripwire's tree is account > portfolio >
campaign > keyword; parents' series are roll-ups of their children):

- targeting (or keyword) report: one keyword (target) per row — the leaves;
- search term report: a keyword's search terms, summed into that keyword;
- campaign, ad group, placement, advertised product reports: summed per campaign into the
  campaign's *own* series, which counts only on days when no keyword rows exist for it
  (then the keywords' roll-up is the campaign: ``rollup.roll_up_levels``). The tree has no
  ad group, placement or product level, and those reports split a campaign other ways.

When one import holds several reports for the same entity and day, the nearer level wins
(targeting over search term; campaign over ad group over placement over product).
Sponsored Brands and Display reports read the same way (known by the file name the console
gives them, or their new-to-brand / bid optimization columns); purchased product, search
term impression share and traffic reports are refused as unsupported.

The console names things, it does not give ids, so ids are made from names: the account is
the profile; ``pf-<slug>-<hash>`` a portfolio, ``cp-<slug>-<hash>`` a campaign (names are
unique per account and ad product), and ``kw-<hash>`` a keyword — hashed from campaign, ad
group, targeting and match type, because the same keyword text in two ad groups is two
keywords. A search term row carries its targeting, so it lands on the same id.

Each file is read whole first: its attribution window (``N Day Total Sales``; ``--attribution``
picks one when several are there), its date layout (``dates.detect_layout``) and its decimal
mark (``1.234,56`` or ``1,234.56``) are properties of the file. Rows are daily: ``Date``, or
``Start Date``/``End Date`` on the same day (a row spanning days is refused). The currency
comes from a ``Currency`` column, a header suffix (``Spend(INR)``), the amounts' symbol
(``₹``, ``Rs.``, ``€``…) or ``currency``; a file holds one currency (a profile has one).
Every row is validated (``PPCPoint``, ``Collector``) before anything is written; errors name
the file, the line and the column as the file spells it. A file with no rows is an error.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tripwire.domain.entities import Entity, EntityType, Profile, ProfileKind
from tripwire.domain.metrics import INTEGER_MEASURES, PPC_MEASURES, PPCPoint
from tripwire.ingest.csv_files import Collector, LeafSeries
from tripwire.ingest.dates import detect_layout, layout_option, parse_day
from tripwire.ingest.errors import ImportRejected, RowError, row_errors
from tripwire.ingest.importer import ImportReport, import_parsed
from tripwire.ingest.tables import EXTRA, Table, blank, read_table

# Normalised header (lower case, "(…)" dropped, single spaces) → field.
COLUMNS = {
    "date": "date",
    "day": "date",
    "start date": "start",
    "end date": "end",
    "portfolio name": "portfolio",
    "portfolio": "portfolio",
    "currency": "currency",
    "campaign name": "campaign",
    "campaign": "campaign",
    "ad group name": "ad_group",
    "ad group": "ad_group",
    "targeting": "targeting",
    "keyword": "targeting",
    "keyword text": "targeting",
    "match type": "match_type",
    "customer search term": "search_term",
    "search term": "search_term",
    "advertised asin": "asin",
    "advertised sku": "sku",
    "placement": "placement",
    "placement type": "placement",
    "impressions": "impressions",
    "clicks": "clicks",
    "spend": "spend",
    "cost": "spend",
    "total spend": "spend",
    "sales": "sales",
    "total sales": "sales",
    "orders": "orders",
    "total orders": "orders",
}
_WINDOWED = re.compile(r"^(?P<days>\d{1,2}) day total (?P<what>sales|orders)$")
# Reports that are not a level of the tree: refused by name (a key column → the report).
UNSUPPORTED = {
    "purchased asin": "purchased product report",
    "search term impression share": "search term impression share report",
    "search term impression rank": "search term impression share report",
    "gross impressions": "gross and invalid traffic report",
    "invalid impressions": "gross and invalid traffic report",
    "matched target": "matched target report",
}
MEASURES = ("impressions", "clicks", "spend", "sales", "orders")
COUNTS = frozenset({"impressions", "clicks", "orders"})
# Report levels: the entity level they feed and their rank there (nearer level wins).
KEYWORD_LEVELS = {"targeting": 2, "search term": 1}
CAMPAIGN_LEVELS = {"campaign": 4, "ad group": 3, "placement": 2, "advertised product": 1}
PRODUCTS = {"SP": "Sponsored Products", "SB": "Sponsored Brands", "SD": "Sponsored Display"}
# The currencies of Amazon Ads marketplaces; what a symbol may stand for (first = default).
CURRENCIES = frozenset(
    [
        "USD",
        "CAD",
        "MXN",
        "BRL",
        "GBP",
        "EUR",
        "SEK",
        "PLN",
        "TRY",
        "AED",
        "SAR",
        "EGP",
        "INR",
        "JPY",
        "AUD",
        "SGD",
        "ZAR",
    ]
)
SYMBOLS: dict[str, tuple[str, ...]] = {
    "$": ("USD", "CAD", "MXN", "AUD", "SGD"),
    "US$": ("USD",),
    "C$": ("CAD",),
    "CA$": ("CAD",),
    "MX$": ("MXN",),
    "A$": ("AUD",),
    "AU$": ("AUD",),
    "S$": ("SGD",),
    "R$": ("BRL",),
    "€": ("EUR",),
    "£": ("GBP",),
    "¥": ("JPY",),
    "￥": ("JPY",),
    "円": ("JPY",),
    "₹": ("INR",),
    "Rs.": ("INR",),
    "Rs": ("INR",),
    "₺": ("TRY",),
    "TL": ("TRY",),
    "zł": ("PLN",),
    "kr": ("SEK",),
    "R": ("ZAR",),
    "AED": ("AED",),
    "SAR": ("SAR",),
    "EGP": ("EGP",),
}
NO_PORTFOLIO = frozenset({"", "-", "--", "no portfolio"})
NO_MATCH = frozenset({"", "-", "--", "—", "n/a"})
_PREFIX = re.compile(r"^(?P<sym>Rs\.?|kr\.?|TL)\s*(?=[\d\-])")
_AMOUNT = re.compile(r"^(?P<pre>[^\d\-.,]*)\s*(?P<num>-?[\d.,\s'\u202f]*\d)\s*(?P<post>[^\d]*)$")
Values = tuple[float, ...]


@dataclass
class ReportRows:
    """Validated rows of one or more reports, ready for ``import_parsed``."""

    account: str
    currency: str | None = None
    currency_source: tuple[str, int, str] | None = None  # where the currency was decided
    entities: dict[str, Entity] = field(default_factory=dict)
    leaves: LeafSeries = field(default_factory=dict)
    own: LeafSeries = field(default_factory=dict)  # campaigns' own (campaign-level) series
    rows: int = 0
    attribution: int | None = None  # the N of "N Day Total Sales" when a report has several
    date_format: str | None = None  # a dates.LAYOUTS name or strptime pattern; else detected
    # (entity, level rank) -> part (ad group, search term, …) -> period -> values
    detail: dict[tuple[str, int], dict[str, dict[str, Values]]] = field(default_factory=dict)
    windows: dict[str, tuple[int | None, str]] = field(default_factory=dict)  # product -> window

    def __post_init__(self) -> None:
        self.add_entity(Entity(entity_id=self.account, entity_type=EntityType.ACCOUNT))

    def add_entity(self, entity: Entity) -> None:
        self.entities[entity.entity_id] = entity  # the latest row's parent / name win

    def set_currency(self, code: str, source: str, line: int, column: str) -> str | None:
        """Record the file's currency; the problem when it disagrees with earlier rows."""
        if code not in CURRENCIES:
            return f"unknown currency {code!r}"
        if self.currency is None:
            self.currency, self.currency_source = code, (source, line, column)
        elif code != self.currency:
            first = self.currency_source or ("", 0, "")
            where = f" ({first[0]} line {first[1]})" if first[1] else ""
            return f"currency {code} differs from {self.currency}{where}: one profile, one currency"
        return None

    def profile(self, tenant: str) -> Profile:
        return Profile(
            tenant_id=tenant,
            profile_id=self.account,
            kind=ProfileKind.ADS,
            currency=self.currency or "USD",
        )

    def finish(self) -> None:
        """Each entity's day from its nearest level's rows, summed over their parts."""
        best: dict[str, dict[str, int]] = {}  # entity -> period -> rank used
        for (entity, rank), parts in self.detail.items():
            for points in parts.values():
                for period in points:
                    ranks = best.setdefault(entity, {})
                    ranks[period] = max(rank, ranks.get(period, 0))
        integer = [m in INTEGER_MEASURES for m in PPC_MEASURES]
        for (entity, rank), parts in sorted(self.detail.items()):
            target = self.leaves if self.entities[entity].is_leaf else self.own
            series = target.setdefault(entity, {})
            for period in {p for points in parts.values() for p in points}:
                if best[entity][period] == rank:
                    total = [
                        sum(col)
                        for col in zip(
                            *(pts[period] for pts in parts.values() if period in pts), strict=True
                        )
                    ]
                    series[period] = tuple(
                        round(v) if i else round(v, 4) for v, i in zip(total, integer, strict=True)
                    )


ReportReader = Callable[[Path, "ReportRows", Collector, bool], None]


def import_report(
    tenant: str,
    profile_id: str,
    paths: list[Path],
    *,
    read: ReportReader,
    currency: str | None = None,
    attribution: int | None = None,
    date_format: str | None = None,
    skip_bad_rows: bool = False,
    progress: bool = False,
    **stores: Any,
) -> ImportReport:
    """Read every report completely with ``read``, then write (nothing is written when a
    row is bad). Shared by the console and the Ads API v3 formats."""
    started = dt.datetime.now()
    collector = Collector(skip_bad_rows)
    try:
        layout = layout_option(date_format)
    except ValueError as bad:
        raise ImportRejected([RowError("--date-format", 0, "date format", str(bad))]) from None
    parsed = ReportRows(profile_id, attribution=attribution, date_format=layout)
    if currency is not None:
        problem = parsed.set_currency(currency.upper(), "--currency", 0, "currency")
        if problem:
            raise ImportRejected([RowError("--currency", 0, "currency", problem)])
    for path in paths:
        read(path, parsed, collector, progress)
    parsed.finish()
    return import_parsed(
        parsed.profile(tenant),
        list(parsed.entities.values()),
        parsed.leaves,
        rows=parsed.rows,
        skipped=collector.errors,
        started=started,
        own=parsed.own,
        **stores,
    )


@dataclass(frozen=True)
class Shape:
    """What a report is: its ad product, level, columns (field -> header), window, date layout."""

    product: str
    level: str
    headers: dict[str, str]
    window: int | None
    layout: str | None
    decimal: str | None  # the file's decimal mark, when its cells show one


def read_console_report(
    path: Path, parsed: ReportRows, collector: Collector, progress: bool = False
) -> None:
    table = read_table(path, progress)
    shape = _shape(path, table, parsed)
    accepted = 0
    for line, row in table.rows:
        if EXTRA in row:
            collector.add([RowError(path.name, line, "row", "more cells than columns")])
            continue
        values = {f: row.get(h) for f, h in shape.headers.items()}
        if all(blank(v) for v in values.values()):
            continue  # trailing empty rows of a spreadsheet
        if _is_total_row(values):
            continue  # a "Total" line some downloads end with
        errors = _add_row(path.name, line, values, shape, parsed, table.epoch)
        collector.add(errors)
        accepted += not errors
    if not accepted:
        skipped = len(table.rows)
        why = f"no row could be read ({skipped} skipped)" if skipped else "has no data rows"
        raise ImportRejected(
            [RowError(path.name, table.rows[-1][0] if skipped else 1, "file", why)]
        )
    parsed.finish()


def _shape(path: Path, table: Table, parsed: ReportRows) -> Shape:
    source = path.name
    found: dict[str, str] = {}
    windowed: dict[int, dict[str, str]] = {}
    for name in table.header:
        key, code = normalise_header(name)
        if key in UNSUPPORTED:
            raise ImportRejected(
                [RowError(source, 1, name, f"unsupported report type: {UNSUPPORTED[key]}")]
            )
        match = _WINDOWED.match(key)
        if match:
            windowed.setdefault(int(match["days"]), {}).setdefault(match["what"], name)
        elif key in COLUMNS:
            found.setdefault(COLUMNS[key], name)
        money = key in ("spend", "cost", "total spend", "sales", "total sales")
        if code and (money or (match is not None and match["what"] == "sales")):
            problem = parsed.set_currency(code, source, 1, name)
            if problem:
                raise ImportRejected([RowError(source, 1, name, problem)])
    product = _product(path, table.header)
    level = _level(source, found)
    window = _window(source, found, windowed, parsed.attribution)
    earlier = parsed.windows.setdefault(product, (window, source))
    if earlier[0] != window:
        said = lambda w: f"{w}-day" if w else "unwindowed"  # noqa: E731
        why = (
            f"{said(window)} sales, but {earlier[1]} has {said(earlier[0])}: one attribution "
            f"window per ad product in an import (--attribution picks one where both exist)"
        )
        raise ImportRejected([RowError(source, 1, found["sales"], why)])
    _require(source, found, level, product)
    date_cells = [
        (line, row.get(found[f]))
        for f in ("date", "start", "end")
        if f in found
        for line, row in table.rows
    ]
    layout = parsed.date_format or detect_layout(
        sorted(date_cells, key=lambda c: c[0]), source, found.get("date") or found["start"]
    )
    amounts = [row.get(found[f]) for _, row in table.rows for f in ("spend", "sales")]
    return Shape(product, level, found, window, layout, decimal_mark(amounts))


def normalise_header(header: Any) -> tuple[str, str | None]:
    """(key, currency named in it): ``Spend(INR)`` → ("spend", "INR"), ``7-Day Total Orders
    (#)`` → ("7 day total orders", None), ``Total Advertising Cost of Sales (ACOS)``
    → ("total advertising cost of sales", None)."""
    text = str(header or "").replace("\u00a0", " ").strip()
    currency: str | None = None
    for inside in re.findall(r"\(([^)]*)\)", text):
        code = _currency_code(inside.strip())
        currency = currency or code
    text = re.sub(r"\([^)]*\)", " ", text).lower()
    text = re.sub(r"(\d)\s*-?\s*days?\b", r"\1 day", text)  # "7-Day", "14 Days"
    text = re.sub(r"[\s_]+", " ", text).strip(" :-")
    return text, currency


def _currency_code(text: str) -> str | None:
    if text.upper() in CURRENCIES:
        return text.upper()
    codes = SYMBOLS.get(text)
    return codes[0] if codes and len(codes) == 1 else None


def _product(path: Path, header: list[str]) -> str:
    """SP, SB or SD: the console's file name says it; else the columns only SB/SD have."""
    name = re.sub(r"[_\-.]+", " ", path.stem.lower())
    if "sponsored brands" in name or re.match(r"^sb\b", name):
        return "SB"
    if "sponsored display" in name or re.match(r"^sd\b", name):
        return "SD"
    keys = {normalise_header(h)[0] for h in header}
    if any("bid optimization" in k for k in keys):
        return "SD"
    if any("new to brand" in k or "new-to-brand" in k for k in keys):
        return "SB"
    return "SP"


def _level(source: str, found: dict[str, str]) -> str:
    if "campaign" not in found:
        raise ImportRejected(
            [
                RowError(
                    source,
                    1,
                    "Campaign Name",
                    "column is missing: unsupported report type (an account-level report?); "
                    "Tripwire reads targeting, search term, campaign, ad group, placement "
                    "and advertised product reports",
                )
            ]
        )
    if "search_term" in found:
        return "search term"
    if "targeting" in found:
        return "targeting"
    if "asin" in found or "sku" in found:
        return "advertised product"
    if "placement" in found:
        return "placement"
    if "ad_group" in found:
        return "ad group"
    return "campaign"


def _window(
    source: str, found: dict[str, str], windowed: dict[int, dict[str, str]], wanted: int | None
) -> int | None:
    """The attribution window whose sales and orders columns the report is read with."""
    complete = sorted(d for d, cols in windowed.items() if {"sales", "orders"} <= cols.keys())
    for days, cols in windowed.items():
        if days not in complete:
            what = "orders" if "sales" in cols else "sales"
            label = f"{days} Day Total {what.title()}"
            raise ImportRejected([RowError(source, 1, label, "column is missing")])
    if wanted is not None:
        if wanted not in windowed:
            have = ", ".join(f"{d}-day" for d in complete) or "no windowed"
            why = f"column is missing (--attribution {wanted}; the report has {have} columns)"
            raise ImportRejected([RowError(source, 1, f"{wanted} Day Total Sales", why)])
        chosen: int | None = wanted
    elif len(complete) > 1:
        names = ", ".join(f"{d}-day" for d in complete)
        choices = "|".join(map(str, complete))
        why = f"the report has {names} sales: pick one with --attribution {choices}"
        raise ImportRejected([RowError(source, 1, windowed[complete[0]]["sales"], why)])
    elif complete:
        chosen = complete[0]
    else:
        chosen = None
    if chosen is not None:
        found["sales"], found["orders"] = windowed[chosen]["sales"], windowed[chosen]["orders"]
    return chosen


def _require(source: str, found: dict[str, str], level: str, product: str) -> None:
    needed = ["impressions", "clicks", "spend", "sales", "orders"]
    if level in KEYWORD_LEVELS:
        needed += ["targeting"]
        if product == "SP":  # SB keywords predate ad groups; SD targets have no match type
            needed += ["ad_group"]
    if level == "search term":
        needed += ["search_term"]
    if "date" not in found and ("start" in found) != ("end" in found):
        needed += ["start", "end"]
    elif "date" not in found and "start" not in found:
        needed += ["date"]
    labels = {
        "sales": "7 Day Total Sales", "orders": "7 Day Total Orders (#)",
        "ad_group": "Ad Group Name", "start": "Start Date", "end": "End Date",
        "search_term": "Customer Search Term",
    }  # fmt: skip
    for name in needed:
        if name not in found:
            label = labels.get(name, name.title())
            raise ImportRejected([RowError(source, 1, label, "column is missing")])


def _is_total_row(values: dict[str, Any]) -> bool:
    first = str(values.get("date") or values.get("start") or "").strip().lower()
    return first in ("total", "totals", "grand total")


def _add_row(
    source: str,
    line: int,
    values: dict[str, Any],
    shape: Shape,
    parsed: ReportRows,
    epoch: dt.datetime | None,
) -> list[RowError]:
    headers = shape.headers

    def error(name: str, message: str) -> list[RowError]:
        return [RowError(source, line, headers.get(name, name), message)]

    day, problem = _row_day(values, shape, epoch)
    if problem:
        return error("date" if "date" in headers else "start", problem)
    assert day is not None
    names: dict[str, str] = {
        k: str(values.get(k) or "").strip()
        for k in ("campaign", "ad_group", "targeting", "search_term", "placement", "asin", "sku")
        if k in headers
    }
    for name in ("campaign", "ad_group", "targeting", "search_term", "placement"):
        if name in names and not names[name] and (name != "ad_group" or shape.level != "campaign"):
            return error(name, "is empty")
    if shape.level == "advertised product" and not (names.get("asin") or names.get("sku")):
        return error("asin" if "asin" in headers else "sku", "is empty")
    numbers: dict[str, Any] = {}
    symbols: list[tuple[str, str]] = []
    for name in MEASURES:
        amount, symbol, problem = parse_amount(values[name], shape.decimal, name in COUNTS)
        if problem:
            return error(name, problem)
        if symbol == "%":
            return error(
                name,
                f"{values[name]!r} is a percentage, not a count or an amount",
            )
        numbers[name] = amount
        if symbol:
            symbols.append((name, symbol))
    code_problem = _currency(source, line, values, headers, symbols, parsed)
    if code_problem:
        return code_problem
    entity, rank, part, what = _entities(parsed, shape, names, values)
    try:
        point = PPCPoint.model_validate({"entity_id": entity, "period": day, **numbers})
    except ValidationError as invalid:
        renames = {f: headers.get(f, f) for f in numbers}
        renames["period"] = headers.get("date") or headers["start"]
        return row_errors(invalid, source, line, renames)
    points = parsed.detail.setdefault((entity, rank), {}).setdefault(part, {})
    period = day.isoformat()
    if period in points:
        return error(
            "date" if "date" in headers else "start", f"{what} already has a row for {period}"
        )
    points[period] = point.values()
    parsed.rows += 1
    return []


def _row_day(
    values: dict[str, Any], shape: Shape, epoch: dt.datetime | None
) -> tuple[dt.date | None, str | None]:
    hint = "a date (like 2026-12-01 or Dec 01, 2026)"
    if "date" in shape.headers:
        day = parse_day(values["date"], shape.layout, epoch)
        return (day, None) if day else (None, f"{values['date']!r} is not {hint}")
    start = parse_day(values["start"], shape.layout, epoch)
    end = parse_day(values["end"], shape.layout, epoch)
    if start is None:
        return None, f"{values['start']!r} is not {hint}"
    if end is None:
        return None, f"End Date {values['end']!r} is not {hint}"
    if start != end:
        return None, (
            f"the row spans {start} to {end}: Tripwire stores daily points, so download the "
            "report with a daily time unit (one day per row)"
        )
    return start, None


def _currency(
    source: str,
    line: int,
    values: dict[str, Any],
    headers: dict[str, str],
    symbols: list[tuple[str, str]],
    parsed: ReportRows,
) -> list[RowError]:
    """The row's currency (column or symbols) must be known and the file's one currency."""
    column = str(values.get("currency") or "").strip().upper()
    if column:
        problem = parsed.set_currency(column, source, line, headers["currency"])
        if problem:
            return [RowError(source, line, headers["currency"], problem)]
    for name, symbol in symbols:
        codes = SYMBOLS.get(symbol) or SYMBOLS.get(symbol.upper())
        label = headers.get(name, name)
        if codes is None:
            return [RowError(source, line, label, f"unknown currency {symbol!r}")]
        if parsed.currency in codes:
            continue
        problem = parsed.set_currency(codes[0], source, line, label)
        if problem:
            return [RowError(source, line, label, problem)]
    return []


def _entities(
    parsed: ReportRows, shape: Shape, names: dict[str, str], values: dict[str, Any]
) -> tuple[str, int, str, str]:
    """Add the row's portfolio, campaign and keyword; returns (the entity its numbers go
    to, its level's rank, the part of that entity the row is, a label for errors)."""
    parent = parsed.account
    portfolio = str(values.get("portfolio") or "").strip()
    if portfolio.lower() not in NO_PORTFOLIO:
        parent = _name_id("pf", parsed.account, portfolio)
        parsed.add_entity(
            Entity(
                entity_id=parent, entity_type="portfolio", parent_id=parsed.account, name=portfolio
            )
        )
    product = "" if shape.product == "SP" else f"{shape.product}\x1f"  # SP ids as before
    name = names["campaign"]
    campaign = _name_id("cp", parsed.account, product + name, name)
    label = name if shape.product == "SP" else f"{name} ({PRODUCTS[shape.product]})"
    parsed.add_entity(
        Entity(entity_id=campaign, entity_type="campaign", parent_id=parent, name=label)
    )
    group = names.get("ad_group", "")
    if shape.level in KEYWORD_LEVELS:
        match = str(values.get("match_type") or "").strip().lower()
        match = "-" if match in NO_MATCH else match
        target = names["targeting"]
        key = "\x1f".join((name, group, _fold(target), match))
        keyword = f"kw-{_digest(parsed.account, product + key, 16)}"
        shown = f"{target} [{match}]" + (f" — {group}" if group else "")
        parsed.add_entity(
            Entity(entity_id=keyword, entity_type="keyword", parent_id=campaign, name=shown)
        )
        part = names.get("search_term", "")
        what = f"{shown} ({name})" + (f", search term {part!r}," if part else "")
        return keyword, KEYWORD_LEVELS[shape.level], _fold(part), what
    parts = {
        "campaign": (),
        "ad group": (group,),
        "placement": (names.get("placement", ""),),
        "advertised product": (group, names.get("asin", ""), names.get("sku", "")),
    }[shape.level]
    what = f"campaign {name!r}" + (
        f" ({shape.level} {' / '.join(p for p in parts if p)})" if parts else ""
    )
    return campaign, CAMPAIGN_LEVELS[shape.level], "\x1f".join(parts), what


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _name_id(prefix: str, account: str, key: str, name: str | None = None) -> str:
    slug = re.sub(r"[^0-9A-Za-z]+", "-", name or key).strip("-").lower()[:40] or "x"
    return f"{prefix}-{slug}-{_digest(account, key, 8)}"


def _digest(account: str, text: str, length: int) -> str:
    return hashlib.sha256(f"{account}\x1e{text}".encode()).hexdigest()[:length]


def decimal_mark(cells: list[Any]) -> str | None:
    """The decimal mark a file's amounts show (``,`` in ``12,50``; ``.`` in ``1,234.56``),
    or None when no cell tells (``1,234``, ``¥1,200``, numbers typed in a spreadsheet)."""
    for cell in cells:
        if not isinstance(cell, str):
            continue
        digits = re.sub(r"[^\d.,]", "", cell)
        last = max(digits.rfind("."), digits.rfind(","))
        if last < 0:
            continue
        tail = digits[last + 1 :]
        both = "." in digits and "," in digits
        if both or len(tail) != 3:
            return digits[last]
    return None


def parse_amount(
    value: Any, decimal: str | None = None, count: bool = False
) -> tuple[float | None, str, str | None]:
    """(number, currency symbol, problem) of a console cell: ``$1,234.56``, ``1.234,56 €``,
    ``₹1 234,56``, ``Rs. 1,234``, ``12.5%`` (symbol ``%``, the number a fraction).
    ``decimal`` is the file's decimal mark when known; a ``count`` has none."""
    if isinstance(value, bool):
        return None, "", f"{value!r} is not a number"
    if isinstance(value, int | float):
        return float(value), "", None
    text = str(value or "").strip().replace("\u00a0", " ").replace("\u202f", " ")
    if not text:
        return None, "", "is empty"
    prefix = _PREFIX.match(text)
    if prefix:
        text = text[prefix.end() :]
    match = _AMOUNT.match(text)
    if not match:
        return None, "", f"{str(value).strip()!r} is not a number"
    pre = prefix["sym"] if prefix else match["pre"].strip()
    post = match["post"].strip().rstrip(".")
    symbol = pre or post
    number = _plain_number(match["num"].replace(" ", "").replace("'", ""), decimal, count)
    if number is None or (pre and post) or not _symbol_like(symbol):
        return None, "", f"{str(value).strip()!r} is not a number"
    if symbol == "%":
        return number / 100, "%", None
    return number, symbol, None


def _symbol_like(symbol: str) -> bool:
    """A known symbol, a code-like ``XBT`` or a sign like ``₿`` (unknown: a currency error);
    other letters (``12.3O``) make the cell no number at all."""
    if not symbol or symbol in SYMBOLS or symbol == "%" or re.fullmatch(r"[A-Z]{3}", symbol):
        return True
    return not any(c.isalnum() for c in symbol)


def _plain_number(text: str, decimal: str | None = None, count: bool = False) -> float | None:
    """Thousand separators out, decimal point in. With the file's ``decimal`` mark known the
    other mark may only group thousands; without it, the last mark is the decimal one
    unless it is a lone mark before exactly three digits (``1,234`` = ``1.234`` = 1234)."""
    if decimal is None and count:
        decimal = "-"  # a count has no decimals: every mark groups thousands
    if decimal is not None:
        group = "," if decimal == "." else "." if decimal == "," else ".,"
        whole, _, fraction = text.partition(decimal) if decimal in ".," else (text, "", "")
        if fraction and not fraction.isdigit():
            return None
        if any(c in whole for c in group) and not re.fullmatch(r"-?\d{1,3}([.,]\d{3})+", whole):
            return None
        text = whole.replace(",", "").replace(".", "") + ("." + fraction if fraction else "")
    else:
        last = max(text.rfind("."), text.rfind(","))
        if last >= 0:
            separators = {c for c in text if c in ".,"}
            tail = text[last + 1 :]
            if len(separators) == 1 and len(tail) == 3:
                last = -1  # "1,234" and "1.234,000"-style groups: thousands
            if last < 0:
                text = text.replace(",", "").replace(".", "")
            else:
                text = text[:last].replace(",", "").replace(".", "") + "." + tail
    try:
        return float(text)
    except ValueError:
        return None


# Console downloads (CSV or XLSX): ``import_console_report(tenant, profile, paths, ...)``.
import_console_report = partial(import_report, read=read_console_report)
