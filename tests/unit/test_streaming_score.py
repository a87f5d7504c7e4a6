"""The causal streaming scorer behind `tripwire score`."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from tripwire.detection.score_cli import InputError, main, score_stream

STEP = timedelta(minutes=5)
DAY = 288  # rows per day at 5-minute steps
START = datetime(2024, 1, 1)


def seasonal(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 50 + 20 * np.sin(2 * np.pi * t / DAY) + rng.normal(0, 1.0, n)


def to_csv(values: np.ndarray, extra: np.ndarray | None = None) -> list[str]:
    header = "timestamp,value" + (",extra" if extra is not None else "")
    lines = [header + "\n"]
    for i, v in enumerate(values):
        ts = (START + i * STEP).strftime("%Y-%m-%d %H:%M:%S")
        tail = f",{extra[i]:.4f}" if extra is not None else ""
        lines.append(f"{ts},{v:.4f}{tail}\n")
    return lines


def scores_of(lines: list[str]) -> np.ndarray:
    return np.array(list(score_stream(lines)))


def test_one_score_per_row_in_unit_interval() -> None:
    values = seasonal(700)
    s = scores_of(to_csv(values))
    assert s.shape == (700,)
    assert np.all((s >= 0.0) & (s <= 1.0))


def test_scores_are_causal() -> None:
    values = seasonal(900, seed=1)
    values[700] += 30
    full = scores_of(to_csv(values))
    prefix = scores_of(to_csv(values[:600]))
    assert np.array_equal(full[:600], prefix)


def test_planted_spike_and_level_shift_get_the_top_scores() -> None:
    values = seasonal(4 * DAY, seed=2)
    spike, shift = 2 * DAY + 40, 3 * DAY + 100
    values[spike] += 25
    values[shift:] += 30
    s = scores_of(to_csv(values))
    warm = DAY  # learning period
    top = np.argsort(-s[warm:], kind="stable")[:2] + warm
    assert any(abs(i - spike) <= 2 for i in top), top
    assert any(0 <= i - shift <= 6 for i in top), top


def test_clean_seasonal_data_stays_low() -> None:
    planted = seasonal(4 * DAY, seed=3)
    planted[3 * DAY] += 25
    clean = scores_of(to_csv(seasonal(4 * DAY, seed=3)))
    dirty = scores_of(to_csv(planted))
    # Nothing in clean data reaches what one planted spike scores, and most rows score 0
    # (the novelty gate passes only rows that beat the recent past).
    assert clean[DAY:].max() < min(0.995, dirty[3 * DAY])
    assert np.mean(clean[DAY:] == 0.0) > 0.8


def test_extra_numeric_columns_are_accepted() -> None:
    values = seasonal(500, seed=4)
    s = scores_of(to_csv(values, extra=values * 2 + 1))
    assert s.shape == (500,)
    assert np.all((s >= 0.0) & (s <= 1.0))


def test_header_only_prints_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("timestamp,value\n"))
    assert main([]) == 0
    assert capsys.readouterr().out == ""


def test_bad_value_names_the_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "timestamp,value\n2024-01-01 00:00:00,1.5\n2024-01-01 00:05:00,abc\n"
    with pytest.raises(InputError, match="line 3"):
        list(score_stream(text.splitlines(keepends=True)))
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "line 3" in err and "'abc'" in err


def test_cli_reads_a_file_path_and_prints_one_line_per_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "series.csv"
    path.write_text("".join(to_csv(seasonal(300, seed=5))))
    assert main([str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 300
    assert all(not line.startswith("-") and 0.0 <= float(line) <= 1.0 for line in out)


def test_no_detector_wakes_up_with_an_alarm() -> None:
    # Each detector starts scoring after its own warm-up (the half-space trees only once
    # their first mass window is counted); its first scores must look like the rest, not
    # like the most surprising thing the calibration has ever seen.
    rng = np.random.default_rng(5)
    noise = 50 + rng.normal(0, 1.0, 700)
    s = scores_of(to_csv(noise))
    assert s[60:].max() < 0.999, int(np.argmax(s[60:])) + 60


def test_weights_pick_the_detectors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "series.csv"
    path.write_text("".join(to_csv(seasonal(300, seed=6))))
    assert main([str(path), "--weights", "context=1"]) == 0
    alone = [float(line) for line in capsys.readouterr().out.splitlines()]
    assert main([str(path)]) == 0
    default = [float(line) for line in capsys.readouterr().out.splitlines()]
    assert len(alone) == len(default) == 300 and alone != default


@pytest.mark.parametrize("weights", ["context", "context=-1", "context=x", "nope=1"])
def test_bad_weights_are_refused_with_the_item_named(
    weights: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "series.csv"
    path.write_text("".join(to_csv(seasonal(10, seed=6))))
    assert main([str(path), "--weights", weights]) == 2
    err = capsys.readouterr().err
    assert weights.split("=")[0] in err and capsys.readouterr().out == ""


def test_set_reaches_a_config_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = seasonal(2 * DAY, seed=7)
    values[DAY + 10] += 25
    values[DAY + 60] += 30  # a bigger echo 50 rows later
    path = tmp_path / "series.csv"
    path.write_text("".join(to_csv(values)))
    scores = {}
    for horizon in ("1", "40"):
        assert main([str(path), "--set", f"novelty_horizon={horizon}"]) == 0
        scores[horizon] = [float(line) for line in capsys.readouterr().out.splitlines()]
    # The gate's horizon is what changed: rows the 40-row gate silences pass the 1-row one.
    assert sum(s > 0 for s in scores["1"]) > sum(s > 0 for s in scores["40"])


@pytest.mark.parametrize(
    ("item", "named"),
    [("nope=1", "nope"), ("novelty_horizon", "novelty_horizon"), ("novelty_horizon=x", "int")],
)
def test_bad_set_items_are_refused_with_the_item_named(
    item: str, named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "series.csv"
    path.write_text("".join(to_csv(seasonal(10, seed=6))))
    assert main([str(path), "--set", item]) == 2
    err = capsys.readouterr().err
    assert item in err and named in err and capsys.readouterr().out == ""


def test_tripwire_score_passes_set_through(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tripwire.cli import main as tripwire_main

    path = tmp_path / "series.csv"
    path.write_text("".join(to_csv(seasonal(300, seed=8))))
    args = [str(path), "--weights", "context=1", "--set", "novelty_horizon=1"]
    assert main(args) == 0
    direct = capsys.readouterr().out
    assert tripwire_main(["score", *args]) == 0
    assert capsys.readouterr().out == direct
    assert tripwire_main(["score", str(path), "--set", "nope=1"]) == 2
    assert "nope=1" in capsys.readouterr().err
