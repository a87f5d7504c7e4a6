"""The streaming scorer's members meant to carry across data sets: the error likelihood
(HTM-style) and fuzzy ART novelty (ARTime-style)."""

from __future__ import annotations

import numpy as np
import pytest

from tripwire.detection.error_likelihood import ErrorLikelihood
from tripwire.detection.fuzzy_art import FuzzyArtNovelty
from tripwire.detection.score_cli import build_config, score_stream

DAY = 288  # rows per day at 5-minute steps


def calm_then_spike(n: int = 1_200, at: int = 1_000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = 50 + 20 * np.sin(2 * np.pi * np.arange(n) / DAY) + rng.normal(0, 1.0, n)
    values[at] += 60
    return values


MEMBERS = [ErrorLikelihood, FuzzyArtNovelty]


@pytest.mark.parametrize("member", MEMBERS)
def test_a_spike_after_a_calm_stretch_scores_highest(member: type) -> None:
    values = calm_then_spike()
    s = np.nan_to_num(member().score_learn(values))
    learnt = s[400:]  # both members have warmed up by row 300
    assert s[1_000] == learnt.max() > 0.0
    assert s[400:1_000].max() < s[1_000]  # no calm row reaches it
    assert np.mean(s[400:1_000] == 0.0) > 0.5  # most calm rows score nothing


@pytest.mark.parametrize("member", MEMBERS)
def test_a_constant_series_scores_zero(member: type) -> None:
    s = member().score_learn(np.full(1_000, 7.0))
    assert np.all(np.nan_to_num(s) == 0.0)


@pytest.mark.parametrize("member", MEMBERS)
def test_scores_are_deterministic_causal_and_in_the_unit_interval(member: type) -> None:
    values = calm_then_spike(seed=1)
    once = member().score_learn(values)
    assert np.array_equal(once, member().score_learn(values), equal_nan=True)
    assert np.array_equal(once[:900], member().score_learn(values[:900]), equal_nan=True)
    finite = once[np.isfinite(once)]
    assert np.all((finite >= 0.0) & (finite <= 1.0))


def test_score_does_not_learn() -> None:
    detector = ErrorLikelihood().fit(calm_then_spike(n=900, at=0))
    spike = np.array([[500.0]])
    assert np.array_equal(detector.score(spike), detector.score(spike))


def test_error_likelihood_learns_for_its_learning_period_then_scores() -> None:
    s = ErrorLikelihood(short=10, long=1_000, learning=288).score_learn(calm_then_spike())
    # Row 0 has no error; rows 1..288 build the error history; row 289 is the first scored.
    assert np.isnan(s[:289]).all()
    assert np.isfinite(s[289:]).all()


def test_error_likelihood_needs_a_larger_burst_on_a_noisy_series() -> None:
    rng = np.random.default_rng(3)
    calm = 50 + rng.normal(0, 0.2, 1_000)
    noisy = 50 + rng.normal(0, 5.0, 1_000)
    for series in (calm, noisy):
        series[900] = 70  # the same jump in both
    # 100 standard deviations of the calm series, 4 of the noisy one.
    s_calm = ErrorLikelihood().score_learn(calm)[900]
    s_noisy = ErrorLikelihood().score_learn(noisy)[900:905].max()
    assert s_calm > 0.99 > 0.9 > s_noisy


def test_fuzzy_art_scores_only_rows_that_found_a_category_after_warmup() -> None:
    art = FuzzyArtNovelty(warmup=300)
    s = art.score_learn(calm_then_spike())
    assert np.isnan(s[:7]).all()  # the first window of 8 rows is not full yet
    assert np.all(s[7:300] == 0.0)  # warm-up: categories are learnt, nothing scores
    assert art.n_categories > 1
    assert 0.8 <= art.vigilance <= 0.97  # adapted to the typical match, within the cap


def test_fuzzy_art_store_is_bounded() -> None:
    art = FuzzyArtNovelty(max_categories=5, warmup=0)
    art.score_learn(np.random.default_rng(4).normal(size=500))
    assert art.n_categories == 5


def test_members_are_named_by_the_scorer_weights() -> None:
    lines = ["timestamp,value\n"] + [
        f"2024-01-01 00:{i // 60 % 60:02d}:{i % 60:02d},{v:.4f}\n"
        for i, v in enumerate(calm_then_spike())
    ]
    for weights in ("likelihood=1", "art=1", "context=1,art=1,likelihood=1"):
        s = np.array(list(score_stream(lines, build_config(weights, []))))
        assert s.shape == (1_200,)
        assert s[1_000] == s[400:].max() > s[400:1_000].max()
