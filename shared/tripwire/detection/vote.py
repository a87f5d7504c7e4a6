"""Calibration that travels as JSON, and the vote: the one rule that combines calibrated
detectors' tail probabilities, for the PPC pipeline, the streaming scorer and markets.

``CompactTail`` is ``TailCalibrator``'s model (empirical survival inside the bulk, an
exponential tail in log(1 + x) beyond the upper ``tail_fraction``), vectorised and stored
as a few hundred numbers: the bulk is kept at ``grid`` ranks (a step function, exact at the
grid points), the tail by its threshold, scale and share. Alerts live in the tail, where
the model is identical to ``TailCalibrator``'s. With ``tail="gpd"`` (the learnt detectors')
the top ``exact`` scores are kept as they are and a generalised Pareto tail takes over
beyond the largest.

The vote: **weighted Bonferroni (min-p)**. Weights are shares of the false-alert budget,
not an average: p = min(1, min_k p_k / w_k) with the weights normalised to sum 1. Under the
null, P(p ≤ α) ≤ Σ_k w_k α = α whatever the detectors' dependence, so the alert threshold
keeps its meaning; a confident detector carries the vote alone (no detector that cannot see
an anomaly drags it down), and a detector's weight says how much of the budget it spends.
The design's LSTM 0.5 / half-space trees 0.3 / isolation forest 0.2 stay the ratios among
the learnt detectors. ``geometric`` (the weighted geometric mean of the tail probabilities:
votes cast in surprise, -log p) is the streaming scorer's rule, where one detector carries
the vote and the others sharpen or soften it.

Calibration of the learnt detectors (``CompactTail(tail="gpd")``): their raw scores are
bounded or light-tailed, so a log-exponential tail put a floor of ~1e-3 under them and they
could never alert; the GPD tail keeps the empirical ranks and extrapolates beyond. What they
see is in ``features.relations``. Measured figures (ablations, relation incidents, the
geometric mean against Bonferroni): ``bench/RESULTS.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Combine = Literal["bonferroni", "geometric"]
TailModel = Literal["log-exponential", "gpd"]
_TINY = 1e-300


class CompactTail:
    """Raw score → tail probability P(raw ≥ x), vectorised, JSON-serialisable.

    ``tail`` picks the model of the upper tail:

    * ``"log-exponential"`` (the count model's): beyond the upper ``tail_fraction`` an
      exponential in log(1 + x) — Pareto-like, right for heavy-tailed maxima of deviations.
    * ``"gpd"`` (the learnt detectors'): their scores are light-tailed or bounded (an
      isolation path cannot be shorter than one split; the LSTM's inputs are squashed), and
      a Pareto-like model puts a floor of ~1e-3 under them. So: the empirical survival
      (n_ge + 1) / (n + 1) over the whole sample — exact ranks for the top ``exact`` scores
      — and beyond the sample maximum a generalised Pareto tail (peaks over the
      ``tail_fraction`` threshold, shape ξ by probability-weighted moments) continued from
      there: for ξ > 0 the fitted GPD's conditional survival, for ξ ≤ 0 (light or bounded)
      an exponential with the fitted model's local scale at the maximum. Never an endpoint:
      a score beyond anything seen is rarer than 1 / (n + 1), by how far it lies beyond.
    """

    def __init__(
        self,
        tail_fraction: float = 0.05,
        tail_min_count: int = 10,
        grid: int = 512,
        tail: TailModel = "log-exponential",
        max_shape: float = 0.5,
        exact: int = 1024,
    ):
        if tail not in ("log-exponential", "gpd"):
            raise ValueError(f"unknown tail model {tail!r}")
        self.tail_fraction = tail_fraction
        self.tail_min_count = tail_min_count
        self.grid = grid
        self.tail: TailModel = tail
        self.max_shape = max_shape
        self.exact = exact
        self.values: FloatArray = np.zeros(0)  # ascending raw scores at the grid ranks
        self.survival: FloatArray = np.zeros(0)  # (n_ge + 1) / (n + 1) at each
        self.top: FloatArray = np.zeros(0)  # gpd: the ``exact`` largest scores, ascending
        self.n = 0
        self.u = np.inf
        self.beta = 1.0  # log-exponential: mean log excess; gpd: scale σ at the maximum
        self.shape = 0.0  # gpd: ξ (clipped to [0, max_shape] beyond the maximum)
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
        self.n = n
        k = min(n, max(self.tail_min_count, int(n * self.tail_fraction)))
        self.tail_p = k / n
        if self.tail == "gpd":
            self.top = x[n - min(n, self.exact) :].copy()
            self.u = float(x[n - k])
            self.shape, self.beta = _gpd_at_maximum(x[n - k :] - self.u, self.max_shape)
            return self
        top = np.log1p(np.maximum(x[n - k :], 0.0))
        self.u = float(top[0])
        self.beta = float(np.mean(top - self.u))
        return self

    def tail_prob(self, raw: npt.ArrayLike) -> FloatArray:
        v = np.asarray(raw, dtype=np.float64)
        if self.tail == "gpd":
            return self._gpd_tail_prob(v)
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

    def _gpd_tail_prob(self, v: FloatArray) -> FloatArray:
        clean = np.nan_to_num(v, nan=-np.inf)
        # Below the exact top: the grid's survival at the grid value just below (never
        # smaller than the truth); in the top: exact ranks.
        pos = np.maximum(np.searchsorted(self.values, clean, side="right") - 1, 0)
        bulk = self.survival[pos]
        n_ge = len(self.top) - np.searchsorted(self.top, clean, side="left")
        exact = (n_ge + 1.0) / (self.n + 1.0)
        p = np.where(clean >= self.top[0], exact, bulk)
        maximum = float(self.top[-1])
        beyond = np.maximum(clean - maximum, 0.0) / max(self.beta, _TINY)
        if self.shape > 0:
            decay = np.exp(-np.log1p(self.shape * beyond) / self.shape)
        else:
            decay = np.exp(-beyond)
        p = np.where(clean > maximum, np.maximum(decay / (self.n + 1.0), _TINY), p)
        return np.asarray(np.where(np.isnan(v), 1.0, p), dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tail_fraction": self.tail_fraction,
            "tail_min_count": self.tail_min_count,
            "grid": self.grid,
            "tail": self.tail,
            "max_shape": self.max_shape,
            "exact": self.exact,
            "values": self.values.tolist(),
            "survival": self.survival.tolist(),
            "top": self.top.tolist(),
            "n": self.n,
            "u": self.u,
            "beta": self.beta,
            "shape": self.shape,
            "tail_p": self.tail_p,
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> CompactTail:
        out = cls(
            state["tail_fraction"],
            state["tail_min_count"],
            state["grid"],
            state.get("tail", "log-exponential"),  # exports before the GPD tail
            state.get("max_shape", 0.5),
            state.get("exact", 1024),
        )
        out.values = np.asarray(state["values"], dtype=np.float64)
        out.survival = np.asarray(state["survival"], dtype=np.float64)
        out.top = np.asarray(state.get("top", []), dtype=np.float64)
        out.n = int(state.get("n", 0))
        out.u, out.beta, out.tail_p = float(state["u"]), float(state["beta"]), state["tail_p"]
        out.shape = float(state.get("shape", 0.0))
        return out


def _gpd_at_maximum(excess: FloatArray, max_shape: float) -> tuple[float, float]:
    """(ξ, σ) continuing the tail beyond the largest excess: a generalised Pareto fitted to
    the excesses ≥ 0 over the threshold (Hosking & Wallis' probability-weighted moments:
    closed form, robust for a few thousand points). Heavy (ξ > 0, at most ``max_shape``):
    the GPD itself, rescaled to start at the maximum (σ + ξ · max). Light or bounded
    (ξ ≤ 0): an exponential with the fitted model's local scale at the maximum, σ + ξ · max
    (the hazard there), never below the mean spacing of the ten largest."""
    y = np.sort(excess)
    k = len(y)
    a0 = float(y.mean())
    top = float(y[-1]) if k else 0.0
    spacing = (top - float(y[-11])) / 10.0 if k > 10 else top
    if k < 3 or a0 <= 0:
        return 0.0, max(a0, spacing, _TINY)
    plotting = (np.arange(1, k + 1) - 0.35) / k
    a1 = float(np.mean((1.0 - plotting) * y))
    denominator = a0 - 2.0 * a1
    shape = 2.0 - a0 / denominator if denominator > 0 else max_shape
    sigma = 2.0 * a0 * a1 / denominator if denominator > 0 else a0
    if shape > 0:
        shape = min(shape, max_shape)
        sigma = a0 * (1.0 - shape)  # the GPD's mean excess is σ / (1 - ξ)
        return shape, sigma + shape * top
    return 0.0, max(sigma + shape * top, spacing, _TINY)


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
