"""The random cut forest member (AWS's RCF through ``krcf``) of the streaming scorer."""

from __future__ import annotations

import numpy as np

from tripwire.detection.random_cut_forest import RandomCutForestScore
from tripwire.detection.score_cli import build_config, score_stream

DAY = 288  # rows per day at 5-minute steps
SPIKE_AT = 1_000


def calm_then_spike(n: int = 1_200, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = 50 + 20 * np.sin(2 * np.pi * np.arange(n) / DAY) + rng.normal(0, 1.0, n)
    values[SPIKE_AT] += 60
    return values


def test_a_spike_in_a_stationary_series_scores_above_every_calm_row() -> None:
    s = RandomCutForestScore().score_learn(calm_then_spike())
    calm = s[200:SPIKE_AT]
    assert np.isfinite(calm).all()
    # The spike sits in the 8 shingles that end on rows 1000..1007: each is far out.
    assert s[SPIKE_AT] > calm.max()
    assert s[SPIKE_AT : SPIKE_AT + 8].min() > 1.5 * calm.max()
    assert np.nanargmax(s) in range(SPIKE_AT, SPIKE_AT + 8)


def test_no_score_until_the_forest_has_seen_enough_shingles() -> None:
    s = RandomCutForestScore(shingle=8, sample=256).score_learn(calm_then_spike())
    # 7 rows before the first shingle is full, then at least the 64 points (a quarter
    # of the sample) the forest needs before it answers.
    assert np.isnan(s[: 7 + 64]).all()
    assert np.isfinite(s[100:]).all()


def test_deterministic_under_a_seed_and_causal() -> None:
    values = calm_then_spike(seed=1)
    once = RandomCutForestScore(seed=3).score_learn(values)
    assert np.array_equal(once, RandomCutForestScore(seed=3).score_learn(values), equal_nan=True)
    assert np.array_equal(
        once[:900], RandomCutForestScore(seed=3).score_learn(values[:900]), equal_nan=True
    )
    # The seed is what fixes it: another seed cuts other trees.
    other = RandomCutForestScore(seed=4).score_learn(values)
    assert not np.array_equal(once, other, equal_nan=True)


def test_score_does_not_learn() -> None:
    detector = RandomCutForestScore().fit(calm_then_spike()[:900])
    spike = np.array([[500.0]])
    assert np.array_equal(detector.score(spike), detector.score(spike))


def test_non_finite_values_score_nan_and_are_not_learnt() -> None:
    values = calm_then_spike()[:400]
    with_gap = values.copy()
    with_gap[300] = np.nan
    s = RandomCutForestScore().score_learn(with_gap)
    assert np.isnan(s[300])
    assert np.isfinite(s[301:]).all()


def test_named_rcf_in_the_scorer_weights() -> None:
    lines = ["timestamp,value\n"] + [
        f"2024-01-01 00:{i // 60 % 60:02d}:{i % 60:02d},{v:.4f}\n"
        for i, v in enumerate(calm_then_spike())
    ]
    s = np.array(list(score_stream(lines, build_config("rcf=1", []))))
    assert s.shape == (1_200,)
    # Ranked against its own past, the spike's shingles are the surest rows of the series.
    assert 400 + int(np.argmax(s[400:])) in range(SPIKE_AT, SPIKE_AT + 8)
    assert s[SPIKE_AT] > 0.999 > s[400:SPIKE_AT].max()
