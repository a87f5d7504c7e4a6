"""The contextual detector: new contexts score high, routine ones low, and it is causal."""

from __future__ import annotations

import numpy as np
import pytest

from tripwire.detection.context_anomaly import ContextAnomaly

DAY = 288  # rows per day at 5-minute steps


def seasonal(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 50 + 20 * np.sin(2 * np.pi * t / DAY) + rng.normal(0, 1.0, n)


def scores(values: np.ndarray) -> np.ndarray:
    return np.nan_to_num(ContextAnomaly().score_learn(values))


def test_planted_spike_and_level_shift_score_above_anything_in_clean_data() -> None:
    values = seasonal(5 * DAY, seed=2)
    spike, shift = 3 * DAY + 40, 4 * DAY + 100
    values[spike] += 25
    values[shift:] += 30
    planted = scores(values)
    clean = scores(seasonal(5 * DAY, seed=2))
    learnt = slice(2 * DAY, None)  # after two days of learning
    assert clean[learnt].max() < 0.75  # CAD's own alarm level
    assert planted[spike] > clean[learnt].max()
    assert planted[shift : shift + 25].max() > clean[learnt].max()


def test_rows_warm_up_as_nan_then_score_in_unit_interval() -> None:
    s = ContextAnomaly(warmup=50).score_learn(seasonal(400, seed=1))
    assert np.isnan(s[:49]).all()
    assert ((s[49:] >= 0.0) & (s[49:] <= 1.0)).all()


def test_scores_are_causal() -> None:
    values = seasonal(800, seed=3)
    values[600] += 40  # a record after the prefix: it rebuilds the memory
    full = ContextAnomaly().score_learn(values)
    prefix = ContextAnomaly().score_learn(values[:500])
    np.testing.assert_array_equal(full[:500], prefix)


def test_a_new_record_rebuilds_the_levels_and_scores_high() -> None:
    det = ContextAnomaly()
    det.score_learn(seasonal(3 * DAY, seed=4))
    before = det.rebuilds
    assert det.score_learn(np.array([200.0]))[0] > 0.75
    assert det.rebuilds == before + 1


def test_score_does_not_learn() -> None:
    det = ContextAnomaly().fit(seasonal(2 * DAY, seed=5))
    probe = seasonal(50, seed=6)
    first = det.score(probe)
    np.testing.assert_array_equal(det.score(probe), first)
    np.testing.assert_array_equal(det.score_learn(probe), first)


def test_each_column_has_its_own_levels() -> None:
    base = seasonal(3 * DAY, seed=7)
    quiet = np.column_stack([base, np.full_like(base, 5.0) + (np.arange(len(base)) % 2)])
    planted = quiet.copy()
    planted[2 * DAY + 10, 1] = 9.0  # only the second column moves
    s_quiet = np.nan_to_num(ContextAnomaly().score_learn(quiet))
    s_planted = np.nan_to_num(ContextAnomaly().score_learn(planted))
    assert s_planted[2 * DAY + 10] > s_quiet[DAY:].max()


def test_non_finite_values_are_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        ContextAnomaly().score_learn(np.array([1.0, np.nan]))
