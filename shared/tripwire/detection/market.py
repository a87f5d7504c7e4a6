"""Market detection: a per-market model over tickers' relative indicators.

A bar is described by the fourteen indicators of ``features.ohlcv``, each as a robust
z-score against the ticker's own previous 60 bars (``features.ohlcv.relative``, every scale
floored: an index's gap that is always 0 is no 50σ shock), so one model serves a market's
calm and volatile tickers alike. The model of a market (one per market profile, interval
and market, e.g. ``market_if_1d_US``) scores each bar with these detectors:

* ``isolation_forest`` on all fourteen z-scores (ONNX, ``training.market``): unusual
  *combinations* of indicators;
* ``shock``: the largest |z| of the bar's price moves, return and overnight gap, against
  the last 60 bars — a move after a calm stretch;
* ``move``: the return's robust z against the last ``MOVE_WINDOW`` (120) bars — a move the
  market has not made in half a year, even inside a turbulent quarter;
* ``vol_move``: the return over the EWMA volatility of the bars before it (``EWMA_DECAY``):
  a volatility-normalised return that follows the market's calming within weeks;
* ``run``: the return of the last ``RUN_BARS`` bars in units of √RUN_BARS daily moves — a
  crash or rally spread over several days that no single day shows;
* ``volume``: the |z| of the bar's volume level against its last 60 bars, a short session
  (a US half day: ``domain.calendars``) judged as a full session's volume scaled by its
  share and the model's learnt ``short_session_volume`` (``volume_level_z``); left out of
  a model whose training bars reported no volume (it would have learnt nothing);
* ``burst``: the RMS of the return and gap z-scores over the last ``BURST_BARS`` bars but
  the largest — several large moves in a row. Calibrated and reported, no vote (WEIGHTS).

Each raw score is calibrated against the training rows' scores into a tail probability
("one ticker-bar in 1/p is this odd") by ``vote.CompactTail``: empirical inside the bulk, a
Pareto tail fitted to the top ``TAIL_FRACTION`` of the training scores beyond (not the
training maximum, which a few thousand rows put at ~1/n), a generalised Pareto beyond the
maximum for the bounded forest score. The bar's p is the shared rule of ``vote.combine``,
the weighted Bonferroni ``min(1, min_d p_d / w_d)`` (``WEIGHTS``), and a bar with
``p <= alert_tail_prob`` is an anomaly. The threshold is learnt per model from its
training rows (``budget_threshold``): the p under which they would have raised
``ALERT_BUDGET`` alerts per ticker-year — or fewer, as many as the training bars on which
some voting view moved ``EXTREME_Z`` robust σ (``market_budget``): a calibrated p is a
rank within the market, so without that cap a market without news would spend the budget
on its noise. A market whose training jumped no more than a conditionally normal market
(``quiet_market``) gets the nominal threshold of one alert a ticker-year instead. The
budget, the weights and the tail fraction are chosen on real index histories,
leave-one-index-out (``bench/market_real.py``, bench/RESULTS.md).

Explanations are leave-one-out: a feature's contribution is how many decades the combined
p rises when that feature alone is set back to the ticker's usual value (z = 0) — one
extra batch of 14 rows per anomaly (exact Shapley would need 2^14 evaluations). An alert
also says whether the market was already volatile (``regime_entry``).

Runtime needs numpy and onnxruntime only; training lives in ``tripwire.training.market``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from tripwire.detection.isolation_forest import IsolationForestDetector
from tripwire.detection.severity import severity_of
from tripwire.detection.vote import CompactTail, TailModel, combine
from tripwire.domain.alerts import Attribution, Direction, Severity
from tripwire.domain.metrics import Interval
from tripwire.features.ohlcv import (
    FEATURES,
    INDEX,
    RAW,
    RELATIVE_START,
    RELATIVE_WINDOW,
    SCALE_FLOOR,
    VOLUME_FEATURES,
    Z_LIMIT,
    full_volume,
    indicators,
    relative,
    reported,
    volume_known,
)

FloatArray = npt.NDArray[np.float64]

DETECTOR_PREFIX = "market_if"
# The threshold of models trained before ALERT_BUDGET (and the bench's global grid).
ALERT_TAIL_PROB = 0.04
# Training alerts per ticker-year a model's threshold is set to (``budget_threshold``),
# chosen leave-one-index-out on real indices (bench/market_real.py, bench/RESULTS.md).
ALERT_BUDGET = 8.0
# A market alerts at most as often as its training bars moved extremely: some voting view at
# least EXTREME_Z robust σ (``extreme_moves_per_year``). Real indices made 8.6–27 such bars a
# ticker-year in training; a market without news (the synthetic bench's GARCH) makes ~3, and
# a budget of 8 would be spent on its noise. Chosen leave-one-index-out (bench/RESULTS.md).
EXTREME_Z = 3.5
# A market is quiet when its training jumped no more often than a conditionally normal market
# would (``quiet_market``): a jump a return of at least JUMP_Z σ of an EWMA (RiskMetrics'
# λ) of the squared returns before it. A quiet market's budget would be spent on its noise,
# so its threshold is the nominal one alert a ticker-year (p ≤ 1/bars a year: the combined
# p is a Bonferroni bound). None fitted (bench/RESULTS.md, "A quiet market's nominal ...").
JUMP_Z = 4.0
JUMP_DECAY = 0.94
JUMP_WARMUP = 20  # the first returns seed the variance
QUIET_LEVEL = 0.01
# Bars a ticker-year, per interval (intraday: ~6.5 trading hours a day).
BARS_PER_YEAR = {
    Interval.D1: 252,
    Interval.H1: 252 * 7,
    Interval.M15: 252 * 26,
    Interval.M5: 252 * 78,
}


# Weights sum to 1 (a valid Bonferroni bound): the four price views and volume at 0.1,
# chosen leave-one-index-out on real indices (bench/RESULTS.md, Markets; only ^NDX has
# volume, so volume's own weight is a prior the other folds cannot test: at 0.2 ^NDX lost
# 15 Oct 1998). ``isolation_forest`` and ``burst`` are calibrated and reported but have no
# vote: burst re-alerts the days after every shock, the forest adds little.
WEIGHTS = {"shock": 0.225, "move": 0.225, "vol_move": 0.225, "run": 0.225, "volume": 0.1}
# ``volume`` scores the bar's volume level (``volume_level_z``); models without this tag in
# their metadata score the volume change and OBV step (``volume_score``).
VOLUME_SCORE = "level"
SHOCK_FEATURES = ("log_return", "gap")
BURST_FEATURES = ("log_return", "gap")
BURST_BARS = 3
# ``move`` judges the return against the ticker's last six months, not its last 60 bars: a
# crash inside an already turbulent quarter (the Nasdaq's 14 Apr 2000, -10 %) is only ~3σ
# of the quarter, yet a move the market has not made in half a year.
MOVE_WINDOW = 120
EWMA_DECAY = 0.97  # ``vol_move``'s volatility: a half-life of ~23 bars
# ``run``: a week of daily bars — the Nasdaq's rally into the Fed's cut of 15 Oct 1998
# (+5.0 %, 1.7σ of its day) was its largest week since the crash of August. Its scale is
# the daily returns before the run began (RUN_WINDOW, so it scores from FIRST_SCORED).
RUN_BARS = 5
RUN_WINDOW = MOVE_WINDOW - RUN_BARS + 1
_MAD_TO_SIGMA = 1.4826
FIRST_SCORED = max(RELATIVE_START + BURST_BARS - 1, MOVE_WINDOW + 1)  # every detector scores
_RETURN = INDEX["log_return"]
_SHOCK_COLUMNS = [FEATURES.index(name) for name in SHOCK_FEATURES]
_VOLUME_COLUMNS = [FEATURES.index(name) for name in VOLUME_FEATURES]
_VOLUME_LEVEL = INDEX["obv_change"]  # |obv_change| is the volume over its 20-bar mean
_BURST_COLUMNS = [FEATURES.index(name) for name in BURST_FEATURES]


def shock_score(z: FloatArray) -> FloatArray:
    """(...,) the largest |z| of the bar's price moves (return, gap): a move in units of the
    ticker's own recent volatility."""
    return np.asarray(np.abs(z[..., _SHOCK_COLUMNS]).max(axis=-1))


def move_z(features: FloatArray, start: int) -> FloatArray:
    """(..., T - start) the robust z of each bar's log return against the ticker's previous
    ``MOVE_WINDOW`` returns (``features.ohlcv.relative``, the return's floor)."""
    column = features[..., [_RETURN]]
    z = relative(column, start, MOVE_WINDOW, floors=[SCALE_FLOOR["log_return"]])[0]
    return np.asarray(z[..., 0])


def ewma_z(features: FloatArray, start: int) -> FloatArray:
    """(..., T - start) each bar's log return over the ticker's EWMA volatility of the
    ``MOVE_WINDOW`` returns before it (weights ``EWMA_DECAY**i``, i = 0 for the latest; a
    fixed window, so a scan that loads fewer bars scores the same). It follows volatility
    within weeks, as the 120-bar MAD cannot: a shock right after the market calmed down."""
    r = features[..., _RETURN]
    T = r.shape[-1]
    if start >= T:
        return np.zeros((*r.shape[:-1], 0))
    weights = EWMA_DECAY ** np.arange(MOVE_WINDOW)[::-1]  # oldest first
    past = sliding_window_view(r[..., start - MOVE_WINDOW : T - 1] ** 2, MOVE_WINDOW, axis=-1)
    sigma = np.sqrt(past @ weights / weights.sum())
    z = r[..., start:] / np.maximum(sigma, SCALE_FLOOR["log_return"])
    return np.asarray(np.clip(z, -Z_LIMIT, Z_LIMIT))


def run_z(features: FloatArray, start: int) -> FloatArray:
    """(..., T - start) each bar's ``RUN_BARS``-bar log return (its last RUN_BARS daily
    returns summed) over √RUN_BARS × the robust scale (1.4826·MAD, floored) of the
    ``RUN_WINDOW`` daily returns before the run began."""
    r = features[..., _RETURN]
    T = r.shape[-1]
    if start >= T:
        return np.zeros((*r.shape[:-1], 0))
    first = start - RUN_BARS + 1  # the first bar of the first scored run
    if first < RUN_WINDOW:
        raise ValueError(f"start ({start}) must leave {RUN_WINDOW + RUN_BARS - 1} bars")
    total = np.cumsum(r, axis=-1)
    run = total[..., start:] - total[..., start - RUN_BARS : T - RUN_BARS]
    past = sliding_window_view(r[..., first - RUN_WINDOW : T - RUN_BARS], RUN_WINDOW, axis=-1)
    median = np.median(past, axis=-1)
    mad = np.median(np.abs(past - median[..., None]), axis=-1)
    scale = np.maximum(_MAD_TO_SIGMA * mad, SCALE_FLOOR["log_return"]) * np.sqrt(RUN_BARS)
    return np.asarray(np.clip(run / scale, -Z_LIMIT, Z_LIMIT))


def moves(features: FloatArray, start: int, volume_level: FloatArray | None = None) -> FloatArray:
    """(3, ..., T - start) the return z's of bars ``start ..`` the price detectors judge:
    against the last MOVE_WINDOW returns (``move``), over the EWMA volatility
    (``vol_move``), and the RUN_BARS-bar return (``run``); with ``volume_level``
    (``volume_level_z``), (4, ...) with it last."""
    rows = [move_z(features, start), ewma_z(features, start), run_z(features, start)]
    return np.stack(rows + ([] if volume_level is None else [volume_level]))


def short_session_shares(session: npt.ArrayLike | None, factor: float) -> FloatArray | None:
    """A short session's share of a full session's *volume*: its share of the hours times
    ``factor`` (``short_session_volume``, learnt by the model: a US half day misses the
    busy close and trades ~0.6 of its hours' share), at most 1. Full sessions stay 1."""
    if session is None:
        return None
    share = np.asarray(session, dtype=np.float64)
    short = (share > 0) & (share < 1)
    return np.asarray(np.where(short, np.minimum(share * factor, 1.0), share))


def volume_level_z(
    volume: FloatArray,
    start: int,
    session: npt.ArrayLike | None = None,
    unreported: npt.ArrayLike | None = None,
) -> FloatArray:
    """(..., T - start) the robust z of each bar's log volume, as a full session's
    (``features.ohlcv.full_volume``: a half day's volume over its share of a session),
    against the ticker's previous ``RELATIVE_WINDOW`` bars; 0 where that window reported
    no volume (``volume_known``) or the bar reported none (``unreported`` (..., T):
    ``features.ohlcv.reported``). A level, not a change: the session after a spike or
    after a half day, back to the usual volume, is usual."""
    level = np.log1p(full_volume(volume, session)[0])[..., None]
    z = relative(level, start, RELATIVE_WINDOW, floors=[SCALE_FLOOR["log_volume_change"]])[0]
    known = volume_known(volume, start)
    if unreported is not None:
        known &= ~np.asarray(unreported, dtype=bool)[..., start:]
    return np.asarray(np.where(known, z[..., 0], 0.0))


def budget_threshold(
    train_p: npt.ArrayLike, budget: float = ALERT_BUDGET, bars_per_year: int = 252
) -> float:
    """The alert threshold (``p <= threshold``) under which the training rows' combined p
    ``train_p`` would have raised ``budget`` alerts per ticker-year (``bars_per_year`` rows
    a ticker-year): below the ``k``-th smallest, ``k = budget × years``."""
    p = np.sort(np.asarray(train_p, dtype=np.float64))
    if not len(p):
        return ALERT_TAIL_PROB
    k = min(int(budget * len(p) / bars_per_year), len(p) - 1)
    return float(np.nextafter(p[k], 0.0))


def extreme_moves_per_year(
    raw: Mapping[str, npt.ArrayLike],
    weights: Mapping[str, float],
    bars_per_year: int = 252,
    extreme_z: float = EXTREME_Z,
) -> float:
    """Training bars a ticker-year on which some voting detector's raw score (a |z| in
    robust σ) reached ``extreme_z``: how often the market really moved."""
    voting = [
        np.asarray(raw[d], dtype=np.float64) for d, w in weights.items() if w > 0 and d in raw
    ]
    if not voting or not voting[0].size:
        return 0.0
    largest = np.max(voting, axis=0)
    return float((largest >= extreme_z).sum() * bars_per_year / largest.size)


def market_budget(
    raw: Mapping[str, npt.ArrayLike],
    weights: Mapping[str, float],
    budget: float = ALERT_BUDGET,
    bars_per_year: int = 252,
    extreme_z: float | None = EXTREME_Z,
) -> float:
    """The alerts a ticker-year a market's threshold is learnt for: ``budget``, but no more
    than its training's extreme moves (``extreme_moves_per_year``; None: no such cap)."""
    if extreme_z is None:
        return budget
    return min(budget, extreme_moves_per_year(raw, weights, bars_per_year, extreme_z))


def conditional_z(returns: npt.ArrayLike) -> FloatArray:
    """(T - JUMP_WARMUP,) each return from the JUMP_WARMUP-th over its conditional σ: the
    square root of an EWMA (JUMP_DECAY) of the squared returns before it, seeded by the
    mean square of the first JUMP_WARMUP (floored: a flat series makes no jump)."""
    r = np.asarray(returns, dtype=np.float64)
    if len(r) <= JUMP_WARMUP:
        return np.zeros(0)
    variance = float(np.mean(r[:JUMP_WARMUP] ** 2))
    floor = SCALE_FLOOR["log_return"] ** 2
    z = np.empty(len(r) - JUMP_WARMUP)
    for t in range(JUMP_WARMUP, len(r)):  # a recursion over a few thousand bars
        z[t - JUMP_WARMUP] = r[t] / math.sqrt(max(variance, floor))
        variance = JUMP_DECAY * variance + (1 - JUMP_DECAY) * r[t] ** 2
    return z


def training_jumps(series: Sequence[npt.ArrayLike]) -> tuple[int, int]:
    """(jumps, returns judged) over every ticker's bars ``(T_i, 5)``: close-to-close log
    returns of at least JUMP_Z conditional σ (``conditional_z``)."""
    jumps = judged = 0
    for bars in series:
        close = np.asarray(bars, dtype=np.float64)[:, RAW.index("close")]
        close = close[np.isfinite(close) & (close > 0)]
        z = conditional_z(np.diff(np.log(close)))
        jumps += int((np.abs(z) >= JUMP_Z).sum())
        judged += len(z)
    return jumps, judged


def quiet_market(jumps: int, judged: int, level: float = QUIET_LEVEL) -> bool:
    """Whether ``jumps`` in ``judged`` returns are no more than a conditionally normal market
    makes: P(Poisson(judged × P(|N(0,1)| ≥ JUMP_Z)) ≥ jumps) > ``level``."""
    expected = judged * math.erfc(JUMP_Z / math.sqrt(2))
    if jumps <= 0:
        return True
    if expected <= 0:
        return False
    below = math.fsum(
        math.exp(i * math.log(expected) - expected - math.lgamma(i + 1)) for i in range(jumps)
    )
    return 1.0 - below > level


def volume_score(z: FloatArray) -> FloatArray:
    """(...,) the largest |z| of the bar's volume change and OBV step: the volume score of
    models trained before ``VOLUME_SCORE``. The OBV step's z is mostly its sign: in a
    rally every down day on usual volume is ~-6.5σ (bench/RESULTS.md, Markets)."""
    return np.asarray(np.abs(z[..., _VOLUME_COLUMNS]).max(axis=-1))


def burst_energy(z: FloatArray) -> FloatArray:
    """(...,) a bar's squared return and gap z-scores, summed."""
    return np.asarray((z[..., _BURST_COLUMNS] ** 2).sum(axis=-1))


def previous_energy(z: FloatArray) -> FloatArray:
    """(..., n - BURST_BARS + 1, BURST_BARS - 1) the burst energy of each of the
    BURST_BARS - 1 bars before each of the bars ``BURST_BARS - 1 ..`` of ``z`` (..., n, F),
    oldest first — what ``burst_score`` judges a bar with."""
    energy = burst_energy(z)
    n = energy.shape[-1] - BURST_BARS + 1
    return np.stack([energy[..., i : i + n] for i in range(BURST_BARS - 1)], axis=-1)


def burst_score(z: FloatArray, previous: FloatArray) -> FloatArray:
    """(...,) RMS of the return and gap z-scores over the bar and the bars before it,
    leaving out the largest bar: several large moves in a row, not one shock and its echo
    (a lone shock is ``shock``'s; counted here it would alert again on the next two bars)."""
    energy = np.concatenate([previous, burst_energy(z)[..., None]], axis=-1)
    rest = energy.sum(axis=-1) - energy.max(axis=-1)
    return np.asarray(np.sqrt(rest / ((BURST_BARS - 1) * len(BURST_FEATURES))))


def detector_name(interval: Interval, market: str) -> str:
    """The registry name of a market model: one per interval and market (``market_if_1d_US``)."""
    return f"{DETECTOR_PREFIX}_{interval.value}_{market}"


DETECTORS = ("isolation_forest", "shock", "move", "vol_move", "run", "volume", "burst")
# The isolation forest's score is bounded (a path is at least one split long): empirical
# ranks and a generalised Pareto beyond the maximum. |z| moves are heavy-tailed: a Pareto
# tail (exponential in log(1 + x)) fitted to the top TAIL_FRACTION, so a few thousand
# training rows still rank a move beyond their largest without flooring it at 1 / n.
TAIL_MODELS: dict[str, TailModel] = {
    "isolation_forest": "gpd",
    "shock": "log-exponential",
    "move": "log-exponential",
    "vol_move": "log-exponential",
    "run": "log-exponential",
    "volume": "log-exponential",
    "burst": "log-exponential",
}
TAIL_FRACTION = 0.05
# "Already volatile": the ticker's volatility over the bars before the alert is at least this
# many times the market's usual (the training rows' median 20-bar volatility).
VOLATILE_RATIO = 1.5
REGIME_FEATURE = "prior_volatility"  # the explanation entry on the market's state
VOLATILE_FEATURE = "already_volatile"  # its name when the market was already volatile
_VOLATILITY = INDEX["volatility"]


def fit_tail(
    detector: str, raw: npt.ArrayLike, tail_fraction: float = TAIL_FRACTION
) -> CompactTail:
    """The calibration of one detector's training scores (``vote.CompactTail``)."""
    return CompactTail(tail_fraction=tail_fraction, tail=TAIL_MODELS[detector]).fit(raw)


def tails_from(metadata: dict[str, Any]) -> dict[str, CompactTail]:
    """Each detector's calibration. Models trained before ``tails`` kept score quantiles and
    had no volume detector (their shock included volume: a heavier tail, so conservative)."""
    if "tails" in metadata:
        return {d: CompactTail.from_dict(state) for d, state in metadata["tails"].items()}
    keys = {"isolation_forest": "calibration", "shock": "shock_calibration"}
    keys["burst"] = "burst_calibration"
    return {d: fit_tail(d, metadata[key]) for d, key in keys.items()}


@dataclass(frozen=True)
class BarScores:
    """Scores of the bars ``start .. T-1`` of tickers ``(k, n)``, features ``(k, n, F)``."""

    start: int
    raw: dict[str, FloatArray]  # each detector's raw score
    detector_probs: dict[str, FloatArray]  # each detector's calibrated tail probability
    tail_prob: FloatArray  # combined
    z: FloatArray
    previous: FloatArray  # burst energy of the bars before each bar (for explanations)
    move: FloatArray  # (3, ...) the return z's (``moves``): MOVE_WINDOW; EWMA σ; run
    features: FloatArray  # the indicators' own values (what an alert stores)
    expected: FloatArray  # each indicator's median over the ticker's previous bars
    prior_volatility: FloatArray  # the 20-bar volatility of the bars before each bar
    usual_volatility: FloatArray  # what the market's model counts as usual volatility

    @property
    def volatile(self) -> npt.NDArray[np.bool_]:
        """Bars the market was already volatile before (``VOLATILE_RATIO``)."""
        return np.asarray(self.prior_volatility >= VOLATILE_RATIO * self.usual_volatility)


def regime_entry(scores: BarScores, row: int, offset: int) -> Attribution:
    """The explanation entry on the market's state before the bar: actual = the ticker's
    20-bar volatility before it, expected = the market's usual (the training rows' median).
    Named ``VOLATILE_FEATURE`` ("already_volatile") once actual is ``VOLATILE_RATIO`` times
    the usual, else ``REGIME_FEATURE`` ("prior_volatility"). It carries no share of the
    score (contribution 0): it is context, e.g. a crash inside a crisis."""
    actual = float(scores.prior_volatility[row, offset])
    usual = float(scores.usual_volatility[row, offset])
    volatile = bool(scores.volatile[row, offset])
    return Attribution(
        feature=VOLATILE_FEATURE if volatile else REGIME_FEATURE,
        contribution=0.0,
        direction=Direction.ABOVE if actual >= usual else Direction.BELOW,
        expected=usual,
        actual=actual,
    )


def raw_scores(
    forest: IsolationForestDetector, rows: FloatArray, previous: FloatArray, move: FloatArray
) -> dict[str, FloatArray]:
    """Each detector's raw score of relative rows ``(n, F)``, given their previous burst
    energy ``(n,)`` and their z's ``(4, n)`` (``moves``: without the volume level ``(3, n)``,
    volume is then the older score of the volume change and OBV step, ``volume_score``)."""
    return {
        "isolation_forest": forest.score(rows) if len(rows) else np.zeros(0),
        "shock": shock_score(rows),
        "move": np.abs(move[0]),
        "vol_move": np.abs(move[1]),
        **({"run": np.abs(move[2])} if len(move) > 2 else {}),
        "volume": np.abs(move[3]) if len(move) > 3 else volume_score(rows),
        "burst": burst_score(rows, previous),
    }


class MarketDetector:
    """The loaded model of one market and interval: score bars, explain anomalies."""

    def __init__(self, onnx_bytes: bytes, metadata: dict[str, Any]) -> None:
        self.metadata = dict(metadata)
        if list(self.metadata.get("features", FEATURES)) != list(FEATURES):
            raise ValueError("the model was trained on other features than this code computes")
        self.forest = IsolationForestDetector(onnx_bytes, metadata)
        self.tails = tails_from(self.metadata)
        self.weights = dict(self.metadata.get("weights", WEIGHTS))
        self.usual_volatility = self.metadata.get("usual_volatility")
        self.alert_tail_prob = float(self.metadata.get("alert_tail_prob", ALERT_TAIL_PROB))
        # Models trained before the volume level scored volume by its change and OBV step.
        self.volume_level = self.metadata.get("volume_score") == VOLUME_SCORE
        self.short_session_volume = float(self.metadata.get("short_session_volume", 1.0))

    def score_bars(
        self, bars: npt.ArrayLike, start: int = FIRST_SCORED, session: npt.ArrayLike | None = None
    ) -> BarScores:
        """Score bars ``start..`` of ``(k, T, 5)`` OHLCV (tickers sharing one bar count);
        ``session`` ``(k, T)``: each bar's share of a regular session (``features.ohlcv``)."""
        start = max(start, FIRST_SCORED)
        x, unreported = reported(bars)  # an index's volume of 0 is no collapse
        session = short_session_shares(session, self.short_session_volume)
        raw_features = indicators(x, session)
        volume = x[..., RAW.index("volume")]
        z_all, expected = relative(raw_features, start - BURST_BARS + 1, volume=volume)
        previous = previous_energy(z_all)
        z, expected = z_all[..., BURST_BARS - 1 :, :], expected[..., BURST_BARS - 1 :, :]
        level = volume_level_z(volume, start, session, unreported) if self.volume_level else None
        move = moves(raw_features, start, level)
        raw, probs, combined = self.score_z(z, previous, move)
        features = raw_features[..., start:, :]
        prior = raw_features[..., start - 1 : -1, _VOLATILITY]
        usual = (
            np.full(prior.shape, float(self.usual_volatility))
            if self.usual_volatility is not None
            else expected[..., _VOLATILITY]  # older models: the ticker's last 60 bars
        )
        return BarScores(
            start, raw, probs, combined, z, previous, move, features, expected, prior, usual
        )

    def score_z(
        self, z: FloatArray, previous: FloatArray, move: FloatArray
    ) -> tuple[dict[str, FloatArray], dict[str, FloatArray], FloatArray]:
        """Relative rows ``(..., F)``, their previous burst energy and long-window return z
        ``(...)`` → (raw score per detector, tail probability per detector, combined)."""
        shape, F = z.shape[:-1], z.shape[-1]
        flat = np.asarray(move).reshape(len(move), -1)
        prior = np.asarray(previous).reshape(-1, BURST_BARS - 1)
        every = raw_scores(self.forest, z.reshape(-1, F), prior, flat)
        raw = {d: r for d, r in every.items() if d in self.tails}
        probs = {d: self.tails[d].tail_prob(r).reshape(shape) for d, r in raw.items()}
        combined = combine(probs, self.weights, "bonferroni")
        return {d: r.reshape(shape) for d, r in raw.items()}, probs, combined

    def is_anomaly(self, tail_prob: FloatArray) -> npt.NDArray[np.bool_]:
        return np.asarray(tail_prob <= self.alert_tail_prob)

    def severity(self, tail_prob: float) -> Severity:
        return severity_of(1.0 - tail_prob) or Severity.LOW

    def contributions(
        self, z_row: FloatArray, previous: npt.ArrayLike, move: npt.ArrayLike
    ) -> FloatArray:
        """(F,) leave-one-out contributions of one row's features, in decades of p: how
        many times rarer the bar is with the feature than with it at its usual value (a
        usual return is usual against the long window too)."""
        F = z_row.shape[-1]
        rows = np.vstack([z_row[None, :], np.where(np.eye(F, dtype=bool), 0.0, z_row)])
        repeated = np.repeat(np.asarray(move, dtype=np.float64).reshape(-1, 1), F + 1, axis=1)
        repeated[:3, 1 + _RETURN] = 0.0
        repeated[3:, 1 + _VOLUME_LEVEL] = 0.0  # the volume level: usual with usual volume
        prior = np.broadcast_to(np.asarray(previous, dtype=np.float64), (F + 1, BURST_BARS - 1))
        p = self.score_z(rows, prior, repeated)[2]
        return np.asarray(np.log10(p[1:]) - np.log10(p[0]))
