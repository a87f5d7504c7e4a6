"""Amazon Ads console downloads: the Sponsored Products targeting / keyword report (CSV, XLSX).

The console names things, it does not give ids, so ids are made from names: the account is
the profile; ``pf-<slug>-<hash>`` a portfolio, ``cp-<slug>-<hash>`` a campaign (names are
unique per account), and ``kw-<hash>`` a keyword — hashed from campaign, ad group,
targeting and match type, because the same keyword text in two ad groups is two keywords.

Amounts arrive as the console writes them: ``$1,234.56``, ``1.234,56 €``, ``¥1,200``.
The currency comes from a ``Currency`` column, else the amounts' symbol, else ``currency``;
a file holds one currency (a profile has one), and an unknown one is a bad row.
Every row is validated (the same ``PPCPoint`` and ``Collector`` as ``metrics.csv``) before
anything is written; errors name the file, the line and the column as the file spells it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from tqdm import tqdm

from tripwire.domain.entities import Entity, EntityType, Profile, ProfileKind
from tripwire.domain.metrics import Interval, PPCPoint, format_period
from tripwire.ingest.csv_files import Collector, LeafSeries, _rows
from tripwire.ingest.errors import ImportRejected, RowError, row_errors
from tripwire.ingest.importer import ImportReport, import_parsed

# Normalised header (lower case, no "(…)" suffix, single spaces) → field.
COLUMNS = {
    "date": "date",
    "portfolio name": "portfolio",
    "currency": "currency",
    "campaign name": "campaign",
    "ad group name": "ad_group",
    "targeting": "targeting",
    "match type": "match_type",
    "impressions": "impressions",
    "clicks": "clicks",
    "spend": "spend",
    "7 day total sales": "sales",
    "7 day total orders": "orders",
}
REQUIRED = tuple(f for f in COLUMNS.values() if f not in ("portfolio", "currency"))
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
    "₹": ("INR",),
    "₺": ("TRY",),
    "zł": ("PLN",),
    "kr": ("SEK",),
    "R": ("ZAR",),
    "AED": ("AED",),
    "SAR": ("SAR",),
    "EGP": ("EGP",),
}
NO_PORTFOLIO = frozenset({"", "-", "--", "no portfolio"})
DATE_FORMATS = ("%Y-%m-%d", "%b %d, %Y", "%d %b %Y", "%m/%d/%Y")
_AMOUNT = re.compile(r"^(?P<pre>[^\d\-.,]*)\s*(?P<num>-?[\d.,\s]*\d)\s*(?P<post>[^\d]*)$")


@dataclass
class ReportRows:
    """Validated rows of one or more reports, ready for ``import_parsed``."""

    account: str
    currency: str | None = None
    currency_source: tuple[str, int, str] | None = None  # where the currency was decided
    entities: dict[str, Entity] = field(default_factory=dict)
    leaves: LeafSeries = field(default_factory=dict)
    rows: int = 0

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


ReportReader = Callable[[Path, "ReportRows", Collector, bool], None]


def import_report(
    tenant: str,
    profile_id: str,
    paths: list[Path],
    *,
    read: ReportReader,
    currency: str | None = None,
    skip_bad_rows: bool = False,
    progress: bool = False,
    **stores: Any,
) -> ImportReport:
    """Read every report completely with ``read``, then write (nothing is written when a
    row is bad). Shared by the console and the Ads API v3 formats."""
    started = dt.datetime.now()
    collector = Collector(skip_bad_rows)
    parsed = ReportRows(profile_id)
    if currency is not None:
        problem = parsed.set_currency(currency.upper(), "--currency", 0, "currency")
        if problem:
            raise ImportRejected([RowError("--currency", 0, "currency", problem)])
    for path in paths:
        read(path, parsed, collector, progress)
    return import_parsed(
        parsed.profile(tenant),
        list(parsed.entities.values()),
        parsed.leaves,
        rows=parsed.rows,
        skipped=collector.errors,
        started=started,
        **stores,
    )


def read_console_report(
    path: Path, parsed: ReportRows, collector: Collector, progress: bool = False
) -> None:
    rows = (
        _xlsx_rows(path, progress) if path.suffix.lower() == ".xlsx" else _rows(path, (), progress)
    )
    headers: dict[str, str] | None = None  # field -> the header as the file spells it
    for line, row in rows:
        if headers is None:
            headers = _headers(path.name, list(row))
        if "__extra__" in row:
            collector.add([RowError(path.name, line, "row", "more cells than columns")])
            continue
        values = {f: row.get(h) for f, h in headers.items()}
        if all(_blank(v) for v in values.values()):
            continue  # trailing empty rows of a spreadsheet
        errors = _add_row(path.name, line, values, headers, parsed)
        collector.add(errors)


def _headers(source: str, names: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in names:
        key = _normalise(name)
        if key in COLUMNS:
            found.setdefault(COLUMNS[key], name)
    missing = [f for f in REQUIRED if f not in found]
    if missing:
        label = next(k for k, v in COLUMNS.items() if v == missing[0])
        raise ImportRejected([RowError(source, 1, label.title(), "column is missing")])
    return found


def _normalise(header: str) -> str:
    text = re.sub(r"\([^)]*\)", " ", str(header or "")).strip().lower()
    return re.sub(r"\s+", " ", text)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _add_row(
    source: str, line: int, values: dict[str, Any], headers: dict[str, str], parsed: ReportRows
) -> list[RowError]:
    def error(name: str, message: str) -> list[RowError]:
        return [RowError(source, line, headers.get(name, name), message)]

    day = _parse_date(values["date"])
    if day is None:
        return error("date", f"{values['date']!r} is not a date (YYYY-MM-DD or 'Nov 03, 2026')")
    names = {k: str(values.get(k) or "").strip() for k in ("campaign", "ad_group", "targeting")}
    for name, text in names.items():
        if not text:
            return error(name, "is empty")
    numbers: dict[str, Any] = {}
    symbols: list[tuple[str, str]] = []
    for name in ("impressions", "clicks", "spend", "sales", "orders"):
        amount, symbol, problem = parse_amount(values[name])
        if problem:
            return error(name, problem)
        numbers[name] = amount
        if symbol:
            symbols.append((name, symbol))
    code_problem = _currency(source, line, values, headers, symbols, parsed)
    if code_problem:
        return code_problem
    keyword = _entities(parsed, names, values)
    try:
        point = PPCPoint.model_validate({"entity_id": keyword, "period": day, **numbers})
    except ValidationError as invalid:
        renames = {f: headers.get(f, f) for f in numbers} | {"period": headers["date"]}
        return row_errors(invalid, source, line, renames)
    points = parsed.leaves.setdefault(keyword, {})
    period = format_period(point.period, Interval.D1)
    if period in points:
        what = f"{names['targeting']} ({names['campaign']} / {names['ad_group']})"
        return error("date", f"{what} already has a row for {period}")
    points[period] = point.values()
    parsed.rows += 1
    return []


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


def _entities(parsed: ReportRows, names: dict[str, str], values: dict[str, Any]) -> str:
    """Add the row's portfolio, campaign and keyword; returns the keyword id."""
    parent = parsed.account
    portfolio = str(values.get("portfolio") or "").strip()
    if portfolio.lower() not in NO_PORTFOLIO:
        parent = _name_id("pf", parsed.account, portfolio)
        parsed.add_entity(
            Entity(
                entity_id=parent, entity_type="portfolio", parent_id=parsed.account, name=portfolio
            )
        )
    campaign = _name_id("cp", parsed.account, names["campaign"])
    parsed.add_entity(
        Entity(entity_id=campaign, entity_type="campaign", parent_id=parent, name=names["campaign"])
    )
    match = str(values.get("match_type") or "").strip()
    key = "\x1f".join((names["campaign"], names["ad_group"], names["targeting"], match.lower()))
    keyword = f"kw-{_digest(parsed.account, key, 16)}"
    label = f"{names['targeting']} [{match or '-'}] — {names['ad_group']}"
    parsed.add_entity(
        Entity(entity_id=keyword, entity_type="keyword", parent_id=campaign, name=label)
    )
    return keyword


def _name_id(prefix: str, account: str, name: str) -> str:
    slug = re.sub(r"[^0-9A-Za-z]+", "-", name).strip("-").lower()[:40] or "x"
    return f"{prefix}-{slug}-{_digest(account, name, 8)}"


def _digest(account: str, text: str, length: int) -> str:
    return hashlib.sha256(f"{account}\x1e{text}".encode()).hexdigest()[:length]


def _parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    for pattern in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def parse_amount(value: Any) -> tuple[float | None, str, str | None]:
    """(number, currency symbol, problem) of a console cell: ``$1,234.56``, ``1.234,56 €``."""
    if isinstance(value, bool):
        return None, "", f"{value!r} is not a number"
    if isinstance(value, int | float):
        return float(value), "", None
    text = str(value or "").strip().replace("\u00a0", " ")
    if not text:
        return None, "", "is empty"
    match = _AMOUNT.match(text)
    if not match:
        return None, "", f"{text!r} is not a number"
    pre, post = match["pre"].strip(), match["post"].strip().rstrip(".")
    symbol = pre or post
    number = _plain_number(match["num"].replace(" ", ""))
    if number is None or (pre and post) or not _symbol_like(symbol):
        return None, "", f"{text!r} is not a number"
    return number, symbol, None


def _symbol_like(symbol: str) -> bool:
    """A known symbol, a code-like ``XBT`` or a sign like ``₿`` (unknown: a currency error);
    other letters (``12.3O``) make the cell no number at all."""
    if not symbol or symbol in SYMBOLS or re.fullmatch(r"[A-Z]{3}", symbol):
        return True
    return not any(c.isalnum() for c in symbol)


def _plain_number(text: str) -> float | None:
    """Thousand separators out, decimal point in: the last of ``.``/``,`` is the decimal one,
    except a lone separator followed by exactly three digits (``1,234`` = 1234)."""
    last = max(text.rfind("."), text.rfind(","))
    if last >= 0:
        separators = {c for c in text if c in ".,"}
        tail = text[last + 1 :]
        if len(separators) == 1 and text.count(text[last]) == 1 and len(tail) == 3:
            last = -1 if text[last] == "," else last  # "1,234" thousands; "1.234" decimal
        if last < 0:
            text = text.replace(",", "")
        else:
            text = text[:last].replace(",", "").replace(".", "") + "." + tail
    try:
        return float(text)
    except ValueError:
        return None


def _xlsx_rows(path: Path, progress: bool) -> Iterator[tuple[int, dict[str, Any]]]:
    """The first sheet's rows as dicts keyed by the header row (openpyxl, read-only)."""
    from openpyxl import load_workbook  # only XLSX imports pay for it

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # zipfile / XML errors: name the file, not a traceback
        raise ImportRejected(
            [RowError(path.name, 0, "file", f"is not an XLSX workbook ({error})")]
        ) from None
    try:
        sheet = book.worksheets[0]
        with tqdm(total=sheet.max_row, unit="row", desc=path.name, disable=not progress) as bar:
            cells = sheet.iter_rows(values_only=True)
            header = [str(c or "").strip() for c in next(cells, ())]
            bar.update(1)
            for number, row in enumerate(cells, start=2):
                bar.update(1)
                if len(row) > len(header) and any(not _blank(c) for c in row[len(header) :]):
                    yield number, {"__extra__": "1"}
                    continue
                yield number, dict(zip(header, row, strict=False))
    finally:
        book.close()


# Console downloads (CSV or XLSX): ``import_console_report(tenant, profile, paths, ...)``.
import_console_report = partial(import_report, read=read_console_report)
