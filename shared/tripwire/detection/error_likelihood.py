"""How unlikely are the recent prediction errors, judged by the errors of a long past?

The idea is the anomaly likelihood Numenta puts behind HTM on NAB; this is our own,
single-column take on it. Each row's *error* is how far the value moved from the row
before (a last-value forecast, so the member needs no model of the series). Two time
scales of that error are compared: the mean of the last ``short`` errors against a normal
fitted to the last ``long`` errors. The score is ``1 - min(1, 2 Q(z))`` with ``z`` the
short mean's standard score: 0 while the recent errors are no larger than usual, near 1
when they are far larger. A noisy series has a wide error distribution and needs a larger
burst to score; a calm one, a small jump.

Window sizes are HTM's published defaults (10-row average, 8,640-row history, 288-row
learning period), not fitted to NAB; the standard deviation is floored at ``min_std`` of
the range seen so far, so a perfectly calm past does not turn the first tiny wobble into a
certainty. O(1) per row.
"""

from __future__ import annotations

import math
from collections import deque

from tripwire.detection.base import ValueStreamDetector


class ErrorLikelihood(ValueStreamDetector):
    """Streaming score in [0, 1] per row from the first column; NaN while learning."""

    def __init__(
        self,
        short: int = 10,
        long: int = 8_640,
        learning: int = 288,
        min_std: float = 0.01,
        name: str = "likelihood",
    ) -> None:
        if not 1 <= short < long:
            raise ValueError("need 1 <= short < long")
        self.name = name
        self.short = short
        self.long = long
        self.learning = max(learning, short)
        self.min_std = min_std
        self._reset()

    def _reset(self) -> None:
        self._prev = math.nan
        self._lo = math.inf
        self._hi = -math.inf
        self._recent: deque[float] = deque(maxlen=self.short)
        self._past: deque[float] = deque(maxlen=self.long)
        self._short_sum = 0.0
        self._sum = 0.0
        self._sq_sum = 0.0

    # -- one row --------------------------------------------------------------------

    def _score_learn_one(self, value: float) -> float:
        self._lo, self._hi = min(self._lo, value), max(self._hi, value)
        prev, self._prev = self._prev, value
        if math.isnan(prev):
            return math.nan
        # In the series' own units: z is scale-free, and a jump that widens the range is
        # not shrunk by it (only the floor of the spread follows the range).
        error = abs(value - prev)
        # The short mean includes this row; the long distribution is the past before it
        # (scored first, then learnt), so a burst is judged against calm, not itself.
        if len(self._recent) == self.short:
            self._short_sum -= self._recent[0]
        self._recent.append(error)
        self._short_sum += error
        score = math.nan
        if len(self._past) >= self.learning:
            n = len(self._past)
            mean = self._sum / n
            floor = self.min_std * (self._hi - self._lo)
            std = max(math.sqrt(max(self._sq_sum / n - mean * mean, 0.0)), floor)
            z = (self._short_sum / len(self._recent) - mean) / std if std > 0 else 0.0
            two_sided_tail = math.erfc(z / math.sqrt(2.0))  # = 2 Q(z)
            score = max(0.0, 1.0 - two_sided_tail)
        if len(self._past) == self.long:
            old = self._past[0]
            self._sum -= old
            self._sq_sum -= old * old
        self._past.append(error)
        self._sum += error
        self._sq_sum += error * error
        return score
