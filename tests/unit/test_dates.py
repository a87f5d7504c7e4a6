"""Day cells as exports write them, and a file's day-month order decided once per file."""

from __future__ import annotations

import datetime as dt

import pytest

from tripwire.ingest.dates import detect_layout, layout_option, parse_day
from tripwire.ingest.errors import ImportRejected

DEC_1 = dt.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("cell", "layout"),
    [
        ("2026-12-01", None),
        ("2026/12/01", None),
        ("Dec 01, 2026", None),
        ("December 1, 2026", None),
        ("01 Dec 2026", None),
        ("1-Dec-2026", None),
        ("01.12.2026", None),  # dots are day first
        ("12/01/2026", "mdy"),
        ("01/12/2026", "dmy"),
        ("2026-12-01 00:00:00", None),
        ("2026-12-01T00:00:00Z", None),
        (dt.datetime(2026, 12, 1, 0, 0), None),
        (46357, None),  # an Excel serial
        ("01-12-2026", "%d-%m-%Y"),
    ],
)
def test_the_layouts_a_console_or_finance_export_writes(cell: object, layout: str | None) -> None:
    assert parse_day(cell, layout) == DEC_1


def test_without_a_layout_only_an_unambiguous_numeric_date_reads() -> None:
    assert parse_day("12/13/2026") == dt.date(2026, 12, 13)
    assert parse_day("13/12/2026") == dt.date(2026, 12, 13)
    assert parse_day("12/01/2026") is None
    assert parse_day("02/30/2026", "mdy") is None and parse_day("soon") is None


def test_excel_serials_count_its_phantom_29_february_1900_and_the_1904_system() -> None:
    assert parse_day(1) == dt.date(1900, 1, 1)
    assert parse_day(61) == dt.date(1900, 3, 1)
    assert parse_day(0, epoch=dt.datetime(1904, 1, 1)) is None  # below Excel's range
    assert parse_day(44895, epoch=dt.datetime(1904, 1, 1)) == dt.date(2026, 12, 1)


def lines(*cells: str) -> list[tuple[int, str]]:
    return list(enumerate(cells, start=2))


def test_a_part_above_12_tells_the_files_order() -> None:
    assert detect_layout(lines("1/4/1999", "1/13/1999"), "a.csv", "Date") == "mdy"
    assert detect_layout(lines("4/1/1999", "13/1/1999"), "a.csv", "Date") == "dmy"
    assert detect_layout(lines("04.01.1999"), "a.csv", "Date") == "dmy"
    assert detect_layout(lines("1999-01-04", "Jan 04, 1999"), "a.csv", "Date") is None


def test_a_file_that_reads_both_ways_is_refused_at_its_first_date() -> None:
    with pytest.raises(ImportRejected) as rejected:
        detect_layout(lines("1/4/1999", "1/5/1999"), "a.csv", "Date")
    error = rejected.value.errors[0]
    assert (error.source, error.line, error.field) == ("a.csv", 2, "Date")
    assert "--date-format mdy or dmy" in error.message


def test_both_orders_in_one_file_are_refused_where_the_second_shows() -> None:
    with pytest.raises(ImportRejected, match="is day-first") as rejected:
        detect_layout(lines("13/1/1999", "1/2/1999", "1/14/1999"), "a.csv", "Date")
    assert rejected.value.errors[0].line == 4


@pytest.mark.parametrize(
    ("option", "layout"),
    [("iso", "iso"), ("MDY", "mdy"), ("M/D/YYYY", "mdy"), ("D.M.YYYY", "dmy"),
     ("dd/mm/yyyy", "dmy"), ("%Y%m%d", "%Y%m%d"), (None, None)],
)  # fmt: skip
def test_date_format_options(option: str | None, layout: str | None) -> None:
    assert layout_option(option) == layout


def test_an_unknown_date_format_option_says_what_is_accepted() -> None:
    with pytest.raises(ValueError, match="iso, mdy, dmy or a strptime pattern"):
        layout_option("julian")
