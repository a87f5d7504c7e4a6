"""The one small interface every detector implements.

Detectors take arrays shaped (n_rows, n_features) and return one raw score per row:
bigger means more anomalous, NaN means "not warmed up yet, no opinion". Raw scores are on
each detector's own scale; the calibration module turns them into comparable tail
probabilities.
"""

from __future__ import annotations

import copy
from typing import Protocol, Self, runtime_checkable

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


class PrequentialDetector:
    """fit / learn / score for a streaming detector that gives ``_reset`` (forget
    everything) and ``score_learn``."""

    name: str

    def _reset(self) -> None:
        raise NotImplementedError

    def score_learn(self, x: FloatArray) -> FloatArray:
        raise NotImplementedError

    def fit(self, history: FloatArray) -> Self:
        self._reset()
        self.learn(history)
        return self

    def learn(self, x: FloatArray) -> None:
        self.score_learn(x)

    def score(self, x: FloatArray) -> FloatArray:
        """Each row scored as the stream's next one, without learning (copies the state)."""
        return copy.deepcopy(self).score_learn(x)


class ValueStreamDetector(PrequentialDetector):
    """A streaming detector of one value per row (the first column), scored and learnt by
    ``_score_learn_one``."""

    def _score_learn_one(self, value: float) -> float:
        raise NotImplementedError

    def score_learn(self, x: FloatArray) -> FloatArray:
        return np.array([self._score_learn_one(float(v)) for v in as_rows(x)[:, 0]])
