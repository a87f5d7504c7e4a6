"""The PPC ensemble: portable calibration, the weighted-Bonferroni vote, vectorised half-space
trees, and exact Shapley explanations of the calibrated ensemble score."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit.test_pipeline import _TRAIN, _busy, _profile
from tripwire.detection.calibration import TailCalibrator
from tripwire.detection.pipeline import PipelineConfig, ScanPipeline
from tripwire.detection.ppc_detectors import PPCHalfSpaceTrees
from tripwire.detection.vote import CompactTail, combine
from tripwire.features.ppc import FEATURES, INDEX

SMALL = {
    "lstm": {"epochs": 2, "hidden": 8, "max_sequences": 3000},
    "isolation_forest": {"n_estimators": 30},
    "streaming": {"window_size": 250},
}


@pytest.fixture(scope="module")
def planted() -> tuple[ScanPipeline, np.ndarray, np.ndarray]:
    raw = _profile()
    rows = _busy(raw)
    raw[rows, 90, 2] *= 3.0  # spend triples: CPC and ACOS follow
    pipe = ScanPipeline(PipelineConfig(detector_options=SMALL)).fit(raw[:, :_TRAIN], 0)
    return pipe, raw, rows


def test_compact_tail_matches_the_online_calibrator() -> None:
    rng = np.random.default_rng(1)
    raw = rng.gamma(2.0, 1.0, 20_000)
    ours, theirs = CompactTail().fit(raw), TailCalibrator().fit(raw)
    probe = np.concatenate([np.quantile(raw, [0.1, 0.5, 0.9]), [9.0, 15.0, 40.0]])
    p, q = ours.tail_prob(probe), theirs.tail_prob(probe)
    assert np.allclose(p[3:], q[3:], rtol=1e-9)  # the tail: identical
    assert np.allclose(p[:3], q[:3], atol=2.0 / ours.grid)  # the bulk: within the grid
    again = CompactTail.from_dict(ours.to_dict())
    assert np.array_equal(again.tail_prob(probe), p)


def test_bonferroni_lets_a_confident_detector_carry_the_vote() -> None:
    weights = {"count": 2.0, "lstm": 0.5, "streaming": 0.3, "isolation_forest": 0.2}
    tails = {
        "count": np.array([1e-9, 0.5]),
        "lstm": np.array([0.6, 1e-9]),
        "streaming": np.array([0.9, 0.4]),
        "isolation_forest": np.array([0.3, 0.9]),
    }
    p = combine(tails, weights, "bonferroni")
    assert p[0] == pytest.approx(1e-9 * 3.0 / 2.0)  # count's share is 2/3 of the budget
    assert p[1] == pytest.approx(1e-9 * 3.0 / 0.5)
    geometric = combine(tails, weights, "geometric")
    assert geometric[1] > 1e-4  # the mean lets the blind detectors drag the LSTM away


def test_bonferroni_keeps_the_false_alert_rate_under_the_null() -> None:
    rng = np.random.default_rng(2)
    weights = {"a": 2.0, "b": 0.5, "c": 0.3}
    for shared in (0.0, 1.0):  # independent, and fully dependent detectors
        base = rng.random(200_000)
        tails = {k: shared * base + (1 - shared) * rng.random(200_000) for k in weights}
        p = combine(tails, weights, "bonferroni")
        assert (p <= 1e-2).mean() <= 1.2e-2


def test_vectorised_half_space_trees_equal_river() -> None:
    rng = np.random.default_rng(3)
    hst = PPCHalfSpaceTrees(n_trees=5, height=6, window_size=100).fit(rng.normal(size=(400, 10)))
    probe = np.vstack([rng.normal(size=(50, 10)), 6 * rng.normal(size=(50, 10))])
    river = hst._model()
    expected = [river.score_one(dict(enumerate(map(float, r)))) for r in hst.scale(probe)]
    assert np.allclose(hst.score(probe), expected, atol=1e-12)
    assert hst.score(probe)[50:].mean() > hst.score(probe)[:50].mean()


def test_the_ensemble_finds_the_spike_and_explains_it(
    planted: tuple[ScanPipeline, np.ndarray, np.ndarray],
) -> None:
    pipe, raw, rows = planted
    result = pipe.score(raw[:, :91], 90 % 7)
    assert result.alert[rows].all()
    assert set(result.explanations) == set(np.flatnonzero(result.alert).tolist())
    for row in rows.tolist():
        entries = result.explanations[row]
        assert {"feature", "contribution", "direction", "expected", "actual"} <= set(entries[0])
        top = {e["feature"] for e in entries[:3]}
        assert top & {"spend", "cpc", "acos"} and entries[0]["direction"] == "above"
        assert entries[0]["contribution"] > 0


def test_shapley_values_sum_to_the_score_difference(
    planted: tuple[ScanPipeline, np.ndarray, np.ndarray],
) -> None:
    pipe, raw, rows = planted
    window = raw[:, :91]
    result = pipe.score(window, 90 % 7)
    actual = result.baseline.deviation[rows]
    full = pipe.explain_score(window, 90 % 7, rows, actual)
    empty = pipe.explain_score(window, 90 % 7, rows, np.zeros_like(actual))
    assert np.allclose(full, result.score[rows], atol=1e-12)
    for row in rows.tolist():
        assert 0 < len(result.explanations[row]) <= 5
    inputs_phi = _all_contributions(pipe, window, rows)
    assert np.allclose(inputs_phi.sum(axis=1), full - empty, atol=1e-9)
    # a feature that did not move contributes nothing (the dummy property)
    still = result.baseline.deviation[rows] == 0
    assert np.allclose(inputs_phi[still], 0.0, atol=1e-12)


def test_shapley_points_at_a_planted_orders_collapse() -> None:
    raw = _profile()
    rows = _busy(raw)
    raw[rows, 90, 4] = 0  # orders vanish (sales stay: a pure conversion oddity)
    pipe = ScanPipeline(PipelineConfig(detector="count")).fit(raw[:, :_TRAIN], 0)
    result = pipe.score(raw[:, :91], 90 % 7)
    hit = [r for r in rows.tolist() if result.alert[r]]
    assert hit
    for row in hit:
        assert result.explanations[row][0]["feature"] in {"orders", "cvr"}
        assert result.explanations[row][0]["direction"] == "below"


def _all_contributions(pipe: ScanPipeline, window: np.ndarray, rows: np.ndarray) -> np.ndarray:
    from tripwire.detection.pipeline import _ScanInputs
    from tripwire.features import baseline

    raw = np.asarray(window, dtype=np.float64)[:, -pipe._periods_needed() :, :]
    base = baseline.compute(raw[:, -pipe.config.window :], 90 % 7, pipe.config.baseline)
    inputs = _ScanInputs(pipe, raw, 90 % 7, base, base.deviation, False)
    phi = pipe.shapley(inputs, rows)
    assert phi.shape == (len(rows), len(FEATURES)) and INDEX["spend"] == 2
    return phi
