"""Calibration that travels as JSON, and the PPC ensemble's vote.

``CompactTail`` is ``TailCalibrator``'s model (empirical survival inside the bulk, an
exponential tail in log(1 + x) beyond the upper ``tail_fraction``), vectorised and stored
as a few hundred numbers: the bulk is kept at ``grid`` ranks (a step function, exact at the
grid points), the tail by its threshold, scale and share. Alerts live in the tail, where
the model is identical to ``TailCalibrator``'s.

The vote: **weighted Bonferroni (min-p)**. Weights are shares of the false-alert budget,
not an average: p = min(1, min_k p_k / w_k) with the weights normalised to sum 1. Under the
null, P(p ≤ α) ≤ Σ_k w_k α = α whatever the detectors' dependence, so the alert threshold
keeps its meaning; a confident detector carries the vote alone (no detector that cannot see
an anomaly drags it down), and a detector's weight says how much of the budget it spends.
The design's LSTM 0.5 / half-space trees 0.3 / isolation forest 0.2 stay the ratios among
the learnt detectors. ``geometric`` (the old weighted geometric mean) is kept for the bench.

Measured (``python bench/quality.py --seed S --detector D [--combine C]``; 1,045 entities ×
30 days; recall / precision / F1 / false alerts per 1,000 entity-days / alerts):

=============================  ==============================  ==============================
detector                       dev seed 7                      held-out seed 20261123
=============================  ==============================  ==============================
count                          1.00 / 1.00 / 1.00 / 0.00 / 717  0.96 / 1.00 / 0.98 / 0.03 / 546
isolation_forest               0.00 / –    / 0.00 / 0.00 / 0    0.00 / –    / 0.00 / 0.00 / 0
streaming (half-space trees)   0.28 / 0.95 / 0.43 / 0.03 / 21   0.32 / 1.00 / 0.48 / 0.00 / 32
lstm                           0.20 / 1.00 / 0.33 / 0.00 / 19   0.28 / 1.00 / 0.44 / 0.00 / 42
ensemble, geometric mean       0.92 / 1.00 / 0.96 / 0.00 / 456  0.88 / 1.00 / 0.94 / 0.00 / 321
ensemble, Bonferroni (default) 1.00 / 1.00 / 1.00 / 0.00 / 672  0.96 / 1.00 / 0.98 / 0.03 / 502
=============================  ==============================  ==============================

Alone, the learnt detectors are precise but rarely reach 1-in-10,000: their raw scores are
bounded or saturate (an isolation-forest path cannot get shorter than one split, so a 50σ
move scores like a 5σ one), and the calibrated tail ends near the training maximum. In the
Bonferroni ensemble every alert on both seeds was carried by the count model (no alert
needed a learnt detector), so none of the three has yet earned recall on these incident
kinds, which are all count-visible; they are carried at one third of the budget for the
multivariate oddities the count model's per-feature maximum cannot see, at a measured cost
of 5-8 % fewer true alerts per incident and no recall.

Relation incidents (``python bench/quality.py --relations --ablation --seed S``: the
generator also plants 8 ``keyword_bot_clicks`` — CTR ×1.5-1.8 on normal impressions, orders
unchanged — and 8 ``keyword_placement_shift`` — impressions ×1.5-1.8 at unchanged clicks,
CVR ×0.5-0.65 — on keywords of 6-25 clicks a day, each measure inside its own noise). One
ensemble is trained; each subset votes over the same calibrated tail probabilities:

=========================  ==============================  ==============================
detectors                  seed 7 (recall/prec/F1/FA/al)   held-out 20261123
=========================  ==============================  ==============================
ensemble                   0.76 / 1.00 / 0.86 / 0.06 / 704  0.66 / 1.00 / 0.79 / 0.00 / 504
count alone                0.78 / 1.00 / 0.88 / 0.06 / 756  0.68 / 1.00 / 0.81 / 0.03 / 550
isolation_forest alone     0.00 / –    / 0.00 / 0.00 / 0    0.00 / –    / 0.00 / 0.00 / 0
streaming alone            0.17 / 0.93 / 0.29 / 0.03 / 15   0.22 / 1.00 / 0.36 / 0.00 / 33
lstm alone                 0.29 / 0.93 / 0.45 / 0.13 / 56   0.17 / 1.00 / 0.29 / 0.00 / 38
without count              0.20 / 0.98 / 0.33 / 0.03 / 42   0.17 / 1.00 / 0.29 / 0.00 / 27
without isolation_forest   0.76 / 1.00 / 0.86 / 0.06 / 714  0.66 / 1.00 / 0.79 / 0.03 / 513
without streaming          0.76 / 1.00 / 0.86 / 0.06 / 717  0.66 / 1.00 / 0.79 / 0.03 / 516
without lstm               0.76 / 1.00 / 0.86 / 0.06 / 727  0.66 / 1.00 / 0.79 / 0.03 / 526
=========================  ==============================  ==============================

Directly (an alert on the keyword itself, not an ancestor that another incident moved the
same day) the relation incidents are barely seen: bot clicks 0/8 (seed 7) and 1/8
(held-out), placement shifts 1/8 and 1/8 (3/8 held-out with the count model alone, which
then has the whole budget) — every one by the count model.
No learnt detector recalls an incident the count model misses, on either seed: removing
any one of them loses nothing, and removing the count model loses almost everything.
Their only measurable effect is the budget they take from the count model (held-out: 504
alerts instead of 550, one false alert fewer, one placement shift fewer) — what a
stricter count threshold would do.
On the relation incidents every detector's best tail probability is ~1e-3..1e-2 (the
isolation forest ranks them no higher than the count model does), far from the 1e-4
alert level: at this size a broken relation looks like ordinary day-to-day wobble to all
four. (The LSTM's figures vary between runs: its training stops at a time budget, so the
epochs it gets depend on the machine's load.) Feeding the forest 3-day runs of every
measure as well changed nothing (still no alert). The measured case is for dropping the
three learnt detectors' vote weights to 0 (``--weights count=1``); they stay available
as explicit ``detector=`` requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Combine = Literal["bonferroni", "geometric"]
_TINY = 1e-300


class CompactTail:
    """Raw score → tail probability P(raw ≥ x), vectorised, JSON-serialisable."""

    def __init__(self, tail_fraction: float = 0.05, tail_min_count: int = 10, grid: int = 512):
        self.tail_fraction = tail_fraction
        self.tail_min_count = tail_min_count
        self.grid = grid
        self.values: FloatArray = np.zeros(0)  # ascending raw scores at the grid ranks
        self.survival: FloatArray = np.zeros(0)  # (n_ge + 1) / (n + 1) at each
        self.u = np.inf
        self.beta = 1.0
        self.tail_p = tail_fraction

    def fit(self, raw: npt.ArrayLike) -> CompactTail:
        x = np.sort(np.asarray(raw, dtype=np.float64).ravel())
        x = x[np.isfinite(x)]
        n = len(x)
        if n < 2:
            raise ValueError("need at least two finite raw scores to calibrate")
        idx = np.unique(np.linspace(0, n - 1, min(n, self.grid)).round().astype(np.int64))
        first = np.searchsorted(x, x[idx], side="left")
        self.values = x[idx]
        self.survival = np.asarray((n - first + 1.0) / (n + 1.0), dtype=np.float64)
        k = min(n, max(self.tail_min_count, int(n * self.tail_fraction)))
        top = np.log1p(np.maximum(x[n - k :], 0.0))
        self.u = float(top[0])
        self.beta = float(np.mean(top - self.u))
        self.tail_p = k / n
        return self

    def tail_prob(self, raw: npt.ArrayLike) -> FloatArray:
        v = np.asarray(raw, dtype=np.float64)
        lv = np.log1p(np.maximum(np.nan_to_num(v, nan=-np.inf), 0.0))
        # Bulk: survival at the first grid value ≥ v (conservative between grid points).
        pos = np.minimum(np.searchsorted(self.values, v, side="left"), len(self.values) - 1)
        bulk = np.where(v > self.values[-1], 1.0 / (len(self.values) + 1.0), self.survival[pos])
        if self.beta > 0:
            tail = self.tail_p * np.exp(-(lv - self.u) / self.beta)
        else:
            tail = np.full(v.shape, _TINY)
        p = np.where(lv <= self.u, bulk, np.maximum(tail, _TINY))
        return np.asarray(np.where(np.isnan(v), 1.0, p), dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tail_fraction": self.tail_fraction,
            "tail_min_count": self.tail_min_count,
            "grid": self.grid,
            "values": self.values.tolist(),
            "survival": self.survival.tolist(),
            "u": self.u,
            "beta": self.beta,
            "tail_p": self.tail_p,
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> CompactTail:
        out = cls(state["tail_fraction"], state["tail_min_count"], state["grid"])
        out.values = np.asarray(state["values"], dtype=np.float64)
        out.survival = np.asarray(state["survival"], dtype=np.float64)
        out.u, out.beta, out.tail_p = float(state["u"]), float(state["beta"]), state["tail_p"]
        return out


def combine(
    tail_probs: Mapping[str, FloatArray], weights: Mapping[str, float], how: Combine
) -> FloatArray:
    """One tail probability per row from each detector's (see the module docstring)."""
    used = {k: float(weights[k]) for k in tail_probs if weights.get(k, 0.0) > 0}
    if not used:
        raise ValueError(f"no weighted detector among {sorted(tail_probs)}")
    total = sum(used.values())
    if how == "bonferroni":
        scaled = [np.asarray(tail_probs[k]) * (total / w) for k, w in used.items()]
        return np.asarray(np.minimum(np.minimum.reduce(scaled), 1.0), dtype=np.float64)
    logs = sum(w * np.log(np.clip(tail_probs[k], _TINY, 1.0)) for k, w in used.items())
    return np.asarray(np.exp(logs / total), dtype=np.float64)
