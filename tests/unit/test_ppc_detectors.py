"""The learnt PPC detectors see broken relations: a few days of CTR well inside each day's
noise, or impressions up while the clicks stay, rank above the clean rows; exports from
before the relation features still score as they did."""

from __future__ import annotations

import numpy as np
import pytest

from tripwire.detection.ppc_detectors import PPCLSTM, PPCIsolationForest, squash
from tripwire.detection.vote import CompactTail
from tripwire.features import relations
from tripwire.features.ppc import INDEX

_L = 14


def _null(n: int, seed: int) -> np.ndarray:
    """Deviation sequences as the baseline makes them: ~N(0, 1), clicks and spend following
    CTR, impressions overdispersed."""
    rng = np.random.default_rng(seed)
    seqs = rng.normal(size=(n, _L, 10))
    seqs[..., INDEX["impressions"]] *= 1.6
    seqs[..., INDEX["clicks"]] = seqs[..., INDEX["ctr"]] + 0.2 * rng.normal(size=(n, _L))
    seqs[..., INDEX["spend"]] = seqs[..., INDEX["clicks"]]
    return seqs


def _broken(seed: int) -> np.ndarray:
    """Row 0: bot clicks (CTR, clicks, spend +2.5σ for 4 days); row 1: placement shift
    (impressions +4σ, CTR −2σ for 4 days, clicks unchanged). Each day stays in its noise."""
    seqs = _null(2, seed)
    for col in ("ctr", "clicks", "spend"):
        seqs[0, -4:, INDEX[col]] = 2.5
    seqs[1, -4:, INDEX["impressions"]] = 4.0
    seqs[1, -4:, INDEX["ctr"]] = -2.0
    seqs[1, -4:, INDEX["clicks"]] = 0.0
    return seqs


@pytest.fixture(scope="module")
def history() -> np.ndarray:
    return _null(6000, seed=0)


def _tail(detector: PPCIsolationForest | PPCLSTM, history: np.ndarray) -> CompactTail:
    return CompactTail(tail=detector.tail_model).fit(detector.score(history))


def test_the_forest_isolates_broken_relations(history: np.ndarray) -> None:
    forest = PPCIsolationForest(n_estimators=100).fit(history)
    meta = forest.inner.metadata
    assert meta["n_features"] == 10 + len(relations.NAMES)
    assert meta["impression_scale"] == pytest.approx(1.6, rel=0.1)
    p = _tail(forest, history).tail_prob(forest.score(_broken(seed=1)))
    assert (p < 1e-2).all(), p  # rarer than 1 clean row in 100


def test_the_lstm_sees_broken_relations(history: np.ndarray) -> None:
    lstm = PPCLSTM(hidden=16, epochs=3, max_sequences=6000).fit(history)
    assert len(lstm.inner.metadata["score_reference"]) == 1 + len(relations.NAMES)
    clean = lstm.score(history)
    # Each of the 13 parts is in units of its own 99.9th percentile: the largest passes 1 on
    # at most 13 in 1,000 clean rows.
    assert 1e-3 <= np.mean(clean > 1.0) <= 13e-3
    p = _tail(lstm, history).tail_prob(lstm.score(_broken(seed=2)))
    assert (p < 2e-3).all(), p


def test_exports_from_before_the_relations_score_as_before(history: np.ndarray) -> None:
    forest = PPCIsolationForest(n_estimators=20).fit(history)
    from tripwire.training.isolation_forest import train_isolation_forest

    data, meta = train_isolation_forest(history[:, -1, :], n_estimators=20)
    old = PPCIsolationForest.load(data, meta)  # no "relations": the last period's deviations
    assert np.array_equal(old.score(history[:5]), old.inner.score(history[:5, -1, :]))
    assert forest.score(history[:5]).shape == (5,)

    lstm = PPCLSTM(hidden=8, epochs=1, max_sequences=500).fit(history[:500])
    data, meta = lstm.export()
    meta.pop("score_reference")
    before = PPCLSTM.load(data, meta)
    channels = np.zeros((3, _L, 10 + len(relations.NAMES)))
    channels[..., :10] = squash(history[:3])
    # An old model took 10 channels; the same graph fed the old way gives its mean error.
    with pytest.raises(ValueError, match="sequences shaped"):
        before.score(history[:3])
    assert before.inner.score(channels).shape == (3,)


def test_the_lstm_counts_only_relation_moves_the_period_shows() -> None:
    """After a wild week the reconstruction may imagine a move; only the part of an
    observed move that it cannot explain counts (at most the move itself)."""
    from tripwire.detection.ppc_detectors import _error_parts

    k = len(relations.NAMES)
    meta = {"relation_centre": [0.0] * k, "relation_spread": [1.0] * k}
    channels = np.zeros((3, _L, 10 + k))
    channels[1, -1, 10] = 3.0  # ctr_1 moved 3σ
    channels[2, -1, 10] = 0.3  # a wobble
    errors = np.full((3, 10 + k), 25.0)  # the model is off by 5σ everywhere
    parts = _error_parts(errors, channels, meta)
    assert parts[:, 0].tolist() == [25.0, 25.0, 25.0]  # the deviations' mean error
    assert parts[0, 1:].max() == 0.0  # no move shown: nothing imagined counts
    assert parts[1, 1] == 9.0  # at most the move itself
    assert parts[2, 1:].max() == 0.0
