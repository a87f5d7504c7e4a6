"""When a calibrated ensemble score becomes an alert, and how severe it is.

The ensemble score is ``1 - p``, where ``p`` is the combined tail probability: how often the
training history (every entity, every training period) produced something at least as
unusual. Thresholds are set on ``p``, so they read as "one entity-period in N":

==========  ===================  ===========================================
severity    tail probability p   meaning
==========  ===================  ===========================================
(no alert)  p > 1e-4             within what the history does once in 10,000
low         1e-4 ≥ p > 1e-5      rarer than 1 in 10,000 entity-periods
medium      1e-5 ≥ p > 1e-6      rarer than 1 in 100,000
high        1e-6 ≥ p > 1e-8      rarer than 1 in a million
critical    p ≤ 1e-8             far beyond anything the history has shown
==========  ===================  ===========================================

Beyond the training sample the calibrator extrapolates an exponential tail, so the smaller
levels are modelled, not counted. ``ALERT_TAIL_PROB`` is what the quality benchmark tunes
(``bench/quality.py``): at 1 in 10,000 a 1,000-keyword account yields well under one
false alert per 1,000 entity-days.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tripwire.domain.alerts import Severity

ALERT_TAIL_PROB = 1e-4
SEVERITY_TAIL_PROBS: tuple[tuple[Severity, float], ...] = (
    (Severity.CRITICAL, 1e-8),
    (Severity.HIGH, 1e-6),
    (Severity.MEDIUM, 1e-5),
    (Severity.LOW, ALERT_TAIL_PROB),
)
ALERT_SCORE = 1.0 - ALERT_TAIL_PROB


def severity_of(score: float) -> Severity | None:
    """Severity of one calibrated score (``1 - p``), or None below the alert threshold."""
    p = 1.0 - score
    for severity, limit in SEVERITY_TAIL_PROBS:
        if p <= limit:
            return severity
    return None


def severity_codes(scores: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Vectorised: -1 for no alert, else ``Severity.rank`` (0 low … 3 critical)."""
    p = 1.0 - np.asarray(scores, dtype=np.float64)
    codes = np.full(p.shape, -1, dtype=np.int64)
    for severity, limit in reversed(SEVERITY_TAIL_PROBS):  # low first, critical last wins
        codes[p <= limit] = severity.rank
    return codes
