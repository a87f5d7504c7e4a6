"""Day columns as exports write them: ISO, ``M/D/YYYY``, ``D.M.YYYY``, ``Dec 01, 2026``, serials.

A file uses one layout. ``12/01/2026`` alone could be 1 December or 12 January, so numeric
day-month layouts are decided per file: a part above 12 says which is the day; a file in
which every date reads both ways is refused (naming its first line) unless the caller
names the layout. Dots are ``D.M.YYYY`` (no locale writes months first with dots).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from tripwire.ingest.errors import ImportRejected, RowError

# --date-format names → strptime pattern; "mdy"/"dmy" read "/", "." and "-" alike.
LAYOUTS = {"iso": "%Y-%m-%d", "mdy": "%m/%d/%Y", "dmy": "%d/%m/%Y"}
_NUMERIC = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})$")
_LEADING = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})(?=$|[ T])")  # timestamps too
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_NAMED = ("%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y", "%d-%b-%Y", "%b %d %Y", "%d-%b-%y")
_TIME = re.compile(r"^(?P<day>\S+(?: \S+,? \S+)?)[ T]00:00(?::00(?:\.0+)?)?(?:Z|[+-]\d\d:?\d\d)?$")


def layout_option(value: str | None) -> str | None:
    """A ``--date-format`` value: a layout name or a strptime pattern (``%d/%m/%Y``)."""
    if value is None:
        return None
    name = value.strip().lower().replace("/", "").replace(".", "").replace("-", "")
    aliases = {"iso": "iso", "ymd": "iso", "yyyymmdd": "iso", "mdy": "mdy", "mdyyyy": "mdy",
               "mmddyyyy": "mdy", "dmy": "dmy", "dmyyyy": "dmy", "ddmmyyyy": "dmy"}  # fmt: skip
    if name in aliases:
        return aliases[name]
    if "%" in value:
        return value
    raise ValueError(f"{value!r} is not a date layout (iso, mdy, dmy or a strptime pattern)")


def detect_layout(cells: Iterable[tuple[int, Any]], source: str, column: str) -> str | None:
    """The file's day-month order (``"mdy"``/``"dmy"``), or None when it has no such dates.

    ``cells`` are (line, cell) of the date column. Dotted dates are day first; slashed or
    dashed ones are decided by a part above 12 (both kinds in one file is an error)."""
    first: tuple[int, str] | None = None
    day_first: tuple[int, str] | None = None
    month_first: tuple[int, str] | None = None
    for line, cell in cells:
        match = _LEADING.match(str(cell or "").strip())
        if not match:
            continue
        a, sep, b = int(match[1]), match[2], int(match[3])
        if sep == ".":
            return "dmy"
        first = first or (line, match[0])
        if a > 12 and day_first is None:
            day_first = (line, match[0])
        if b > 12 and month_first is None:
            month_first = (line, match[0])
    if day_first and month_first:
        why = f"{day_first[1]!r} (line {day_first[0]}) is day-first, {month_first[1]!r} month-first"
        raise ImportRejected([RowError(source, month_first[0], column, why)])
    if day_first or month_first:
        return "dmy" if day_first else "mdy"
    if first is None:
        return None
    why = (
        f"every date, like {first[1]!r}, reads as month/day and as day/month: "
        "name the layout with --date-format mdy or dmy"
    )
    raise ImportRejected([RowError(source, first[0], column, why)])


def parse_day(
    value: Any, layout: str | None = None, epoch: dt.datetime | None = None
) -> dt.date | None:
    """The day of a cell, or None. ``layout`` decides numeric day-month order; a number is a
    spreadsheet serial (days since ``epoch``, Excel's 1900 system by default)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _serial(float(value), epoch)
    text = _strip_time(str(value or "").strip())
    if not text:
        return None
    if layout is not None and layout not in LAYOUTS:
        return _strptime(text, layout)
    iso = _ISO.match(text)
    if iso:
        return _day(int(iso[1]), int(iso[2]), int(iso[3]))
    numeric = _NUMERIC.match(text)
    if numeric:
        a, b, year = int(numeric[1]), int(numeric[3]), int(numeric[4])
        order = layout if layout in ("mdy", "dmy") else ("dmy" if numeric[2] == "." else None)
        if order is None:  # no layout given: only an unambiguous date reads
            order = "dmy" if a > 12 else "mdy" if b > 12 else None
            if order is None:
                return None
        return _day(year, a, b) if order == "mdy" else _day(year, b, a)
    for pattern in _NAMED:
        day = _strptime(text, pattern)
        if day is not None:
            return day
    if re.fullmatch(r"\d{5}(\.\d+)?", text):  # a serial written as text
        return _serial(float(text), epoch)
    return None


def _strip_time(text: str) -> str:
    """``2026-12-01 00:00:00`` and ``2026-12-01T00:00:00Z`` are that day."""
    match = _TIME.match(text.strip())
    return match["day"] if match else text.strip()


def _strptime(text: str, pattern: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text, pattern).date()
    except ValueError:
        return None


def _day(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _serial(value: float, epoch: dt.datetime | None) -> dt.date | None:
    if not 1 <= value < 2_958_466:  # Excel's range: 1900-01-01 … 9999-12-31
        return None
    days = int(value)
    if epoch is not None and epoch.year == 1904:  # the Mac workbooks' date system
        return epoch.date() + dt.timedelta(days=days)
    # Excel's 1900 system counts a 29 Feb 1900 that never was (serial 60).
    return dt.date(1899, 12, 30 if days > 60 else 31) + dt.timedelta(days=days)
