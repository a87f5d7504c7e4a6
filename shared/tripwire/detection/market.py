"""Market detection: a per-market model over tickers' relative indicators.

A bar is described by the fourteen indicators of ``features.ohlcv``, each as a robust
z-score against the ticker's own previous 60 bars (``features.ohlcv.relative``), so one
model serves a market's calm and volatile tickers alike. The model of a market (one per
market profile, interval and market, e.g. ``market_if_1d_US``) has three detectors:

* ``isolation_forest`` on all fourteen z-scores (ONNX, ``training.market``): unusual
  *combinations* of indicators;
* ``shock``: the largest |z| of the bar's own moves — return, volume change, OBV step and
  overnight gap. An isolation forest isolates one extreme feature among fourteen slowly
  (it picks the feature at random), so a lone 20σ gap scores only moderately; this
  detector catches exactly that;
* ``burst``: the root mean square of the return and gap z-scores over the last
  ``BURST_BARS`` bars — a volatility regime shows as several large moves in a row before
  any 20-bar indicator notices.

Each raw score is calibrated against the training rows' scores into a tail probability
("one ticker-bar in 1/p is this odd"); the bar's p is the weighted Bonferroni combination
``min(1, p_d / w_d)`` over detectors ``d`` (``WEIGHTS``, summing to 1, set by what each
measurably catches in bench/market.py), and a bar with ``p <= alert_tail_prob`` is an
anomaly.

Explanations are leave-one-out: a feature's contribution is how many decades the combined
p rises when that feature alone is set back to the ticker's usual value (z = 0) — one
extra batch of 14 rows per anomaly (exact Shapley would need 2^14 evaluations).

Runtime needs numpy and onnxruntime only; training lives in ``tripwire.training.market``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tripwire.detection.calibration import TailCalibrator
from tripwire.detection.isolation_forest import IsolationForestDetector
from tripwire.detection.severity import severity_of
from tripwire.domain.alerts import Severity
from tripwire.domain.metrics import Interval
from tripwire.features.ohlcv import FEATURES, RELATIVE_START, indicators, relative

FloatArray = npt.NDArray[np.float64]

DETECTOR_PREFIX = "market_if"
ALERT_TAIL_PROB = 1e-3  # tuned by bench/market.py (recall vs false alerts per 1,000 ticker-days)
CALIBRATION_POINTS = 2000  # quantiles of the training scores kept in the model's metadata


# Weights sum to 1 (a valid Bonferroni bound); the forest adds little on planted anomalies.
WEIGHTS = {"isolation_forest": 0.1, "shock": 0.45, "burst": 0.45}
SHOCK_FEATURES = ("log_return", "log_volume_change", "obv_change", "gap")
BURST_FEATURES = ("log_return", "gap")
BURST_BARS = 3
FIRST_SCORED = RELATIVE_START + BURST_BARS - 1  # the first bar every detector can score
_SHOCK_COLUMNS = [FEATURES.index(name) for name in SHOCK_FEATURES]
_BURST_COLUMNS = [FEATURES.index(name) for name in BURST_FEATURES]


def shock_score(z: FloatArray) -> FloatArray:
    """(...,) the largest |z| of the bar's own moves (return, volume, OBV step, gap)."""
    return np.asarray(np.abs(z[..., _SHOCK_COLUMNS]).max(axis=-1))


def burst_energy(z: FloatArray) -> FloatArray:
    """(...,) a bar's squared return and gap z-scores, summed."""
    return np.asarray((z[..., _BURST_COLUMNS] ** 2).sum(axis=-1))


def previous_energy(z: FloatArray) -> FloatArray:
    """(..., n - BURST_BARS + 1) the burst energy of the BURST_BARS - 1 bars before each of
    the bars ``BURST_BARS - 1 ..`` of ``z`` (..., n, F) — what ``burst_score`` adds to a bar."""
    energy = burst_energy(z)
    n = energy.shape[-1] - BURST_BARS + 1
    return np.asarray(sum(energy[..., i : i + n] for i in range(BURST_BARS - 1)))


def burst_score(z: FloatArray, previous: FloatArray) -> FloatArray:
    """(...,) RMS of the return and gap z-scores over the bar and the bars before it."""
    return np.asarray(np.sqrt((previous + burst_energy(z)) / (BURST_BARS * len(BURST_FEATURES))))


def detector_name(interval: Interval, market: str) -> str:
    """The registry name of a market model: one per interval and market (``market_if_1d_US``)."""
    return f"{DETECTOR_PREFIX}_{interval.value}_{market}"


def calibrator_from(points: list[float]) -> TailCalibrator:
    return TailCalibrator(tail_fraction=0.05, min_history=50).fit(np.asarray(points))


@dataclass(frozen=True)
class BarScores:
    """Scores of the bars ``start .. T-1`` of tickers ``(k, n)``, features ``(k, n, F)``."""

    start: int
    raw: dict[str, FloatArray]  # each detector's raw score
    detector_probs: dict[str, FloatArray]  # each detector's calibrated tail probability
    tail_prob: FloatArray  # combined
    z: FloatArray
    previous: FloatArray  # burst energy of the bars before each bar (for explanations)
    features: FloatArray  # the indicators' own values (what an alert stores)
    expected: FloatArray  # each indicator's median over the ticker's previous bars


class MarketDetector:
    """The loaded model of one market and interval: score bars, explain anomalies."""

    def __init__(self, onnx_bytes: bytes, metadata: dict[str, Any]) -> None:
        self.metadata = dict(metadata)
        if list(self.metadata.get("features", FEATURES)) != list(FEATURES):
            raise ValueError("the model was trained on other features than this code computes")
        self.forest = IsolationForestDetector(onnx_bytes, metadata)
        self.calibrators = {
            "isolation_forest": calibrator_from(list(self.metadata["calibration"])),
            "shock": calibrator_from(list(self.metadata["shock_calibration"])),
            "burst": calibrator_from(list(self.metadata["burst_calibration"])),
        }
        self.alert_tail_prob = float(self.metadata.get("alert_tail_prob", ALERT_TAIL_PROB))

    def score_bars(self, bars: npt.ArrayLike, start: int = FIRST_SCORED) -> BarScores:
        """Score bars ``start..`` of ``(k, T, 5)`` OHLCV (tickers sharing one bar count)."""
        start = max(start, FIRST_SCORED)
        raw_features = indicators(bars)
        z_all, expected = relative(raw_features, start - BURST_BARS + 1)
        previous = previous_energy(z_all)
        z, expected = z_all[..., BURST_BARS - 1 :, :], expected[..., BURST_BARS - 1 :, :]
        raw, probs, combined = self.score_z(z, previous)
        features = raw_features[:, start:]
        return BarScores(start, raw, probs, combined, z, previous, features, expected)

    def score_z(
        self, z: FloatArray, previous: FloatArray
    ) -> tuple[dict[str, FloatArray], dict[str, FloatArray], FloatArray]:
        """Relative rows ``(..., F)`` and their previous burst energy ``(...)`` →
        (raw score per detector, tail probability per detector, combined tail probability)."""
        shape, F = z.shape[:-1], z.shape[-1]
        rows = z.reshape(-1, F)
        raw = {
            "isolation_forest": self.forest.score(rows) if len(rows) else np.zeros(0),
            "shock": shock_score(rows),
            "burst": burst_score(rows, np.ravel(previous)),
        }
        probs = {d: self.calibrators[d].tail_prob(r).reshape(shape) for d, r in raw.items()}
        weighted = [probs[name] / weight for name, weight in WEIGHTS.items()]
        combined = np.minimum(1.0, np.minimum.reduce(weighted))
        return {d: r.reshape(shape) for d, r in raw.items()}, probs, combined

    def is_anomaly(self, tail_prob: FloatArray) -> npt.NDArray[np.bool_]:
        return np.asarray(tail_prob <= self.alert_tail_prob)

    def severity(self, tail_prob: float) -> Severity:
        return severity_of(1.0 - tail_prob) or Severity.LOW

    def contributions(self, z_row: FloatArray, previous: float) -> FloatArray:
        """(F,) leave-one-out contributions of one row's features, in decades of p: how
        many times rarer the bar is with the feature than with it at its usual value."""
        F = z_row.shape[-1]
        rows = np.vstack([z_row[None, :], np.where(np.eye(F, dtype=bool), 0.0, z_row)])
        p = self.score_z(rows, np.full(F + 1, previous))[2]
        return np.asarray(np.log10(p[1:]) - np.log10(p[0]))
