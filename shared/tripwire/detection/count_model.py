"""The count-aware, seasonality-aware statistical detector.

It scores the baseline deviations of ``tripwire.features.baseline`` (one row per entity,
one column per PPC feature): each is already a Poisson/binomial-stabilised, weekday-adjusted
distance from the entity's own recent normal, so a keyword with 3 clicks a day is judged by
what 3 clicks can do. The raw score is the largest deviation after putting every feature on
the same footing: ``fit`` learns, per feature, the ``reference_quantile`` of |deviation| on
the training history, and a row's score is max_f |dev_f| / q_f (1 = as unusual as the
training history's 1-in-1,000 day for that feature).

Given 20 columns — the period's deviations, then those of the last few periods summed
(``features.baseline.compute(periods=k)``) — a sustained move also counts: 4 orders a day
gone for three days is 12 missing orders, which no single day can show.
"""

from __future__ import annotations

import numpy as np

from tripwire.detection.base import FloatArray, as_rows
from tripwire.features.ppc import FEATURES, INDEX, SALES_SIDE, SALES_SIDE_RISING


class CountModel:
    """Largest feature deviation, each feature scaled by its own training tail."""

    name = "count"

    def __init__(self, reference_quantile: float = 0.999, run_min_today: float = 1.5) -> None:
        if not 0.0 < reference_quantile < 1.0:
            raise ValueError("reference_quantile must be in (0, 1)")
        self.reference_quantile = reference_quantile
        self.run_min_today = run_min_today
        # Only conversions are too sparse for one day to show a collapse; traffic and spend
        # are dense, and their multi-day drifts are the weekly wobble, not incidents.
        self._run_columns = [INDEX[f] for f in (*SALES_SIDE, *SALES_SIDE_RISING)]
        self.reference: FloatArray | None = None  # per-feature |deviation| quantile

    def fit(self, history: FloatArray) -> CountModel:
        rows = np.abs(as_rows(history))
        if rows.shape[0] == 0:
            raise ValueError("cannot fit on an empty history")
        quantile = np.quantile(rows, self.reference_quantile, axis=0)
        # A feature that never moved in training (all zeros) keeps the standard scale.
        self.reference = np.where(quantile > 0, quantile, 1.0)
        return self

    def score(self, x: FloatArray) -> FloatArray:
        rows = as_rows(x)
        reference = self.reference if self.reference is not None else np.ones(rows.shape[1])
        scaled = np.abs(rows) / reference
        n_features = len(FEATURES)
        day = scaled[:, :n_features].max(axis=1)
        if rows.shape[1] < 2 * n_features:
            return np.asarray(day, dtype=np.float64)
        # A run counts only where the scanned period itself moves the same way: its echo
        # (a run still holding yesterday's incident while today is normal) stays quiet.
        today, run = rows[:, :n_features], rows[:, n_features : 2 * n_features]
        agrees = (np.sign(today) == np.sign(run)) & (np.abs(today) >= self.run_min_today)
        sustained = np.where(agrees, scaled[:, n_features : 2 * n_features], 0.0)
        sustained = sustained[:, self._run_columns].max(axis=1)
        return np.asarray(np.maximum(day, sustained), dtype=np.float64)
