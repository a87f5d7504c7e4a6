"""OHLCV CSV as finance tools export it, read into validated bars of market tickers."""

from __future__ import annotations

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
