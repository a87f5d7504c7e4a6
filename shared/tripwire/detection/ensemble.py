"""Weighted vote over calibrated detector outputs.

Votes are cast in surprise space (-log p): the combined tail probability is the weighted
geometric mean of the detectors' tail probabilities. One confident detector can carry the
vote, and detectors that are absent from a call are simply left out (weights renormalise).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from tripwire.detection.base import FloatArray
from tripwire.detection.calibration import surprise

# The PPC service's defaults; the streaming scorer passes its own.
DEFAULT_WEIGHTS: Mapping[str, float] = {"lstm": 0.5, "hst": 0.3, "iforest": 0.2}


def parse_weights(text: str) -> dict[str, float]:
    """``"context=1,hst=0.5"`` → ``{"context": 1.0, "hst": 0.5}`` (a command-line option)."""
    weights = {}
    for item in text.split(","):
        name, _, value = item.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = math.nan
        if not name.strip() or not weight >= 0 or math.isinf(weight):  # NaN fails >= 0
            raise ValueError(f"weights: {item.strip()!r} is not name=non-negative number")
        weights[name.strip()] = weight
    return weights


class WeightedVote:
    """Combine per-detector tail probabilities into one tail probability."""

    def __init__(self, weights: Mapping[str, float] = DEFAULT_WEIGHTS) -> None:
        if any(w < 0 for w in weights.values()):
            raise ValueError("ensemble weights must be non-negative")
        self.weights = dict(weights)

    def combine(self, tail_probs: Mapping[str, FloatArray]) -> FloatArray:
        """Weighted geometric mean of the tail probabilities of the detectors given."""
        used = {k: w for k, w in self.weights.items() if k in tail_probs and w > 0}
        if not used:
            raise ValueError(f"no weighted detector among {sorted(tail_probs)}")
        total = sum(used.values())
        s = sum(w * surprise(np.asarray(tail_probs[k], dtype=np.float64)) for k, w in used.items())
        return np.asarray(np.exp(-s / total), dtype=np.float64)

    def score(self, tail_probs: Mapping[str, FloatArray]) -> FloatArray:
        """Probability-like anomaly score in [0, 1]."""
        return 1.0 - self.combine(tail_probs)
