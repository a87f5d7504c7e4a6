"""Training a market's model: an isolation forest on its tickers' relative indicators.

Every ticker with enough bars contributes its rows (``features.ohlcv.relative``); the forest
is written as one ONNX node (``training.isolation_forest``) and the training rows' raw
scores, as quantiles, go into the metadata so the detector calibrates new scores against
them without the training data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tripwire.detection.isolation_forest import IsolationForestDetector
from tripwire.detection.market import (
    ALERT_BUDGET,
    BARS_PER_YEAR,
    BURST_BARS,
    BURST_FEATURES,
    EWMA_DECAY,
    EXTREME_Z,
    FIRST_SCORED,
    MOVE_WINDOW,
    QUIET_LEVEL,
    RUN_BARS,
    SHOCK_FEATURES,
    TAIL_FRACTION,
    VOLUME_SCORE,
    WEIGHTS,
    MarketDetector,
    budget_threshold,
    detector_name,
    extreme_moves_per_year,
    fit_tail,
    market_budget,
    moves,
    previous_energy,
    quiet_market,
    raw_scores,
    short_session_shares,
    training_jumps,
    volume_level_z,
)
from tripwire.detection.vote import CompactTail, combine
from tripwire.domain.metrics import Interval
from tripwire.features.ohlcv import (
    FEATURES,
    INDEX,
    RAW,
    RELATIVE_WINDOW,
    VOLUME_FEATURES,
    clean,
    indicators,
    relative,
    reported,
)
from tripwire.training.isolation_forest import train_isolation_forest

MIN_TRAINING_ROWS = 200


class NotEnoughBars(ValueError):
    """Too few bars to train a market model; nothing was trained."""


@dataclass
class TrainingRows:
    """Every ticker's scoreable bars, concatenated: what each detector is calibrated on."""

    z: npt.NDArray[np.float64]  # (n, F) relative indicators
    previous: npt.NDArray[np.float64]  # (n,) burst energy of the bars before
    move: npt.NDArray[np.float64]  # (4, n) the return z's and volume level (``moves``)
    volatility: npt.NDArray[np.float64]  # (n,) the 20-bar volatility before each bar


def training_rows(
    series: Sequence[npt.ArrayLike], sessions: Sequence[npt.ArrayLike | None] | None = None
) -> TrainingRows:
    """The rows of every ticker's bars ``(T_i, 5)`` from the first bar every detector can
    score (short tickers are skipped); ``sessions``: each ticker's session shares ``(T_i,)``
    (``features.ohlcv.indicators``), None for full sessions throughout."""
    arrays = [reported(bars) for bars in series]
    shares = list(sessions) if sessions is not None else [None] * len(arrays)
    rows, previous, returns, volatility = [], [], [], []
    for (bars, unreported), share in zip(arrays, shares, strict=True):
        if len(bars) > FIRST_SCORED:
            features = indicators(bars, share)
            volume = bars[:, RAW.index("volume")]
            level = volume_level_z(volume, FIRST_SCORED, share, unreported)
            z = relative(features, FIRST_SCORED - BURST_BARS + 1, volume=volume)[0]
            rows.append(z[BURST_BARS - 1 :])
            previous.append(previous_energy(z))
            returns.append(moves(features, FIRST_SCORED, level))
            volatility.append(features[FIRST_SCORED - 1 : -1, INDEX["volatility"]])
    if not rows:
        F = len(FEATURES)
        return TrainingRows(np.zeros((0, F)), np.zeros(0), np.zeros((4, 0)), np.zeros(0))
    return TrainingRows(
        np.concatenate(rows),
        np.concatenate(previous),
        np.concatenate(returns, axis=-1),
        np.concatenate(volatility),
    )


def short_session_volume(
    series: Sequence[npt.ArrayLike], sessions: Sequence[npt.ArrayLike | None] | None
) -> float:
    """What a short session trades, as a share of its hours' share of a full session's
    volume: the median over the training's short sessions of ``v / share`` over the median
    volume of the ``RELATIVE_WINDOW`` full sessions before, in [0.2, 2]; 1 without any. (A
    feed that reports a full day's volume on a half day, as the demo's generator does,
    learns ~1.75: its half days are then judged as full sessions.)"""
    ratios = []
    for bars, session in zip(series, sessions or [None] * len(series), strict=True):
        if session is None:
            continue
        v, share = clean(bars)[:, RAW.index("volume")], np.asarray(session, dtype=np.float64)
        full = (share >= 1) & (v > 0)
        for t in np.flatnonzero((share > 0) & (share < 1) & (v > 0)):
            before = v[:t][full[:t]][-RELATIVE_WINDOW:]
            if len(before) >= RELATIVE_WINDOW // 2:
                ratios.append(v[t] / share[t] / np.median(before))
    return float(np.clip(np.median(ratios), 0.2, 2.0)) if ratios else 1.0


def informative(raw: npt.NDArray[np.float64], tail: CompactTail) -> bool:
    """Whether training scores can calibrate: they vary, and so does their fitted tail."""
    return bool(np.ptp(raw) > 0 and (tail.tail == "gpd" or tail.beta > 0))


def training_raw_scores(
    detector: MarketDetector,
    series: Sequence[npt.ArrayLike],
    sessions: Sequence[npt.ArrayLike | None] | None = None,
) -> dict[str, npt.NDArray[np.float64]]:
    """Each detector's raw scores of the training rows of ``series`` (what its tail fits)."""
    if sessions is not None:
        factor = detector.short_session_volume
        sessions = [short_session_shares(share, factor) for share in sessions]
    rows = training_rows(series, sessions)
    return raw_scores(detector.forest, rows.z, rows.previous, rows.move)


def train_market_model(
    series: Sequence[npt.ArrayLike],
    interval: Interval = Interval.D1,
    market: str = "market",
    *,
    n_estimators: int = 200,
    max_samples: int = 256,
    seed: int = 0,
    alert_tail_prob: float | None = None,
    alert_budget: float = ALERT_BUDGET,
    extreme_z: float | None = EXTREME_Z,
    quiet_level: float | None = QUIET_LEVEL,
    tail_fraction: float = TAIL_FRACTION,
    weights: dict[str, float] | None = None,
    sessions: Sequence[npt.ArrayLike | None] | None = None,
) -> tuple[bytes, dict[str, Any]]:
    """(ONNX bytes, metadata) of a market model trained on each ticker's bars ``(T_i, 5)``.

    Each detector's training scores are calibrated (``detection.market.fit_tail``) and kept
    as JSON (``tails``); ``usual_volatility`` is the training rows' median 20-bar
    volatility, what an alert's "already volatile" is judged against. The alert threshold,
    unless given, is learnt from the training rows: the combined p under which they would
    have raised ``alert_budget`` alerts per ticker-year (``detection.market.budget_threshold``),
    or as many as they made moves of ``extreme_z`` robust σ if fewer (``market_budget``);
    a market whose training jumped no more than a conditionally normal one
    (``quiet_market`` at ``quiet_level``; None: never quiet) gets the nominal one alert a
    ticker-year, p ≤ 1 / bars a year."""
    factor = short_session_volume(series, sessions)
    if sessions is not None:
        sessions = [short_session_shares(share, factor) for share in sessions]
    rows = training_rows(series, sessions)
    x = rows.z
    if len(x) < MIN_TRAINING_ROWS:
        raise NotEnoughBars(
            f"{len(x)} scoreable bars; a market model needs {MIN_TRAINING_ROWS} "
            f"(a ticker's first {FIRST_SCORED} bars only warm its indicators up)"
        )
    onnx_bytes, metadata = train_isolation_forest(
        x, n_estimators=n_estimators, max_samples=max_samples, seed=seed
    )
    raw = raw_scores(IsolationForestDetector(onnx_bytes), x, rows.previous, rows.move)
    fitted = {d: fit_tail(d, r, tail_fraction) for d, r in raw.items()}
    # A detector whose training scores do not vary (no volume was ever reported, so every
    # volume z is 0) learnt nothing: its fitted tail would call any non-zero score
    # impossible. It is left out of the model (and of the vote) instead.
    tails = {d: t.to_dict() for d, t in fitted.items() if informative(raw[d], t)}
    voting = dict(WEIGHTS if weights is None else weights)
    per_year = BARS_PER_YEAR[interval]
    learnt = {d: raw[d] for d in tails}
    extreme = (
        None if extreme_z is None else extreme_moves_per_year(learnt, voting, per_year, extreme_z)
    )
    jumps, judged = training_jumps(series)
    quiet = quiet_level is not None and quiet_market(jumps, judged, quiet_level)
    if alert_tail_prob is None and quiet:
        alert_tail_prob = 1.0 / per_year
    elif alert_tail_prob is None:
        train_p = combine({d: fitted[d].tail_prob(raw[d]) for d in tails}, voting, "bonferroni")
        budget = market_budget(learnt, voting, alert_budget, per_year, extreme_z)
        alert_tail_prob = budget_threshold(train_p, budget, per_year)
    metadata.update(
        detector=detector_name(interval, market),
        interval=interval.value,
        features=list(FEATURES),
        relative_window=RELATIVE_WINDOW,
        tickers=sum(1 for bars in series if np.shape(bars)[0] > FIRST_SCORED),
        shock_features=list(SHOCK_FEATURES),
        volume_features=list(VOLUME_FEATURES),
        burst_features=list(BURST_FEATURES),
        burst_bars=BURST_BARS,
        tails=tails,
        tail_fraction=tail_fraction,
        weights=voting,
        move_window=MOVE_WINDOW,
        ewma_decay=EWMA_DECAY,
        run_bars=RUN_BARS,
        alert_budget=alert_budget,
        extreme_z=extreme_z,
        extreme_moves_per_year=extreme,
        jumps=jumps,
        jump_returns=judged,
        quiet=quiet,
        volume_score=VOLUME_SCORE,
        short_session_volume=factor,
        short_sessions=sessions is not None,  # volume judged per session share
        usual_volatility=float(np.median(rows.volatility)),
        alert_tail_prob=alert_tail_prob,
    )
    return onnx_bytes, metadata
