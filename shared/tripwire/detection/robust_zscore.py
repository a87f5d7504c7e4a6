"""A causal windowed robust z-score detector.

Each feature is compared with the median of its last `window` values and scaled by their
MAD, so one outlier moves neither centre nor scale much, and a level shift stops looking
anomalous once it fills half the window (the detector fires when something new happens,
then adapts). The raw score is the largest |z| over the features of a row.
"""

from __future__ import annotations

import numpy as np

from tripwire.detection.base import FloatArray, as_rows

_MAD_TO_SIGMA = 1.4826
_MEAN_ABS_TO_SIGMA = 1.2533


class RobustZScore:
    """Rolling median/MAD z-score per feature; NaN features are ignored."""

    def __init__(
        self,
        window: int = 500,
        min_history: int = 20,
        refresh_every: int = 1,
        name: str = "robust_z",
    ) -> None:
        self.name = name
        self.window = window
        self.min_history = min_history
        # Recomputing centre/scale every few rows trades a little freshness for speed.
        self.refresh_every = max(1, refresh_every)
        self._buf: FloatArray | None = None  # (window, n_features) ring buffer
        self._count = np.zeros(0, dtype=np.int64)
        self._pos = np.zeros(0, dtype=np.int64)
        self._center = np.zeros(0)
        self._scale = np.zeros(0)
        self._stale = 0

    def fit(self, history: FloatArray) -> RobustZScore:
        rows = as_rows(history)
        self._reset(rows.shape[1])
        self.learn(rows)
        return self

    def learn(self, x: FloatArray) -> None:
        rows = as_rows(x)
        if self._buf is None:
            self._reset(rows.shape[1])
        for row in rows:
            self._learn_row(row)

    def score(self, x: FloatArray) -> FloatArray:
        rows = as_rows(x)
        if self._buf is None:
            return np.full(len(rows), np.nan)
        self._refresh()
        return np.array([self._score_row(row) for row in rows])

    def score_learn(self, x: FloatArray) -> FloatArray:
        rows = as_rows(x)
        if self._buf is None:
            self._reset(rows.shape[1])
        out = np.empty(len(rows))
        for i, row in enumerate(rows):
            if self._stale >= self.refresh_every:
                self._refresh()
            out[i] = self._score_row(row)
            self._learn_row(row)
        return out

    # -- internals ---------------------------------------------------------------------

    def _reset(self, n_features: int) -> None:
        self._buf = np.full((self.window, n_features), np.nan)
        self._count = np.zeros(n_features, dtype=np.int64)
        self._pos = np.zeros(n_features, dtype=np.int64)
        self._center = np.full(n_features, np.nan)
        self._scale = np.full(n_features, np.nan)
        self._stale = self.refresh_every

    def _learn_row(self, row: FloatArray) -> None:
        assert self._buf is not None
        for j, v in enumerate(row):
            if np.isnan(v):
                continue
            self._buf[self._pos[j], j] = v
            self._pos[j] = (self._pos[j] + 1) % self.window
            self._count[j] += 1
        self._stale += 1

    def _refresh(self) -> None:
        assert self._buf is not None
        self._stale = 0
        for j in range(self._buf.shape[1]):
            if self._count[j] < self.min_history:
                self._center[j] = np.nan
                continue
            col = self._buf[: min(self._count[j], self.window), j]
            med = float(np.median(col))
            dev = np.abs(col - med)
            scale = _MAD_TO_SIGMA * float(np.median(dev))
            if scale <= 0.0:  # more than half the values identical: fall back to mean |dev|
                scale = _MEAN_ABS_TO_SIGMA * float(np.mean(dev))
            self._center[j] = med
            # The floor keeps z finite on constant data while a change still scores huge.
            self._scale[j] = max(scale, 1e-9 * (1.0 + abs(med)))

    def _score_row(self, row: FloatArray) -> float:
        z = np.abs(row - self._center) / self._scale
        z = z[~np.isnan(z)]
        # NaN until warmed up, so calibration never learns a run of placeholder zeros.
        return float(z.max()) if z.size else float("nan")
