"""Calibration: raw detector scores → tail probabilities and probability-like scores.

A raw score x is judged against the raw scores seen before it: p = P(raw ≥ x). Inside
the bulk p is the empirical rank; beyond the upper `tail_fraction` quantile u the tail is
modelled as exponential in log(1 + x) (a Pareto-like tail), so scores past anything seen
so far still get distinct, ever smaller p instead of all tying at 1/n.
The calibrated score is 1 - p. The same object works in batch (`fit` on history, then
`tail_prob`) and online (`tail_prob_learn`, prequential).
"""

from __future__ import annotations

import bisect
import math
from collections import deque

import numpy as np

from tripwire.detection.base import FloatArray

_TINY = 1e-300


class TailCalibrator:
    """Online empirical-CDF calibrator with an exponential tail beyond a high quantile."""

    def __init__(
        self,
        tail_fraction: float = 0.05,
        min_history: int = 50,
        refit_every: int = 16,
        tail_min_count: int = 10,
        max_history: int | None = None,
    ) -> None:
        if not 0.0 < tail_fraction < 1.0:
            raise ValueError("tail_fraction must be in (0, 1)")
        self.tail_fraction = tail_fraction
        self.min_history = min_history
        self.refit_every = refit_every
        self.tail_min_count = max(2, tail_min_count)
        # Bounded memory for endless streams: forget the oldest raw scores beyond this.
        self.max_history = max_history
        self._arrivals: deque[float] = deque()
        self._sorted: list[float] = []
        self._since_refit = 0
        self._u = math.inf  # log-scale tail threshold
        self._beta = 1.0  # mean log-scale excess over the threshold
        self._tail_p = tail_fraction  # share of the history above the threshold

    @property
    def n_seen(self) -> int:
        return len(self._sorted)

    def fit(self, raw: FloatArray) -> TailCalibrator:
        """Forget everything and learn the distribution of `raw` (batch use)."""
        finite = [float(v) for v in np.ravel(raw) if math.isfinite(v)]
        if self.max_history is not None:
            finite = finite[-self.max_history :]
        self._arrivals = deque(finite)
        self._sorted = sorted(finite)
        self._refit()
        return self

    def update(self, raw: FloatArray) -> None:
        for v in np.ravel(raw):
            self._learn_one(float(v))

    def tail_prob(self, raw: FloatArray) -> FloatArray:
        """P(raw ≥ x) under the learned distribution, per element (state unchanged)."""
        return np.array([self._tail_prob_one(float(v)) for v in np.ravel(raw)])

    def tail_prob_learn(self, raw: FloatArray) -> FloatArray:
        """Prequential: each value is judged against the values before it, then learned."""
        out = np.empty(np.size(raw))
        for i, v in enumerate(np.ravel(raw)):
            out[i] = self._tail_prob_one(float(v))
            self._learn_one(float(v))
        return out

    def transform(self, raw: FloatArray) -> FloatArray:
        """Calibrated, probability-like score 1 - p in [0, 1]."""
        return 1.0 - self.tail_prob(raw)

    # -- internals ---------------------------------------------------------------------

    def _learn_one(self, v: float) -> None:
        if not math.isfinite(v):
            return
        bisect.insort(self._sorted, v)
        self._arrivals.append(v)
        if self.max_history is not None and len(self._arrivals) > self.max_history:
            del self._sorted[bisect.bisect_left(self._sorted, self._arrivals.popleft())]
        self._since_refit += 1
        if self._since_refit >= self.refit_every:
            self._refit()

    def _refit(self) -> None:
        self._since_refit = 0
        n = len(self._sorted)
        if n < self.min_history:
            self._u = math.inf
            return
        k = max(self.tail_min_count, int(n * self.tail_fraction))
        top = np.log1p(np.maximum(np.asarray(self._sorted[n - k :]), 0.0))
        self._u = float(top[0])
        self._beta = float(np.mean(top - self._u))
        self._tail_p = k / n

    def _tail_prob_one(self, v: float) -> float:
        n = len(self._sorted)
        if n < self.min_history or not math.isfinite(v):
            return 1.0
        lv = math.log1p(max(v, 0.0))
        if lv <= self._u:
            n_ge = n - bisect.bisect_left(self._sorted, v)
            return (n_ge + 1) / (n + 1)
        excess = lv - self._u
        if self._beta <= 0.0:
            # Every tail value so far was identical: anything above it is new behaviour.
            return _TINY
        return max(self._tail_p * math.exp(-excess / self._beta), _TINY)


class DirectCalibrator:
    """For a raw score that is already a probability-like share in [0, 1] (the context
    detector's share of failed expectations): p = 1 - score, floored; NaN (warming up)
    is no evidence, p = 1. Ranking such a score against its own past would blunt it: its
    early rows, while the memory is still empty, are all high."""

    def __init__(self, floor: float = 1e-12) -> None:
        self.floor = floor

    def tail_prob(self, raw: FloatArray) -> FloatArray:
        score = np.nan_to_num(np.asarray(raw, dtype=np.float64), nan=0.0)
        return np.clip(1.0 - score, self.floor, 1.0)

    def tail_prob_learn(self, raw: FloatArray) -> FloatArray:
        return self.tail_prob(raw)
