"""LSTM autoencoder: trained with torch, scored from its ONNX export with onnxruntime."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from tripwire.detection.base import Detector
from tripwire.detection.lstm_autoencoder import LSTMAutoencoderDetector, sliding_windows

N_FEATURES, LENGTH = 4, 14
# Small data needs small batches to get enough optimiser steps in a few seconds.
TRAIN: dict[str, Any] = {
    "hidden": 16,
    "epochs": 15,
    "batch_size": 32,
    "learning_rate": 1e-2,
    "seed": 0,
}


def seasonal(n: int, seed: int = 0) -> np.ndarray:
    """A daily-seasonal (period 24) multivariate series with a phase per feature."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    phase = np.linspace(0, np.pi, N_FEATURES)[None, :]
    return 10 + 3 * np.sin(2 * np.pi * t / 24 + phase) + rng.normal(0, 0.3, (n, N_FEATURES))


@pytest.fixture(scope="module")
def series() -> tuple[np.ndarray, np.ndarray]:
    x = seasonal(900)
    return x[:600], x[600:]


@pytest.fixture(scope="module")
def detector(series) -> LSTMAutoencoderDetector:
    return LSTMAutoencoderDetector().fit(sliding_windows(series[0], LENGTH), **TRAIN)


def test_sliding_windows_end_at_each_row() -> None:
    rows = np.arange(10.0).reshape(5, 2)
    windows = sliding_windows(rows, 3)
    assert windows.shape == (3, 3, 2)
    np.testing.assert_array_equal(windows[-1], rows[2:])
    assert sliding_windows(rows, 6).shape == (0, 6, 2)


def test_onnx_matches_torch_forward(series) -> None:
    import torch

    from tripwire.training.lstm_autoencoder import export_onnx, fit_model

    model, meta = fit_model(sliding_windows(series[0][:200], LENGTH), **{**TRAIN, "epochs": 2})
    onnx_scorer = LSTMAutoencoderDetector(export_onnx(model, LENGTH, N_FEATURES), meta)
    seqs = sliding_windows(series[1], LENGTH).astype(np.float32)
    seqs[5, -1] += 10.0  # an anomalous window too, where errors are large
    with torch.no_grad():
        expected = [t.numpy() for t in model(torch.from_numpy(seqs))]
    got = onnx_scorer.errors(seqs)
    for name, want in zip(("score", "last_step_error", "sequence_error"), expected, strict=True):
        np.testing.assert_allclose(got[name], want, atol=1e-5, rtol=1e-5)


def test_bytes_are_deterministic_for_seed_and_data(series, detector) -> None:
    from tripwire.training.lstm_autoencoder import train_lstm_autoencoder

    again, _ = train_lstm_autoencoder(sliding_windows(series[0], LENGTH), **TRAIN)
    assert hashlib.sha256(again).digest() == hashlib.sha256(detector.onnx_bytes or b"").digest()


def test_finds_a_planted_spike_and_level_shift(series, detector) -> None:
    test = series[1]
    clean = detector.score(sliding_windows(test, LENGTH))
    spiked = test.copy()
    spiked[150, [1, 3]] += 6.0
    shifted = test.copy()
    shifted[200:, [0, 2]] += 6.0
    first = LENGTH - 1  # window i ends at row i + first

    assert detector.score(sliding_windows(spiked, LENGTH))[150 - first] > clean.max()
    assert detector.score(sliding_windows(shifted, LENGTH))[200 - first :].min() > clean.max()
    explained = detector.errors(sliding_windows(spiked, LENGTH))["last_step_error"][150 - first]
    assert set(np.argsort(explained)[-2:]) == {1, 3}


def test_quiet_on_clean_seasonal_data(series, detector) -> None:
    train, test = series
    trained_max = detector.score(sliding_windows(train, LENGTH)).max()
    # Held-out windows stay in the training range (a little slack: a fresh noise draw).
    assert detector.score(sliding_windows(test, LENGTH)).max() <= 1.25 * trained_max


def test_metadata_and_detector_protocol(series, detector) -> None:
    meta = detector.metadata
    assert meta["detector"] == "lstm_autoencoder" and meta["epochs"] == TRAIN["epochs"]
    assert (meta["sequence_length"], meta["n_features"]) == (LENGTH, N_FEATURES)
    assert LSTMAutoencoderDetector(detector.onnx_bytes).score(np.zeros((0, 14, 4))).shape == (0,)
    assert np.isnan(LSTMAutoencoderDetector().score(np.zeros((2, 14, 4)))).all()
    with pytest.raises(ValueError, match="sequences"):
        detector.score(np.zeros((2, 7, 4)))
    assert isinstance(detector, Detector)


def test_runtime_module_imports_no_training_framework() -> None:
    code = (
        "import sys, tripwire.detection.lstm_autoencoder\n"
        "bad = [m for m in ('sklearn', 'torch', 'skl2onnx', 'onnx') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
