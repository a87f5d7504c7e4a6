"""bench/nab.py's leave-one-category-out protocol: no category helps choose its own score."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from tests.bench_scripts import load_bench, load_module
from tripwire.detection.score_cli import build_config
from tripwire.detection.streaming import VOTE_WEIGHTS, StreamingConfig

bench = load_bench("nab")

FILES = ["b/x.csv", "a/one.csv", "c/y.csv", "a/two.csv", "b/z.csv"]


def test_each_category_is_held_out_once_and_never_trains_on_itself() -> None:
    folds = bench.category_folds(FILES)
    assert [f.held_out for f in folds] == ["a", "b", "c"]
    for fold in folds:
        test = {FILES[i] for i in fold.test}
        train = {FILES[i] for i in fold.train}
        assert test == {f for f in FILES if f.startswith(fold.held_out + "/")}
        assert all(not f.startswith(fold.held_out + "/") for f in train)
        assert train | test == set(FILES)


def test_one_category_cannot_be_cross_validated() -> None:
    with pytest.raises(ValueError, match="two categories"):
        bench.category_folds(["a/one.csv", "a/two.csv"])


@pytest.fixture(scope="module")
def nab() -> ModuleType:
    scorer = bench.NAB_DIR / "nab_score.py"
    if not scorer.exists():
        pytest.skip(f"the NAB set is not beside the checkout ({scorer})")
    return load_module("nab_score", scorer)


def _file(nab: ModuleType, rel: str) -> object:
    # 400 rows (the first 60 probationary), one window around row 200.
    ts = [f"2024-01-01 {h:02d}:{m:02d}:00" for h in range(24) for m in range(0, 60, 5)]
    ts += [f"2024-01-02 {h:02d}:{m:02d}:00" for h in range(24) for m in range(0, 60, 5)]
    ts = ts[:400]
    return nab.FileGeometry(rel, ts, [[ts[190], ts[210]]])


def test_the_setting_is_chosen_on_the_other_categories_only(nab: ModuleType) -> None:
    files = ["a/one.csv", "b/two.csv"]
    geoms = [_file(nab, f) for f in files]
    hit = np.zeros(400)
    hit[192] = 1.0  # early in the window
    miss = np.zeros(400)
    miss[300] = 1.0  # far after it: a false positive
    # "fits_a" is right on a and wrong on b, "fits_b" the reverse.
    by_setting = {"fits_a": [hit, miss], "fits_b": [miss, hit]}
    result = bench.cross_validate(nab, files, geoms, by_setting)
    chosen = {f["held_out"]: f["setting"] for f in result["folds"]}
    assert chosen == {"a": "fits_b", "b": "fits_a"}
    standard = result["profiles"]["standard"]
    # In-sample one setting wins one file; held out, each file gets the wrong one.
    assert standard["cv"] < 0 < standard["in_sample"]
    assert standard["cv_windows"] == "0/2"


def test_score_cache_key_follows_code_not_prose(tmp_path: Path) -> None:
    module = tmp_path / "detector.py"
    module.write_text('"""Doc."""\n\ndef f(x):\n    return x + 1  # one\n')
    key = bench.scorer_digest(["--weights", "context=1"], [module])
    module.write_text('"""Other doc."""\n\ndef f(x):\n    """Adds."""\n    return x + 1  # two\n')
    assert bench.scorer_digest(["--weights", "context=1"], [module]) == key
    assert bench.scorer_digest(["--weights", "vote=1"], [module]) != key
    module.write_text('"""Doc."""\n\ndef f(x):\n    return x + 2\n')
    assert bench.scorer_digest(["--weights", "context=1"], [module]) != key


def test_a_settings_cache_key_covers_only_the_members_it_loads() -> None:
    context = {p.name for p in bench.loaded_modules(["--weights", "context=1"])}
    art = {p.name for p in bench.loaded_modules(["--weights", "art=1"])}
    assert {"context_anomaly.py", "streaming.py"} <= context
    assert "fuzzy_art.py" not in context
    assert "fuzzy_art.py" in art
    # The forest's module (and krcf) load only where rcf is weighted.
    rcf = {p.name for p in bench.loaded_modules(["--weights", "rcf=1"])}
    assert "random_cut_forest.py" not in context | art
    assert "random_cut_forest.py" in rcf


def test_nested_choice_prefers_the_setting_that_carries_over_to_the_setting_that_fits(
    nab: ModuleType,
) -> None:
    files = ["a/one.csv", "b/two.csv", "c/three.csv"]
    geoms = [_file(nab, f) for f in files]

    def scores(hit: float, false_positive: float = 0.0) -> np.ndarray:
        row = np.zeros(400)
        row[192], row[300] = hit, false_positive
        return row

    # "fits" is perfect on a and b together at a threshold of 0.6, but a threshold learnt
    # on a alone (0.9) misses b; "carries" hits both at 0.8 and pays one false positive.
    by_setting = {
        "fits": [scores(0.9), scores(0.6), scores(0.9)],
        "carries": [scores(0.8, 0.8), scores(0.8), scores(0.8)],
    }
    by_fit = bench.cross_validate(nab, files, geoms, by_setting)
    nested = bench.cross_validate(nab, files, geoms, by_setting, nested=True)
    assert by_fit["folds"][2]["setting"] == "fits"
    assert nested["folds"][2]["setting"] == "carries"
    # The held-out category never votes: its own scores do not change the choice.
    by_setting["fits"][2] = scores(0.0, 0.9)
    again = bench.cross_validate(nab, files, geoms, by_setting, nested=True)
    assert again["folds"][2]["setting"] == "carries"


def test_the_default_scorer_is_the_setting_the_protocol_chooses_on_all_files() -> None:
    # The in-sample choice of `bench/nab.py --cv` (bench/RESULTS.md), on top of the
    # defaults every GRID setting was scored under.
    chosen = (*bench.EARLIER_DEFAULTS, *bench.GRID["context-margin0.1+artime-widen"])
    assert build_config(*bench._setting_options(chosen)) == StreamingConfig()


def test_grid_settings_keep_the_defaults_they_were_scored_under() -> None:
    vote = build_config(*bench._setting_options((*bench.EARLIER_DEFAULTS, *bench.GRID["vote"])))
    assert vote is not None
    assert (vote.weights, vote.context_margin, vote.artime_widen) == (VOTE_WEIGHTS, 0.05, 0)
    context = build_config(
        *bench._setting_options((*bench.EARLIER_DEFAULTS, *bench.GRID["context"]))
    )
    assert context is not None
    assert (context.weights, context.context_margin) == ({"context": 1.0}, 0.05)
