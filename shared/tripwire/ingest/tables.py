"""A downloaded report as rows: CSV (comma, semicolon or tab) or the first sheet of an XLSX.

Reports are read whole before anything is decided, because a file's date layout and
number format are properties of the file, not of one row. Line numbers are the file's
own (the header is the first non-empty line), so errors point where a user looks.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from tripwire.ingest.csv_files import _decoded
from tripwire.ingest.errors import ImportRejected, RowError

EXTRA = "__extra__"  # a row with more cells than the header has columns


@dataclass
class Table:
    source: str  # the file name, for errors
    header: list[str]
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    epoch: dt.datetime | None = None  # an XLSX workbook's date system (serial dates)


def read_table(path: Path, progress: bool = False) -> Table:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx(path, progress)
    return _csv(path, progress)


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _record(header: list[str], cells: list[Any] | tuple[Any, ...]) -> dict[str, Any]:
    if len(cells) > len(header) and any(not blank(c) for c in cells[len(header) :]):
        return {EXTRA: "1"}
    return dict(zip(header, cells, strict=False))


def _csv(path: Path, progress: bool) -> Table:
    total = path.stat().st_size
    with (
        path.open("rb") as handle,
        tqdm(total=total, unit="B", unit_scale=True, desc=path.name, disable=not progress) as bar,
    ):
        lines = _decoded(handle, bar, path.name)
        table: Table | None = None
        reader: Any = None
        skipped = 0  # blank lines before the header
        for first in lines:
            if not first.strip():
                skipped += 1
            else:
                delimiter = max(",;\t", key=first.count)
                reader = csv.reader(_chain(first, lines), delimiter=delimiter)
                break
        if reader is None:
            raise ImportRejected([RowError(path.name, 1, "file", "is empty: no header row")])
        for cells in reader:
            line = reader.line_num + skipped
            if table is None:
                table = Table(path.name, [c.strip() for c in cells])
                continue
            if not any(c.strip() for c in cells):
                continue
            table.rows.append((line, _record(table.header, cells)))
    assert table is not None
    return table


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _xlsx(path: Path, progress: bool) -> Table:
    from openpyxl import load_workbook  # only XLSX imports pay for it

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # zipfile / XML errors: name the file, not a traceback
        raise ImportRejected(
            [RowError(path.name, 0, "file", f"is not an XLSX workbook ({error})")]
        ) from None
    try:
        sheet = book.worksheets[0]
        # Tools that write XLSX often leave a wrong <dimension ref="A1"> (or none); read-only
        # mode trusts it and would read nothing. Reset it and read every row there is.
        sheet.reset_dimensions()
        table: Table | None = None
        with tqdm(unit="row", desc=path.name, disable=not progress) as bar:
            for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
                bar.update(1)
                if all(blank(c) for c in cells):
                    continue
                if table is None:
                    header = [str(c).strip() if c is not None else "" for c in cells]
                    while header and not header[-1]:
                        header.pop()
                    table = Table(path.name, header, epoch=book.epoch)
                    continue
                table.rows.append((number, _record(table.header, cells)))
    finally:
        book.close()
    if table is None:
        raise ImportRejected([RowError(path.name, 1, "file", "is empty: no header row")])
    return table
