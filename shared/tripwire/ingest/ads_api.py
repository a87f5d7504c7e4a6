"""Amazon Ads API v3 reports: ``spTargeting`` rows as JSON (gzip'd, as the API delivers).

The API gives ids, so the tree follows them: the account is the profile, ``pf-<portfolioId>``
(when the report has ``portfolioId``), ``cp-<campaignId>``, ``kw-<keywordId>`` (a keyword id
is already unique per ad group). Names come from ``campaignName`` / ``adGroupName`` /
``keyword`` or ``targeting`` when the report has them; a portfolio's from ``portfolio_names``
(the sync lists them: a report has only ``portfolioId``), else its id. Measures:
``impressions``, ``clicks``, ``cost`` → spend, ``sales7d`` → sales, ``purchases7d`` → orders.
The currency is ``campaignBudgetCurrencyCode`` when present, else ``currency``.

Accepted files: a JSON array of row objects (the API's ``GZIP_JSON`` format, gzip detected
by its magic bytes) or JSON Lines. Errors name the file, the line the record starts on and
the field; for a one-line array the message also names the record number.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from tqdm import tqdm

from tripwire.domain.entities import Entity
from tripwire.domain.metrics import Interval, PPCPoint, format_period
from tripwire.ingest.ads_console import ReportRows, import_report
from tripwire.ingest.csv_files import Collector
from tripwire.ingest.errors import ImportRejected, RowError, row_errors

REQUIRED = ("date", "campaignId", "adGroupId", "keywordId")
MEASURES = {  # PPCPoint field -> report field
    "impressions": "impressions",
    "clicks": "clicks",
    "spend": "cost",
    "sales": "sales7d",
    "orders": "purchases7d",
}
CURRENCY_FIELD = "campaignBudgetCurrencyCode"
_ID = re.compile(r"^[^#\s]{1,100}$")


def read_api_report(
    path: Path,
    parsed: ReportRows,
    collector: Collector,
    progress: bool = False,
    *,
    portfolio_names: Mapping[str, str] | None = None,
) -> None:
    for line, number, record in records(path, progress):
        collector.add(add_record(path.name, line, number, record, parsed, portfolio_names))


def records(path: Path, progress: bool = False) -> Iterator[tuple[int, int, Any]]:
    """(line the record starts on, record number from 1, the decoded record)."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise ImportRejected(
                [RowError(path.name, 0, "file", f"bad gzip data ({error})")]
            ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejected([RowError(path.name, 1, "row", "is not UTF-8 text")]) from None
    decoder = json.JSONDecoder()
    with tqdm(
        total=len(text), unit="B", unit_scale=True, desc=path.name, disable=not progress
    ) as bar:
        position, number = _skip(text, 0), 0
        in_array = text.startswith("[", position)
        position = _skip(text, position + 1) if in_array else position
        # Lines counted as we go: counting from the start for every record would be
        # quadratic on the one-line arrays the API delivers (25 s for 15k records).
        line, counted = 1, 0
        while position < len(text) and not (in_array and text[position] == "]"):
            line += text.count("\n", counted, position)
            counted = position
            try:
                record, end = decoder.raw_decode(text, position)
            except json.JSONDecodeError as error:
                where = text.count("\n", 0, error.pos) + 1
                raise ImportRejected(
                    [RowError(path.name, where, "row", f"is not JSON: {error.msg}")]
                ) from None
            number += 1
            yield line, number, record
            bar.update(end - position)
            position = _skip(text, end)
            if in_array and text.startswith(",", position):
                position = _skip(text, position + 1)


def _skip(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def add_record(
    source: str,
    line: int,
    number: int,
    record: Any,
    parsed: ReportRows,
    portfolio_names: Mapping[str, str] | None = None,
) -> list[RowError]:
    def error(name: str, message: str) -> list[RowError]:
        return [RowError(source, line, name, f"record {number}: {message}")]

    if not isinstance(record, dict):
        return error("row", "is not a JSON object")
    for name in (*REQUIRED, *MEASURES.values()):
        if record.get(name) is None or record.get(name) == "":
            return error(name, "field is missing")
    ids = {name: str(record[name]).strip() for name in REQUIRED[1:]}
    for name, value in ids.items():
        if not _ID.match(value):
            return error(name, f"{value!r} is not an id (no spaces or '#')")
    code = str(record.get(CURRENCY_FIELD) or "").strip().upper()
    if code:
        problem = parsed.set_currency(code, source, line, CURRENCY_FIELD)
        if problem:
            return error(CURRENCY_FIELD, problem)
    keyword = _entities(parsed, ids, record, portfolio_names or {})
    values = {field: record[name] for field, name in MEASURES.items()}
    try:
        point = PPCPoint.model_validate({"entity_id": keyword, "period": record["date"], **values})
    except ValidationError as invalid:
        found = row_errors(
            invalid, source, line, {**MEASURES, "period": "date", "entity_id": "keywordId"}
        )
        return [RowError(e.source, e.line, e.field, f"record {number}: {e.message}") for e in found]
    points = parsed.leaves.setdefault(keyword, {})
    period = format_period(point.period, Interval.D1)
    if period in points:
        return error("date", f"keyword {ids['keywordId']} already has a record for {period}")
    points[period] = point.values()
    parsed.rows += 1
    return []


def _entities(
    parsed: ReportRows, ids: dict[str, str], record: dict[str, Any], names: Mapping[str, str]
) -> str:
    parent = parsed.account
    portfolio = str(record.get("portfolioId") or "").strip()
    if portfolio:
        parent = f"pf-{portfolio}"
        name = names.get(portfolio) or str(record.get("portfolioName") or portfolio)
        parsed.add_entity(
            Entity(entity_id=parent, entity_type="portfolio", parent_id=parsed.account, name=name)
        )
    campaign = f"cp-{ids['campaignId']}"
    name = str(record.get("campaignName") or ids["campaignId"])
    parsed.add_entity(
        Entity(entity_id=campaign, entity_type="campaign", parent_id=parent, name=name)
    )
    keyword = f"kw-{ids['keywordId']}"
    text = record.get("keyword") or record.get("targeting") or ids["keywordId"]
    match = record.get("matchType") or record.get("keywordType") or "-"
    group = record.get("adGroupName") or ids["adGroupId"]
    label = f"{text} [{match}] — {group}"
    parsed.add_entity(
        Entity(entity_id=keyword, entity_type="keyword", parent_id=campaign, name=label)
    )
    return keyword


# API v3 reports (JSON, gzip'd JSON or JSON Lines): ``import_api_report(tenant, profile, paths)``.
import_api_report = partial(import_report, read=read_api_report)
