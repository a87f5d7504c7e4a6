"""Training a market's model: an isolation forest on its tickers' relative indicators.

Every ticker with enough bars contributes its rows (``features.ohlcv.relative``); the forest
is written as one ONNX node (``training.isolation_forest``) and the training rows' raw
scores, as quantiles, go into the metadata so the detector calibrates new scores against
them without the training data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from tripwire.detection.isolation_forest import IsolationForestDetector
from tripwire.detection.market import (
    ALERT_TAIL_PROB,
    BURST_BARS,
    BURST_FEATURES,
    CALIBRATION_POINTS,
    FIRST_SCORED,
    SHOCK_FEATURES,
    burst_score,
    detector_name,
    previous_energy,
    shock_score,
)
from tripwire.domain.metrics import Interval
from tripwire.features.ohlcv import FEATURES, RELATIVE_WINDOW, indicators, relative
from tripwire.training.isolation_forest import train_isolation_forest

MIN_TRAINING_ROWS = 200


class NotEnoughBars(ValueError):
    """Too few bars to train a market model; nothing was trained."""


def training_rows(
    series: Sequence[npt.ArrayLike],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(relative rows, their previous burst energy) of every ticker's bars ``(T_i, 5)``,
    from the first bar every detector can score (short tickers are skipped)."""
    arrays = [np.asarray(bars, dtype=np.float64) for bars in series]
    rows, previous = [], []
    for bars in arrays:
        if len(bars) > FIRST_SCORED:
            z = relative(indicators(bars), FIRST_SCORED - BURST_BARS + 1)[0]
            rows.append(z[BURST_BARS - 1 :])
            previous.append(previous_energy(z))
    if not rows:
        return np.zeros((0, len(FEATURES))), np.zeros(0)
    return np.concatenate(rows), np.concatenate(previous)


def train_market_model(
    series: Sequence[npt.ArrayLike],
    interval: Interval = Interval.D1,
    market: str = "market",
    *,
    n_estimators: int = 200,
    max_samples: int = 256,
    seed: int = 0,
    alert_tail_prob: float = ALERT_TAIL_PROB,
) -> tuple[bytes, dict[str, Any]]:
    """(ONNX bytes, metadata) of a market model trained on each ticker's bars ``(T_i, 5)``."""
    x, previous = training_rows(series)
    if len(x) < MIN_TRAINING_ROWS:
        raise NotEnoughBars(
            f"{len(x)} scoreable bars; a market model needs {MIN_TRAINING_ROWS} "
            f"(a ticker's first {FIRST_SCORED} bars only warm its indicators up)"
        )
    onnx_bytes, metadata = train_isolation_forest(
        x, n_estimators=n_estimators, max_samples=max_samples, seed=seed
    )
    raw = IsolationForestDetector(onnx_bytes).score(x)
    levels = np.linspace(0.0, 1.0, min(CALIBRATION_POINTS, len(raw)))
    metadata.update(
        detector=detector_name(interval, market),
        interval=interval.value,
        features=list(FEATURES),
        relative_window=RELATIVE_WINDOW,
        tickers=sum(1 for bars in series if np.shape(bars)[0] > FIRST_SCORED),
        calibration=[float(v) for v in np.quantile(raw, levels)],
        shock_features=list(SHOCK_FEATURES),
        shock_calibration=[float(v) for v in np.quantile(shock_score(x), levels)],
        burst_features=list(BURST_FEATURES),
        burst_bars=BURST_BARS,
        burst_calibration=[float(v) for v in np.quantile(burst_score(x, previous), levels)],
        alert_tail_prob=alert_tail_prob,
    )
    return onnx_bytes, metadata
