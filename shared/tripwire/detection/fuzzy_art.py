"""Adaptive resonance over windows of the signal: a window that needs a new category is new.

The idea is ARTime's (Mark Hampton's NAB detector, built on Carpenter and Grossberg's
fuzzy ART); this is our own, simplified and causal take on it, without ARTime's
downsampling, wavelets or masking. Every row:

1. the value is normalised by the range seen so far and quantised to ``levels`` steps;
2. the last ``window`` normalised values, and the same window rescaled to its own range
   (its *shape*), are complement-coded into one input ``I`` (so ``|I|`` is constant);
3. fuzzy ART looks for the stored category ``w`` with the highest choice
   ``|I ∧ w| / (alpha + |w|)`` among those whose match ``|I ∧ w| / |I|`` reaches the
   vigilance; the winner learns ``w ← I ∧ w`` (fast learning); if none resonates, ``I``
   founds a new category;
4. after ``warmup`` rows, a row that founds a category scores how far its best match fell
   below the vigilance, ``(rho - match) / (1 - match)``; every other row scores 0.

The vigilance adapts as ARTime's upper bound does: after the warm-up it is the running
mean of the rows' best matches (capped at ``max_vigilance``), so a noisy series, whose
windows match less well, needs a worse match to count as new. Starting vigilance 0.8,
window 8, 80 levels and the 0.97 cap are ARTime's published defaults, not fitted to NAB.
Work per row is O(categories × window), with numpy; the category store is bounded
(``max_categories``; when full, the least recently used one is replaced).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from tripwire.detection.base import FloatArray, ValueStreamDetector


class FuzzyArtNovelty(ValueStreamDetector):
    """Streaming score in [0, 1] per row from the first column; NaN until a window fills."""

    def __init__(
        self,
        window: int = 8,
        levels: int = 80,
        warmup: int = 300,
        vigilance: float = 0.8,
        max_vigilance: float = 0.97,
        alpha: float = 1e-3,
        max_categories: int = 2_000,
        name: str = "art",
    ) -> None:
        if window < 2 or levels < 1 or max_categories < 1:
            raise ValueError("need window >= 2, levels >= 1 and max_categories >= 1")
        self.name = name
        self.window = window
        self.levels = levels
        self.warmup = warmup
        self.initial_vigilance = vigilance
        self.max_vigilance = max_vigilance
        self.alpha = alpha
        self.max_categories = max_categories
        self._reset()

    def _reset(self) -> None:
        self._lo = math.inf
        self._hi = -math.inf
        self._raw: deque[float] = deque(maxlen=self.window)
        dim = 4 * self.window  # (levels, shape), each complement-coded
        self._weights = np.empty((self.max_categories, dim))
        self._last_used = np.zeros(self.max_categories, dtype=np.int64)
        self._n_categories = 0
        self._rows = 0
        self.vigilance = self.initial_vigilance
        self._match_sum = 0.0
        self._match_count = 0

    @property
    def n_categories(self) -> int:
        return self._n_categories

    # -- one row --------------------------------------------------------------------

    def _score_learn_one(self, value: float) -> float:
        self._rows += 1
        self._lo, self._hi = min(self._lo, value), max(self._hi, value)
        self._raw.append(value)
        if len(self._raw) < self.window:
            return math.nan
        match, founded = self._resonate(self._input())
        learnt = self._rows > self.warmup
        if math.isnan(match):  # the very first window: nothing to match against
            return 0.0
        # The vigilance follows the typical best match once the warm-up has shown it.
        self._match_sum += match
        self._match_count += 1
        if learnt:
            self.vigilance = min(self.max_vigilance, self._match_sum / self._match_count)
        if not (learnt and founded):
            return 0.0
        return min(1.0, max(0.0, (self.vigilance - match) / (1.0 - match)))

    def _input(self) -> FloatArray:
        raw = np.fromiter(self._raw, dtype=np.float64, count=self.window)
        span = self._hi - self._lo
        level = (
            np.round((raw - self._lo) / span * self.levels) / self.levels if span > 0 else 0 * raw
        )
        w_lo, w_hi = level.min(), level.max()
        shape = (level - w_lo) / (w_hi - w_lo) if w_hi > w_lo else np.zeros_like(level)
        x = np.concatenate([level, shape])
        return np.concatenate([x, 1.0 - x])

    def _resonate(self, i: FloatArray) -> tuple[float, bool]:
        """Fuzzy ART's search and learning: (best match or NaN when the store is empty,
        whether a category was founded)."""
        n = self._n_categories
        size = float(i.sum())  # = 2 * window under complement coding
        if n:
            w = self._weights[:n]
            overlap = np.minimum(w, i).sum(axis=1)
            matches = overlap / size
            resonating = matches >= self.vigilance
            best_match = float(matches.max())
            if resonating.any():
                choice = np.where(resonating, overlap / (self.alpha + w.sum(axis=1)), -1.0)
                j = int(np.argmax(choice))
                np.minimum(w[j], i, out=w[j])
                self._last_used[j] = self._rows
                return best_match, False
        else:
            best_match = math.nan
        j = n if n < self.max_categories else int(np.argmin(self._last_used))
        self._weights[j] = i
        self._last_used[j] = self._rows
        self._n_categories = min(n + 1, self.max_categories)
        return best_match, True
