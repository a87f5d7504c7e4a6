"""The ARTime port (``artime``): its wavelet, its dual-vigilance ART, and the member."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tripwire.detection.artime import ARTimeScore, DualVigilanceArt, haar_dwt
from tripwire.detection.score_cli import build_config, score_stream
from tripwire.detection.streaming import StreamingScorer

DAY = 288  # rows per day at 5-minute steps
TROUGH = 4 * DAY + 3 * DAY // 4  # a trough of the daily sine, after the 750-row period


def calm_then_spike(n: int = 2_000, seed: int = 0, spike: float = 30.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = 50 + 20 * np.sin(2 * np.pi * np.arange(n) / DAY) + rng.normal(0, 1.0, n)
    values[TROUGH] += spike
    return values


def test_haar_transform_is_orthonormal_in_wavelets_jl_layout() -> None:
    x = np.arange(1.0, 9.0)
    y = haar_dwt(x)
    assert math.isclose(y[0], x.sum() / math.sqrt(8))  # the approximation
    assert math.isclose(y[1], (x[4:].sum() - x[:4].sum()) / math.sqrt(8))  # coarsest detail
    assert np.allclose(y[4:], (x[1::2] - x[0::2]) / math.sqrt(2))  # finest details
    assert math.isclose(np.linalg.norm(y), np.linalg.norm(x))
    flipped = haar_dwt(x, flip_details=True)
    assert flipped[0] == y[0] and np.allclose(flipped[1:], -y[1:])


def test_art_learns_above_the_upper_bound_and_founds_clusters_below_the_lower() -> None:
    art = DualVigilanceArt(dim=2, rho_lb=0.5, rho_ub=0.9)
    art.train(np.array([0.5, 0.5]))  # the first sample only makes the all-ones category
    assert art.train(np.array([0.2, 0.2]))[0] == -1  # nothing close: a new cluster
    assert (art.n_categories, art.n_clusters) == (2, 2)
    label, match, _ = art.train(np.array([0.2, 0.2]))
    assert (label, match) == (2, 1.0)  # resonates with it, learns, nothing new
    assert art.n_categories == 2
    label, match, _ = art.train(np.array([0.2, 0.17]))  # between the bounds
    assert label == 2 and 0.5 <= match < 0.9
    assert (art.n_categories, art.n_clusters) == (3, 2)  # a sibling in the same cluster
    label, _, _ = art.train(np.array([0.9, 0.9]), learning=False)
    assert label == -1 and art.n_categories == 3  # no learning, no category


def test_a_spike_in_a_stationary_series_scores_above_every_calm_row() -> None:
    detector = ARTimeScore()
    s = detector.score_learn(calm_then_spike())
    block = range(TROUGH, TROUGH + detector.sstep)  # scored where its block is downsampled
    assert np.all(s[:750] == 0.0)  # the probationary period
    assert s[block].max() > 0.5
    calm = np.delete(s[750:], np.asarray(block) - 750)
    assert calm.max() < s[block].max()
    assert np.mean(calm == 0.0) > 0.99


def test_a_constant_series_scores_zero() -> None:
    assert np.all(ARTimeScore().score_learn(np.full(2_000, 7.0)) == 0.0)


def test_deterministic_and_causal() -> None:
    values = calm_then_spike(seed=1)
    once = ARTimeScore().score_learn(values)
    assert np.array_equal(once, ARTimeScore().score_learn(values))
    assert np.array_equal(once[:1_300], ARTimeScore().score_learn(values[:1_300]))


def test_the_replayed_period_equals_being_given_its_range() -> None:
    # The daily sine spans its range within the first 750 rows: the streaming member's
    # range is then the file's, and replaying the period changes nothing.
    values = calm_then_spike(spike=0.0)
    period = values[:750]
    given = ARTimeScore(value_range=(float(period.min()), float(period.max())))
    assert np.array_equal(ARTimeScore().score_learn(values)[750:], given.score_learn(values)[750:])


def test_score_does_not_learn() -> None:
    detector = ARTimeScore().fit(calm_then_spike()[:1_200])
    row = np.array([[90.0]])
    first = detector.score(row)
    assert np.array_equal(first, detector.score(row))
    assert np.array_equal(first, ARTimeScore().fit(calm_then_spike()[:1_200]).score_learn(row))


def test_non_finite_values_score_nan_and_are_not_learnt() -> None:
    values = calm_then_spike()
    with_gap = np.insert(values, 1_000, np.nan)
    s = ARTimeScore().score_learn(with_gap)
    assert np.isnan(s[1_000])
    assert np.array_equal(np.delete(s, 1_000), ARTimeScore().score_learn(values))


def test_named_artime_in_the_scorer_weights() -> None:
    values = calm_then_spike()
    lines = ["timestamp,value\n"] + [
        f"2024-01-{1 + i // DAY:02d} {i % DAY // 12:02d}:{i % 12 * 5:02d}:00,{v:.4f}\n"
        for i, v in enumerate(values)
    ]
    s = np.array(list(score_stream(lines, build_config("artime=1", ["novelty_horizon=0"]))))
    assert s.shape == (2_000,)
    assert int(np.argmax(s)) in range(TROUGH, TROUGH + ARTimeScore().sstep)


def test_a_margin_widens_the_periods_range_by_a_share_of_its_span() -> None:
    values = calm_then_spike()
    lo, hi = float(values[:750].min()), float(values[:750].max())
    detector = ARTimeScore(margin=0.5)
    detector.score_learn(values[:749])
    assert all(math.isnan(v) for v in detector.range)
    detector.score_learn(values[749:750])
    span = hi - lo
    assert detector.range == (lo - 0.5 * span, hi + 0.5 * span)


# -- widen: the range of the rows seen so far, the detector rebuilt by replay -----------

CREST = 4 * DAY + DAY // 4  # a crest of the daily sine, after the 750-row period


def bounded_sine(n: int = 2_000, seed: int = 0) -> np.ndarray:
    """The daily sine with bounded noise: after the period no row leaves its range by
    more than half a level."""
    rng = np.random.default_rng(seed)
    return 50 + 20 * np.sin(2 * np.pi * np.arange(n) / DAY) + rng.uniform(-1, 1, n)


def test_widen_without_new_extremes_is_the_member_as_it_was() -> None:
    values = bounded_sine()
    widened = ARTimeScore(widen=True)
    assert np.array_equal(widened.score_learn(values), ARTimeScore().score_learn(values))
    assert (widened.rebuilds, widened.replayed) == (0, 0)


def test_a_new_max_rebuilds_as_if_the_range_were_known_from_the_start() -> None:
    values = bounded_sine()
    values[CREST] += 30  # a spike above everything seen
    widened = ARTimeScore(widen=True)
    s = widened.score_learn(values)
    seen = values[: CREST + 1]
    assert (widened.rebuilds, widened.replayed) == (1, CREST)
    assert widened.range == (seen.min(), seen.max())
    # Until the spike: the period's range, as without widen.
    assert np.array_equal(s[:CREST], ARTimeScore().score_learn(values)[:CREST])
    # From the spike on: a detector given that range before the first row.
    fresh = ARTimeScore(value_range=(float(seen.min()), float(seen.max())))
    assert np.array_equal(s[CREST:], fresh.score_learn(values)[CREST:])
    block = range(CREST, CREST + widened.sstep)
    assert s[block].max() > 0.5
    assert np.mean(np.delete(s[750:], np.asarray(block) - 750) == 0.0) > 0.99


def test_a_row_within_half_a_level_of_the_range_does_not_rebuild() -> None:
    values = bounded_sine()
    lo, hi = float(values[:750].min()), float(values[:750].max())
    edge = hi + (hi - lo) / (2 * 80)  # half of one of the 80 levels above the range
    values[CREST] = edge
    inside = ARTimeScore(widen=True)
    assert np.array_equal(inside.score_learn(values), ARTimeScore().score_learn(values))
    assert inside.rebuilds == 0
    values[CREST] = np.nextafter(edge, math.inf)
    outside = ARTimeScore(widen=True)
    outside.score_learn(values)
    assert outside.rebuilds == 1 and outside.range == (lo, values[CREST])


def test_widen_is_causal() -> None:
    values = bounded_sine(3_000)
    values[CREST] += 30
    values[CREST + DAY] += 60  # a later, higher spike rebuilds again
    widened = ARTimeScore(widen=True)
    s = widened.score_learn(values)
    assert widened.rebuilds == 2
    cut = CREST + DAY  # the rows before the second spike never see it
    assert np.array_equal(s[:cut], ARTimeScore(widen=True).score_learn(values[:cut]))
    assert np.array_equal(s, ARTimeScore(widen=True).score_learn(values))


def test_replays_stay_within_the_budget_on_a_trend() -> None:
    rng = np.random.default_rng(0)
    trend = 0.01 * np.arange(3_000) + rng.normal(0, 1, 3_000)  # a new max every few rows
    free = ARTimeScore(widen=True, replay_budget=math.inf)
    free.score_learn(trend)
    capped = ARTimeScore(widen=True, replay_budget=8)
    capped.score_learn(trend)
    assert free.replayed > 8 * len(trend)  # uncapped, replays grow with the square
    assert 0 < capped.replayed <= 8 * len(trend)
    assert capped.rebuilds < free.rebuilds
    # A deferred rebuild happens once the budget allows: the range keeps up with the trend.
    assert capped.range[1] > trend[:2_500].max()
    # At the boundary: a budget of 1 pays for one replay of the rows seen, never a second.
    once = ARTimeScore(widen=True, replay_budget=1)
    once.score_learn(trend)
    assert once.rebuilds == 1 and once.replayed < len(trend)


def test_only_the_last_replay_rows_are_kept_and_replayed() -> None:
    keep = 1_000
    values = bounded_sine(3_000)
    late = CREST + 4 * DAY  # a new max long after the first `keep` rows
    values[late] += 30
    widened = ARTimeScore(widen=True, replay_rows=keep)
    s = widened.score_learn(values)
    assert (widened.rebuilds, widened.replayed) == (1, keep - 1)
    assert widened.kept_rows == keep  # memory bounded, whatever the stream's length
    seen = values[: late + 1]
    assert widened.range == (seen.min(), seen.max())  # the range spans every row seen
    # From the spike on: a detector given that range and fed only the kept rows.
    fresh = ARTimeScore(value_range=(float(seen.min()), float(seen.max())))
    assert np.array_equal(s[late:], fresh.score_learn(values[late - keep + 1 :])[keep - 1 :])
    # Keeping every row up to the rebuild is the member without a bound.
    assert np.array_equal(
        ARTimeScore(widen=True, replay_rows=late + 1).score_learn(values),
        ARTimeScore(widen=True).score_learn(values),
    )


def test_replay_rows_must_hold_the_period() -> None:
    ARTimeScore(widen=True, replay_rows=750)
    with pytest.raises(ValueError, match="replay_rows"):
        ARTimeScore(widen=True, replay_rows=749)


def test_widen_is_a_scorer_setting() -> None:
    config = build_config("artime=1", ["artime_widen=1"])
    assert config is not None
    scorer = StreamingScorer(config)
    artime = scorer.detectors["artime"]
    assert isinstance(artime, ARTimeScore) and artime.widen
    assert not ARTimeScore().widen
