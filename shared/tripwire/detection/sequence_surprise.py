"""A discrete sequence model: how surprising is the current value given the last few?

Values are quantised into bins of a width learnt during warm-up (the bin index is not
capped, so values far outside anything seen land in bins of their own). Counts of
"these k bins were followed by that bin" for k = 0..order give a backed-off predictive
probability; the raw score is its surprise -log p. Transitions seen many times (routine
spikes, daily ramps) become unsurprising; new values and new shapes do not.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque

import numpy as np

from tripwire.detection.base import FloatArray, as_rows

_State = tuple[int, ...]


class SequenceSurprise:
    """Order-k Markov model over quantised rows with additive smoothing and back-off."""

    def __init__(
        self,
        n_bins: int = 20,
        order: int = 3,
        warmup: int = 150,
        alpha: float = 0.1,
        name: str = "sequence",
    ) -> None:
        self.name = name
        self.n_bins = n_bins
        self.order = order
        self.warmup = warmup
        self.alpha = alpha
        self._reset()

    def _reset(self) -> None:
        self._pending: list[FloatArray] = []
        self._lo: FloatArray | None = None
        self._width = np.ones(0)
        self._recent: deque[_State] = deque(maxlen=self.order)
        # counts[k][context] -> {next_state: count}; totals[k][context] -> count
        self._counts: list[defaultdict[tuple[_State, ...], dict[_State, int]]] = [
            defaultdict(dict) for _ in range(self.order + 1)
        ]
        self._totals: list[defaultdict[tuple[_State, ...], int]] = [
            defaultdict(int) for _ in range(self.order + 1)
        ]
        self._seen: set[_State] = set()

    def fit(self, history: FloatArray) -> SequenceSurprise:
        rows = as_rows(history)
        self._reset()
        self._set_bins(rows)
        for row in rows:
            self._learn_state(self._state(row))
        return self

    def learn(self, x: FloatArray) -> None:
        for row in as_rows(x):
            self._learn_row(row)

    def score(self, x: FloatArray) -> FloatArray:
        rows = as_rows(x)
        if self._lo is None:
            return np.full(len(rows), np.nan)
        return np.array([self._surprise(self._state(r)) for r in rows])

    def score_learn(self, x: FloatArray) -> FloatArray:
        rows = as_rows(x)
        out = np.full(len(rows), np.nan)
        for i, row in enumerate(rows):
            if self._lo is None:
                self._learn_row(row)
                continue
            state = self._state(row)
            out[i] = self._surprise(state)
            self._learn_state(state)
        return out

    # -- internals ---------------------------------------------------------------------

    def _learn_row(self, row: FloatArray) -> None:
        if self._lo is not None:
            self._learn_state(self._state(row))
            return
        self._pending.append(row)
        if len(self._pending) >= self.warmup:
            rows = np.vstack(self._pending)
            self._pending = []
            self._set_bins(rows)
            for r in rows:
                self._learn_state(self._state(r))

    def _set_bins(self, rows: FloatArray) -> None:
        lo, hi = np.zeros(rows.shape[1]), np.ones(rows.shape[1])
        for j in range(rows.shape[1]):
            col = rows[:, j][np.isfinite(rows[:, j])]
            if col.size:
                lo[j], hi[j] = col.min(), col.max()
        self._lo = lo
        self._width = np.maximum((hi - lo) / self.n_bins, 1e-9 * (1.0 + np.abs(lo)))

    def _state(self, row: FloatArray) -> _State:
        assert self._lo is not None
        b = np.floor((row - self._lo) / self._width)
        # A missing feature is its own symbol rather than a reason to skip the row.
        return tuple(-(10**9) if math.isnan(v) else int(v) for v in b)

    def _contexts(self) -> list[tuple[_State, ...]]:
        recent = tuple(self._recent)
        return [recent[len(recent) - k :] if k else () for k in range(len(recent) + 1)]

    def _surprise(self, state: _State) -> float:
        # Back-off: average the smoothed predictions of every order that has data.
        vocab = len(self._seen) + 1  # +1: room for a state never seen
        probs = []
        for k, ctx in enumerate(self._contexts()):
            total = self._totals[k].get(ctx, 0)
            if total == 0:
                continue
            c = self._counts[k][ctx].get(state, 0)
            probs.append((c + self.alpha) / (total + self.alpha * vocab))
        if not probs:
            return 0.0
        return -math.log(sum(probs) / len(probs))

    def _learn_state(self, state: _State) -> None:
        for k, ctx in enumerate(self._contexts()):
            nxt = self._counts[k][ctx]
            nxt[state] = nxt.get(state, 0) + 1
            self._totals[k][ctx] += 1
        self._seen.add(state)
        self._recent.append(state)
