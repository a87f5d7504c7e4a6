"""river's HalfSpaceTrees behind the Detector interface.

HST assumes features in [0, 1]. Limits are learnt from the first `warmup` rows (robust
quantiles plus a margin) and then frozen, because moving limits would silently re-map
the mass profiles the trees have counted. Values outside the limits are clipped.
river is imported lazily: importing it costs ~3 s.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tripwire.detection.base import FloatArray, as_rows


class HalfSpaceTreesDetector:
    """Streaming half-space trees with self-learnt input scaling."""

    def __init__(
        self,
        n_trees: int = 10,
        height: int = 8,
        window_size: int = 250,
        warmup: int = 150,
        seed: int = 42,
        name: str = "hst",
    ) -> None:
        if height > 10:
            raise ValueError("height > 10 makes state and learn time explode")
        self.name = name
        self.n_trees = n_trees
        self.height = height
        self.window_size = window_size
        self.warmup = warmup
        self.seed = seed
        self._model: Any = None
        self._pending: list[FloatArray] = []
        self._lo = np.zeros(0)
        self._span = np.ones(0)
        self._learnt = 0  # rows river has learnt: its first mass window is full at window_size

    def fit(self, history: FloatArray) -> HalfSpaceTreesDetector:
        rows = as_rows(history)
        self._model = None
        self._pending = []
        self._start(rows)
        return self

    def learn(self, x: FloatArray) -> None:
        for row in as_rows(x):
            self._learn_row(row)

    def score(self, x: FloatArray) -> FloatArray:
        rows = as_rows(x)
        if self._model is None:
            return np.full(len(rows), np.nan)
        return np.array([self._model.score_one(self._as_dict(r)) for r in rows])

    def score_learn(self, x: FloatArray) -> FloatArray:
        rows = as_rows(x)
        out = np.full(len(rows), np.nan)  # NaN until warmed up
        for i, row in enumerate(rows):
            if self._model is not None:
                features = self._as_dict(row)
                # river scores 0 until its first mass window is complete: a constant the
                # calibrator would take for the whole distribution, making the first real
                # score look infinitely surprising. NaN keeps those rows out of the tail.
                if self._learnt >= self.window_size:
                    out[i] = self._model.score_one(features)
                self._model.learn_one(features)
                self._learnt += 1
            else:
                self._learn_row(row)
        return out

    # -- internals ---------------------------------------------------------------------

    def _learn_row(self, row: FloatArray) -> None:
        if self._model is None:
            self._pending.append(row)
            if len(self._pending) >= self.warmup:
                self._start(np.vstack(self._pending))
                self._pending = []
        else:
            self._model.learn_one(self._as_dict(row))
            self._learnt += 1

    def _start(self, rows: FloatArray) -> None:
        from river.anomaly import HalfSpaceTrees

        lo, hi = np.zeros(rows.shape[1]), np.ones(rows.shape[1])
        for j in range(rows.shape[1]):
            col = rows[:, j][np.isfinite(rows[:, j])]
            if col.size:  # a feature with no value yet (e.g. no season seen) keeps [0, 1]
                lo[j], hi[j] = np.quantile(col, [0.01, 0.99])
        span = np.maximum(hi - lo, 1e-9 * (1.0 + np.abs(lo)))
        # Warm-up range covers the middle half of [0, 1]: room for values never seen yet.
        self._lo = lo - span / 2.0
        self._span = 2.0 * span
        self._model = HalfSpaceTrees(
            n_trees=self.n_trees,
            height=self.height,
            window_size=self.window_size,
            seed=self.seed,
        )
        for row in rows:
            self._model.learn_one(self._as_dict(row))
        self._learnt = len(rows)

    def _as_dict(self, row: FloatArray) -> dict[int, float]:
        u = np.clip((row - self._lo) / self._span, 0.0, 1.0)
        u = np.where(np.isnan(u), 0.5, u)
        return {j: float(v) for j, v in enumerate(u)}
