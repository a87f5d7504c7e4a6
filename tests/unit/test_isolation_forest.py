"""Isolation forest: trained with scikit-learn, scored from one ONNX tree-ensemble node."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from tripwire.detection.base import Detector
from tripwire.detection.isolation_forest import IsolationForestDetector
from tripwire.training.isolation_forest import fit_forest, train_isolation_forest

N_FEATURES = 4


def seasonal(n: int, seed: int = 0) -> np.ndarray:
    """A daily-seasonal (period 24) multivariate series with a phase per feature."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    phase = np.linspace(0, np.pi, N_FEATURES)[None, :]
    return 10 + 3 * np.sin(2 * np.pi * t / 24 + phase) + rng.normal(0, 0.3, (n, N_FEATURES))


@pytest.fixture(scope="module")
def series() -> tuple[np.ndarray, np.ndarray]:
    x = seasonal(1300)
    return x[:1000], x[1000:]


@pytest.fixture(scope="module")
def trained(series: tuple[np.ndarray, np.ndarray]) -> tuple[bytes, dict]:
    return train_isolation_forest(series[0], n_estimators=100, max_samples=256, seed=0)


@pytest.fixture(scope="module")
def detector(trained: tuple[bytes, dict]) -> IsolationForestDetector:
    return IsolationForestDetector(trained[0], trained[1])


def test_matches_scikit_learn_including_threshold_edges_and_nan(series, detector) -> None:
    train, test = series
    forest = fit_forest(train, n_estimators=100, max_samples=256, seed=0)
    # Rows sitting exactly on (and one float32 step either side of) split thresholds are
    # where round-to-nearest thresholds would take the wrong branch.
    tree = forest.estimators_[0].tree_
    split = tree.feature >= 0
    edges = np.repeat(test[:1], int(split.sum()) * 3, axis=0)
    t32 = tree.threshold[split].astype(np.float32)
    values = np.concatenate(
        [t32, np.nextafter(t32, np.float32(-np.inf)), np.nextafter(t32, np.float32(np.inf))]
    )
    edges[np.arange(len(edges)), np.tile(tree.feature[split], 3)] = values
    with_nan = test[:5].copy()
    with_nan[[0, 1, 2], [0, 2, 3]] = np.nan
    rows = np.vstack([test, edges, with_nan, train[:200]])

    np.testing.assert_allclose(detector.score(rows), -forest.score_samples(rows), atol=1e-5)


def test_graph_is_one_tree_node_and_metadata_describes_it(trained) -> None:
    import onnx

    onnx_bytes, metadata = trained
    ops = [node.op_type for node in onnx.load_from_string(onnx_bytes).graph.node]
    assert ops.count("TreeEnsembleRegressor") == 1 and len(ops) <= 5
    assert metadata["detector"] == "isolation_forest"
    assert metadata["n_features"] == N_FEATURES
    assert (metadata["n_estimators"], metadata["max_samples"]) == (100, 256)
    assert metadata["training_rows"] == 1000 and metadata["sklearn_version"]


def test_finds_a_planted_spike_and_level_shift(series, detector) -> None:
    _, test = series
    clean = detector.score(test)
    spikes = test[:24].copy()  # one spike at every phase of the day
    spikes[:, [1, 3]] += 6.0
    shifted = test[100:150] + np.array([6.0, 0.0, 6.0, 0.0])

    assert detector.score(spikes).min() > clean.max()
    assert detector.score(shifted).min() > clean.max()


def test_quiet_on_clean_seasonal_data(series, detector) -> None:
    train, test = series
    assert detector.score(test).max() <= detector.score(train).max()


def test_bytes_are_deterministic_for_seed_and_data(series, trained) -> None:
    again, _ = train_isolation_forest(series[0], seed=0)
    other, _ = train_isolation_forest(series[0], seed=1)
    assert hashlib.sha256(again).digest() == hashlib.sha256(trained[0]).digest()
    assert other != trained[0]


def test_detector_protocol_fit_and_unfitted_behaviour(series) -> None:
    train, test = series
    unfitted = IsolationForestDetector()
    assert isinstance(unfitted, Detector)
    assert np.isnan(unfitted.score(test[:3])).all()

    fitted = unfitted.fit(train[:300], n_estimators=20)
    scores = fitted.score(test)
    assert fitted is unfitted and scores.shape == (len(test),)
    assert ((scores > 0) & (scores <= 1)).all()
    assert fitted.score(test[:0]).shape == (0,)
    with pytest.raises(ValueError, match="features"):
        fitted.score(test[:, :2])


def test_runtime_module_imports_no_training_framework() -> None:
    code = (
        "import sys, tripwire.detection.isolation_forest\n"
        "bad = [m for m in ('sklearn', 'torch', 'skl2onnx', 'onnx') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
