"""bench/market_real.py's data: the held-out US indices from arch, Yahoo's CSV layout."""

from __future__ import annotations

import numpy as np

from tests.bench_scripts import load_bench

bench = load_bench("market_real")


def test_both_held_out_indices_are_read_from_the_installed_arch() -> None:
    """arch is a dev dependency: a missing package fails here, saying to install it."""
    read = {name: bench.load_held_out(name) for name in bench.HELD_OUT}
    assert set(read) == {"^GSPC", "^IXIC"}
    for dates, bars in read.values():
        assert (dates[0], dates[-1], len(dates)) == ("1999-01-04", "2018-12-31", 5031)
        assert bars.shape == (5031, 5) and (bars[:, :4] > 0).all()
        assert (bars[:, 4] > 0).mean() > 0.99  # volume (^IXIC's misses two days)
    assert read["^GSPC"][0] == read["^IXIC"][0]  # one market's trading days


def test_yahoo_rows_are_read_in_the_files_date_layout_without_holidays() -> None:
    lines = [
        "Date,Open,High,Low,Close,Adj Close,Volume",
        "1/4/1999,10,12,9,11,5.5,100",
        "1/5/1999,null,null,null,null,null,null",
        "12/31/2018,11,11,10,10,5,200",
    ]
    dates, bars = bench.read_yahoo(lines, "%m/%d/%Y")
    assert dates == ["1999-01-04", "2018-12-31"]
    # adjusted: prices times Adj Close / Close, volume divided by it
    assert np.allclose(bars, [[5, 6, 4.5, 5.5, 200], [5.5, 5.5, 5, 5, 400]])


def test_the_held_out_labels_fall_in_the_scanned_years() -> None:
    held = [label for label in bench.load_labels() if label.index in bench.HELD_OUT]
    assert {label.index for label in held} == set(bench.HELD_OUT)
    assert all(bench.HELD_OUT_TRAINING_END < label.date <= "2018-12-31" for label in held)
    assert all(label.source.startswith("https://") for label in held)
