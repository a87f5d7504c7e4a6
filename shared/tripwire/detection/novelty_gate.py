"""Report each anomaly once: a score passes only if it beats every score of the recent past.

NAB-style costs (and people reading alerts) reward one early, confident signal per event
and punish the same event re-firing for hours. Gating on "higher than anything in the
last `horizon` rows" keeps the first and the escalating rows of an event, drops the echo.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from tripwire.detection.base import FloatArray


class NoveltyGate:
    """Causal running-max gate; rows that do not set a new recent high score 0."""

    def __init__(self, horizon: int = 200) -> None:
        if horizon < 1:
            raise ValueError("horizon must be at least 1")
        self.horizon = horizon
        self._t = 0
        # Monotonic queue of (row, value): values strictly decreasing, front is the max.
        self._queue: deque[tuple[int, float]] = deque()

    def step(self, value: float) -> float:
        while self._queue and self._queue[0][0] < self._t - self.horizon:
            self._queue.popleft()
        recent_max = self._queue[0][1] if self._queue else -np.inf
        while self._queue and self._queue[-1][1] <= value:
            self._queue.pop()
        self._queue.append((self._t, value))
        self._t += 1
        return value if value > recent_max else 0.0

    def apply(self, values: FloatArray) -> FloatArray:
        return np.array([self.step(float(v)) for v in np.ravel(values)])
