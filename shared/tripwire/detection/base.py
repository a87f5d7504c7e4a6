"""The one small interface every detector implements.

Detectors take arrays shaped (n_rows, n_features) and return one raw score per row:
bigger means more anomalous, NaN means "not warmed up yet, no opinion". Raw scores are on
each detector's own scale; the calibration module turns them into comparable tail
probabilities.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def as_rows(x: npt.ArrayLike) -> FloatArray:
    """Coerce input to a float64 array shaped (n_rows, n_features)."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ValueError(f"expected a (n_rows, n_features) array, got shape {arr.shape}")
    return arr


@runtime_checkable
class Detector(Protocol):
    """A detector fitted on history and scoring batches without changing its state."""

    name: str

    def fit(self, history: FloatArray) -> Detector:
        """Learn from a history array; returns self."""
        ...

    def score(self, x: FloatArray) -> FloatArray:
        """Raw anomaly score per row of `x` (state unchanged)."""
        ...


@runtime_checkable
class OnlineDetector(Detector, Protocol):
    """A detector that also keeps learning from the stream it scores."""

    def learn(self, x: FloatArray) -> None:
        """Absorb rows into the detector's state."""
        ...

    def score_learn(self, x: FloatArray) -> FloatArray:
        """Prequential pass: each row is scored first, then learned (causal by design)."""
        ...
