"""OHLCV CSV as finance tools export it, read into validated bars of market tickers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from tests.data.samples import write_ohlcv_samples
from tripwire.demo.market import generate_market
from tripwire.domain.metrics import Interval
from tripwire.ingest.csv_files import Collector, LeafSeries
from tripwire.ingest.errors import ImportRejected
from tripwire.ingest.ohlcv_csv import read_ohlcv_csv

OHLCV = Path(__file__).parents[1] / "data" / "ohlcv"


def read(path: Path, skip: bool = False, **options: object) -> tuple[LeafSeries, Collector]:
    leaves: LeafSeries = {}
    collector = Collector(skip)
    read_ohlcv_csv(path, "US", leaves, collector, **options)  # type: ignore[arg-type]
    return leaves, collector


def test_long_and_per_ticker_files_hold_the_same_bars() -> None:
    long, _ = read(OHLCV / "us_long.csv")
    per_ticker: LeafSeries = {}
    for path in sorted((OHLCV / "us").glob("*.csv")):
        read_ohlcv_csv(path, "US", per_ticker, Collector(False))
    assert long == per_ticker
    assert sorted(long) == ["US-AAPX", "US-BRKQ", "US-CNVX"]


def test_bars_are_the_generated_ones() -> None:
    market = generate_market(seed=3, tickers=3, days=90, market="US")
    leaves, _ = read(OHLCV / "us_long.csv")
    row = market.bars[market.bars["entity_id"] == "US-BRKQ"][10]
    stored = leaves["US-BRKQ"][str(row["date"])]
    assert stored == pytest.approx([row[m] for m in ("open", "high", "low", "close", "volume")])


def test_the_ticker_option_names_a_file_of_another_name(tmp_path: Path) -> None:
    path = tmp_path / "download (3).csv"
    path.write_text((OHLCV / "us" / "AAPX.csv").read_text())
    leaves, _ = read(path, ticker="7203.T")
    assert list(leaves) == ["US-7203.T"]


def test_intraday_exports_keep_their_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "AAPX.csv"
    path.write_text(
        "Datetime,Open,High,Low,Close,Adj Close,Volume\n"
        "2026-03-02 09:30:00-05:00,10,11,9.5,10.5,10.5,1200\n"
        "2026-03-02 09:45:00-05:00,10.5,10.6,10.1,10.2,10.2,800\n"
    )
    leaves, _ = read(path, interval=Interval.M15)
    assert list(leaves["US-AAPX"]) == ["2026-03-02T14:30:00", "2026-03-02T14:45:00"]


def test_daily_exports_with_a_midnight_timestamp_are_that_day(tmp_path: Path) -> None:
    path = tmp_path / "AAPX.csv"
    path.write_text("Date,Open,High,Low,Close,Volume\n2026-03-02 00:00:00-05:00,10,11,9,10,5\n")
    leaves, _ = read(path)
    assert list(leaves["US-AAPX"]) == ["2026-03-02"]


@pytest.mark.parametrize(
    ("name", "line", "column", "words"),
    [
        ("ohlcv_missing_column.csv", 1, "Volume", "column is missing"),
        ("ohlcv_bad_number.csv", 5, "Close", "valid number"),
        ("ohlcv_duplicate_row.csv", 5, "Date", "AAPX already has 2024-01-02"),
        ("ohlcv_high_below_low.csv", 5, "High", "high is below open"),
    ],
)
def test_a_broken_file_names_file_line_and_column(
    name: str, line: int, column: str, words: str
) -> None:
    with pytest.raises(ImportRejected) as rejected:
        read(OHLCV / name)
    error = rejected.value.errors[0]
    assert (error.source, error.line, error.field) == (name, line, column)
    assert words in error.message


def test_skipping_bad_rows_reports_each_and_keeps_the_rest() -> None:
    leaves, collector = read(OHLCV / "ohlcv_bad_number.csv", skip=True)
    assert [(e.line, e.field) for e in collector.errors] == [(5, "Close")]
    assert sum(len(points) for points in leaves.values()) == 11
    assert np.isfinite([v for p in leaves.values() for vs in p.values() for v in vs]).all()


def test_the_samples_are_what_the_project_code_writes(tmp_path: Path) -> None:
    write_ohlcv_samples(tmp_path)
    for path in sorted(tmp_path.rglob("*.csv")):
        assert path.read_bytes() == (OHLCV / path.relative_to(tmp_path)).read_bytes(), path.name


def _relaid(tmp_path: Path, name: str, layout: str, days: slice = slice(None)) -> Path:
    """AAPX.csv with its ISO dates written in another layout (``strftime`` pattern)."""
    lines = (OHLCV / "us" / "AAPX.csv").read_text().splitlines()
    body = []
    for line in lines[1:][days]:
        day, rest = line.split(",", 1)
        written = dt.date.fromisoformat(day).strftime(layout)
        body.append(f"{written.lstrip('0').replace('/0', '/')},{rest}")
    path = tmp_path / name
    path.write_text("\n".join([lines[0], *body]) + "\n")
    return path


ISO_BARS = read(OHLCV / "us" / "AAPX.csv")[0]


@pytest.mark.parametrize(
    ("layout", "name"), [("%m/%d/%Y", "us_style.csv"), ("%d.%m.%Y", "de_style.csv")]
)
def test_m_d_yyyy_and_d_m_yyyy_files_read_as_their_iso_twin(
    tmp_path: Path, layout: str, name: str
) -> None:
    path = _relaid(tmp_path, name, layout)
    assert read(path, ticker="AAPX")[0] == ISO_BARS  # the 13th onwards tells the order


def test_a_file_whose_every_date_reads_both_ways_is_refused_naming_a_line(
    tmp_path: Path,
) -> None:
    path = _relaid(tmp_path, "AAPX.csv", "%m/%d/%Y", slice(0, 8))  # 2 … 11 January
    with pytest.raises(ImportRejected) as rejected:
        read(path)
    error = rejected.value.errors[0]
    assert (error.line, error.field) == (2, "Date")
    assert "'1/2/2024'" in error.message and "--date-format" in error.message
    bars, _ = read(path, date_format="mdy")
    assert list(bars["US-AAPX"]) == list(ISO_BARS["US-AAPX"])[:8]
    swapped, _ = read(path, date_format="dmy")
    assert next(iter(swapped["US-AAPX"])) == "2024-02-01"  # 1/2/2024 as 1 February


def test_day_first_and_month_first_dates_in_one_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "AAPX.csv"
    path.write_text(
        "Date,Open,High,Low,Close,Volume\n13/01/2024,10,11,9,10,5\n01/14/2024,10,11,9,10,5\n"
    )
    with pytest.raises(ImportRejected, match="is day-first") as rejected:
        read(path)
    assert rejected.value.errors[0].line == 3


@pytest.mark.parametrize("typed", [False, True])
def test_xlsx_dates_as_excel_serials_or_typed_cells(tmp_path: Path, typed: bool) -> None:
    from openpyxl import Workbook

    lines = (OHLCV / "us" / "AAPX.csv").read_text().splitlines()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(lines[0].split(","))
    for line in lines[1:]:
        day, *prices = line.split(",")
        when = dt.date.fromisoformat(day)
        serial = (when - dt.date(1899, 12, 30)).days  # what Excel stores for the day
        cell = dt.datetime.combine(when, dt.time()) if typed else serial
        sheet.append([cell, *map(float, prices)])
    path = tmp_path / "AAPX.xlsx"
    book.save(path)
    assert read(path)[0] == ISO_BARS


def test_a_file_without_rows_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "AAPX.csv"
    path.write_text("Date,Open,High,Low,Close,Volume\n")
    with pytest.raises(ImportRejected, match="no data rows"):
        read(path)
