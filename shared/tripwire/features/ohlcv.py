"""The ticker feature set, declared once: five raw OHLCV measures and fourteen indicators.

``indicators(bars)`` turns bars ``(n_tickers, T, 5)`` (or ``(T, 5)``; last axis in ``RAW``
order: open, high, low, close, volume) into ``(..., T, 14)`` features in ``FEATURES`` order.
Every value at bar ``t`` uses bars ``<= t`` only (causal), and all tickers are computed at
once (numpy along the ticker axis; only the EMA / Wilder recursions loop over time).

Notation: ``o, h, l, c, v`` are the bar's open, high, low, close, volume; ``c[-1]`` is the
previous close; ``SMA_n`` / ``std_n`` are the mean / population standard deviation
(``ddof=0``) of the last ``n`` values including the current one;
``EMA_n`` is the recursion ``e[0] = x[0]``, ``e[t] = e[t-1] + a·(x[t] - e[t-1])`` with
``a = 2 / (n + 1)``; ``Wilder_n`` starts at ``t = n`` with the plain mean of ``x[1..n]`` and
continues ``w[t] = (w[t-1]·(n - 1) + x[t]) / n``.

=====================  ========================================================  ====  =======
feature                definition                                                first neutral
=====================  ========================================================  ====  =======
``log_return``         ``ln(c / c[-1])``                                         1     0
``log_volume_change``  ``ln(1 + v) - ln(1 + v[-1])`` (zero-volume safe)          1     0
``rsi``                ``100·G / (G + L)``, ``G, L`` = Wilder_14 of the close's  14    50
                       gains / losses (= ``100 - 100 / (1 + G/L)``); 50 if flat
``macd``               ``(EMA_12(c) - EMA_26(c)) / c`` (scale-free)              25    0
``macd_signal``        ``EMA_9(macd)`` of the (unmasked) macd line               33    0
``bb_pct_b``           ``(c - (SMA_20 - 2·std_20)) / (4·std_20)``; 0.5 if flat   19    0.5
``bb_bandwidth``       ``4·std_20 / SMA_20`` (upper minus lower band over mid)   19    0
``atr``                ``Wilder_14(TR) / c``, ``TR = max(h - l, |h - c[-1]|,     14    0
                       |l - c[-1]|)``
``stoch_k``            ``100·(c - LL_14) / (HH_14 - LL_14)`` over the last 14    13    50
                       highs / lows, clipped to [0, 100]; 50 if the range is 0
``obv_change``         ``sign(c - c[-1])·v / SMA_20(v)`` (the OBV step in units  19    0
                       of the typical volume); 0 when there is no volume
``volatility``         ``std_20`` of ``log_return`` (returns ``t-19..t``)        20    0
``gap``                ``ln(o / c[-1])`` (overnight jump)                        1     0
``dist_sma20``         ``ln(c / SMA_20(c))``                                     19    0
``dist_sma50``         ``ln(c / SMA_50(c))``                                     49    0
=====================  ========================================================  ====  =======

"first" (``FIRST_VALID``) is the first bar index at which the indicator is defined; before
it the indicator holds its neutral value (``NEUTRAL``). ``warmed_up(T)`` marks the bars
from which *every* indicator is defined (index ``>= 49``). The EMAs are seeded with the
first close, so MACD still remembers that seed for a while; ``MIN_HISTORY`` (64 bars) is the
history after which the seed's weight in EMA_26 is below 1 % and detection should trust the
features.

Short sessions (a US half day before a holiday): with the bars' session shares, volume is
taken as a full session's (``v / share``) and a bar's previous volume is the last full
session's (``full_volume``), so a half day's thin trading and the normal session after it
are no volume anomalies.

Zero-safety: prices are cleaned to ``[PRICE_FLOOR, 1e15]`` (NaN → floor) and volumes to
``[0, 1e15]``; a standard deviation or range smaller than ``1e-9`` of its level counts as
zero (so a flat series gives the neutral %B / %K, not rounding noise). No NaN or inf leaves
this module. Relative z-scores (``relative``) floor every feature's scale (``SCALE_FLOOR``):
an index that opens at the previous close has a gap of 0 every day, a robust scale of 0,
and without the floor its tiniest gap would be a 50-sigma shock. Prices should be
adjusted (``adjusted``) so that a split is no move. Apart from ``PRICE_FLOOR``, every
indicator is unchanged when all prices are multiplied by the same factor, and
``obv_change`` is unchanged when volume is.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from tripwire.domain.metrics import OHLCV_MEASURES

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

RAW: tuple[str, ...] = OHLCV_MEASURES  # open, high, low, close, volume
FEATURES: tuple[str, ...] = (
    "log_return",
    "log_volume_change",
    "rsi",
    "macd",
    "macd_signal",
    "bb_pct_b",
    "bb_bandwidth",
    "atr",
    "stoch_k",
    "obv_change",
    "volatility",
    "gap",
    "dist_sma20",
    "dist_sma50",
)
INDEX: dict[str, int] = {name: i for i, name in enumerate(FEATURES)}

RSI_PERIOD = 14
MACD_FAST, MACD_SLOW, MACD_SIGNAL = 12, 26, 9
BB_PERIOD, BB_WIDTH = 20, 2.0
ATR_PERIOD = 14
STOCH_PERIOD = 14
OBV_VOLUME_PERIOD = 20
VOLATILITY_PERIOD = 20
SMA_SHORT, SMA_LONG = 20, 50

FIRST_VALID: dict[str, int] = {
    "log_return": 1,
    "log_volume_change": 1,
    "rsi": RSI_PERIOD,
    "macd": MACD_SLOW - 1,
    "macd_signal": MACD_SLOW - 1 + MACD_SIGNAL - 1,
    "bb_pct_b": BB_PERIOD - 1,
    "bb_bandwidth": BB_PERIOD - 1,
    "atr": ATR_PERIOD,
    "stoch_k": STOCH_PERIOD - 1,
    "obv_change": OBV_VOLUME_PERIOD - 1,
    "volatility": VOLATILITY_PERIOD,
    "gap": 1,
    "dist_sma20": SMA_SHORT - 1,
    "dist_sma50": SMA_LONG - 1,
}
NEUTRAL: dict[str, float] = {name: 0.0 for name in FEATURES} | {
    "rsi": 50.0,
    "bb_pct_b": 0.5,
    "stoch_k": 50.0,
}
WARMUP = max(FIRST_VALID.values())  # first index at which every indicator is defined
MIN_HISTORY = 64  # (25/27)**63 < 1 %: the EMA_26 seed has been forgotten

PRICE_FLOOR = 1e-12
_FINITE_MAX = 1e15
_FLAT = 1e-9  # a spread below this fraction of its level is "no spread"


def warmed_up(T: int) -> BoolArray:
    """(T,) True from the first bar at which every indicator is fully defined."""
    return np.arange(T) >= WARMUP


def clean(bars: npt.ArrayLike) -> FloatArray:
    """Bars as finite float64: prices in [PRICE_FLOOR, 1e15], volumes in [0, 1e15]."""
    x = np.asarray(bars, dtype=np.float64)
    if x.ndim < 2 or x.shape[-1] != len(RAW):
        raise ValueError(f"expected bars (..., T, {len(RAW)}) in {RAW} order, got {x.shape}")
    x = np.nan_to_num(x, nan=0.0, posinf=_FINITE_MAX, neginf=0.0)
    prices = np.clip(x[..., :4], PRICE_FLOOR, _FINITE_MAX)
    volume = np.clip(x[..., 4:], 0.0, _FINITE_MAX)
    return np.concatenate([prices, volume], axis=-1)


def adjusted(bars: npt.ArrayLike, adj_close: npt.ArrayLike) -> FloatArray:
    """Bars ``(..., T, 5)`` on the provider's adjusted scale: every price times
    ``adj_close / close`` and the volume divided by it, so a split (or a dividend) moves
    nothing — neither the return, the gap, the range nor the traded value. Where the
    provider's close is already split-adjusted the factor is only the dividends' (within a
    few percent of 1). Detection must see one scale throughout: mixing raw and adjusted
    bars makes every split a shock."""
    x = clean(bars)
    factor = np.asarray(adj_close, dtype=np.float64) / x[..., 3]
    if not np.isfinite(factor).all() or (factor <= 0).any():
        raise ValueError("adjusted closes must be positive and finite")
    prices = x[..., :4] * factor[..., None]
    return np.concatenate([prices, x[..., 4:] / factor[..., None]], axis=-1)


def indicators(bars: npt.ArrayLike, session: npt.ArrayLike | None = None) -> FloatArray:
    """(..., T, 5) OHLCV bars → (..., T, 14) indicators in ``FEATURES`` order (causal).

    ``session`` (..., T): the share of a regular session each bar's day traded
    (``domain.calendars.MarketCalendar.session_share``; None: every bar a full session).
    The volume features then judge a short session's volume as a full session's scaled by
    its share, and the session after it against the last full session (``full_volume``)."""
    x = np.moveaxis(clean(bars), -1, 0)  # (5, ..., T): each measure with time last
    o, h, lo, c, raw_v = x[0], x[1], x[2], x[3], x[4]
    v, prev_v = full_volume(raw_v, session)
    prev_c = _lag(c)
    macd_line = (ema(c, MACD_FAST) - ema(c, MACD_SLOW)) / c
    bb_mean, bb_std = _rolling(c, BB_PERIOD, np.mean), _rolling(c, BB_PERIOD, np.std)
    columns = {
        "log_return": np.log(c / prev_c),
        "log_volume_change": np.log1p(v) - np.log1p(prev_v),
        "rsi": _rsi(c, prev_c),
        "macd": macd_line,
        "macd_signal": ema(macd_line, MACD_SIGNAL),
        "bb_pct_b": _pct_b(c, bb_mean, bb_std),
        "bb_bandwidth": _ratio(2 * BB_WIDTH * bb_std, bb_mean),
        "atr": wilder(_true_range(h, lo, prev_c), ATR_PERIOD) / c,
        "stoch_k": _stoch_k(c, h, lo),
        "obv_change": _ratio(np.sign(c - prev_c) * v, _rolling(v, OBV_VOLUME_PERIOD, np.mean)),
        "volatility": _rolling(np.log(c / prev_c), VOLATILITY_PERIOD, np.std),
        "gap": np.log(o / prev_c),
        "dist_sma20": _log_ratio(c, _rolling(c, SMA_SHORT, np.mean)),
        "dist_sma50": _log_ratio(c, _rolling(c, SMA_LONG, np.mean)),
    }
    out = np.stack([_warm(columns[name], name) for name in FEATURES], axis=-1)
    return np.asarray(np.clip(np.nan_to_num(out), -_FINITE_MAX, _FINITE_MAX))


def full_volume(volume: FloatArray, session: npt.ArrayLike | None) -> tuple[FloatArray, FloatArray]:
    """(each bar's volume as a full session's: ``v / share``; the last full session's volume
    before each bar). A half day's volume is no collapse, and the session after it is
    judged against the session before the half day, not against the half day. A share
    outside (0, 1] (unknown, or a bar on a day the calendar calls closed) counts as full."""
    if session is None:
        return volume, _lag(volume)
    share = np.broadcast_to(np.asarray(session, dtype=np.float64), volume.shape)
    share = np.where((share > 0) & (share < 1), share, 1.0)
    v = volume / share
    T = volume.shape[-1]
    at = np.broadcast_to(np.arange(T), volume.shape)
    last_full = np.maximum.accumulate(np.where(share >= 1, at, -1), axis=-1)
    before = np.concatenate([np.full((*volume.shape[:-1], 1), -1), last_full[..., :-1]], axis=-1)
    before = np.where(before >= 0, before, np.maximum(at - 1, 0))  # no full session yet
    return v, np.take_along_axis(v, before, axis=-1)


def ema(x: FloatArray, span: int) -> FloatArray:
    """EMA along the last axis, seeded with the first value (``a = 2 / (span + 1)``)."""
    alpha = 2.0 / (span + 1)
    out = np.empty_like(x)
    if x.shape[-1] == 0:
        return out
    out[..., 0] = x[..., 0]
    for t in range(1, x.shape[-1]):
        out[..., t] = out[..., t - 1] + alpha * (x[..., t] - out[..., t - 1])
    return out


def wilder(x: FloatArray, n: int) -> FloatArray:
    """Wilder's smoothing along the last axis: mean of ``x[1..n]`` at ``n``, then
    ``(prev·(n-1) + x) / n``; 0 before ``n`` (``x[0]`` is never used: it has no previous bar).
    """
    out = np.zeros_like(x)
    T = x.shape[-1]
    if n >= T:
        return out
    out[..., n] = x[..., 1 : n + 1].mean(axis=-1)
    for t in range(n + 1, T):
        out[..., t] = (out[..., t - 1] * (n - 1) + x[..., t]) / n
    return out


def _lag(x: FloatArray) -> FloatArray:
    """x shifted one bar later; the first bar is its own predecessor (so its change is 0)."""
    return np.concatenate([x[..., :1], x[..., :-1]], axis=-1)


def _rolling(
    x: FloatArray, window: int, reduce: Callable[..., npt.NDArray[np.float64]]
) -> FloatArray:
    """``reduce`` over the last ``window`` values (incl. the current one); 0 before that."""
    out = np.zeros_like(x)
    if x.shape[-1] >= window:
        out[..., window - 1 :] = reduce(sliding_window_view(x, window, axis=-1), axis=-1)
    return out


def _ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    """num / den where den > 0, else 0."""
    out = np.zeros(np.broadcast(num, den).shape)
    with np.errstate(over="ignore"):
        np.divide(num, den, out=out, where=den > 0)
    return out


def _log_ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    """ln(num / den) where den > 0, else 0 (num is a cleaned, positive price)."""
    return np.log(num / np.where(den > 0, den, num))


def _rsi(c: FloatArray, prev_c: FloatArray) -> FloatArray:
    change = c - prev_c
    gains = wilder(np.maximum(change, 0.0), RSI_PERIOD)
    losses = wilder(np.maximum(-change, 0.0), RSI_PERIOD)
    total = gains + losses
    return np.where(total > 0, 100.0 * _ratio(gains, total), 50.0)


def _pct_b(c: FloatArray, mean: FloatArray, std: FloatArray) -> FloatArray:
    flat = std <= _FLAT * mean
    lower = mean - BB_WIDTH * std
    return np.where(flat, 0.5, _ratio(c - lower, np.where(flat, 0.0, 2 * BB_WIDTH * std)))


def _true_range(h: FloatArray, lo: FloatArray, prev_c: FloatArray) -> FloatArray:
    return np.maximum.reduce([h - lo, np.abs(h - prev_c), np.abs(lo - prev_c)])


def _stoch_k(c: FloatArray, h: FloatArray, lo: FloatArray) -> FloatArray:
    highest = _rolling(h, STOCH_PERIOD, np.max)
    lowest = _rolling(lo, STOCH_PERIOD, np.min)
    span = highest - lowest
    flat = span <= _FLAT * highest
    k = 100.0 * _ratio(c - lowest, np.where(flat, 0.0, span))
    return np.where(flat, 50.0, np.clip(k, 0.0, 100.0))


def _warm(column: FloatArray, name: str) -> FloatArray:
    """The neutral value before the indicator's first defined bar."""
    defined = np.arange(column.shape[-1]) >= FIRST_VALID[name]
    return np.where(defined, column, NEUTRAL[name])


# --- relative features: each ticker against its own recent past -------------------------------

RELATIVE_WINDOW = 60  # bars of a ticker's own past its indicators are judged against
RELATIVE_START = WARMUP + RELATIVE_WINDOW  # first bar with a fully defined relative row
Z_LIMIT = 50.0
_MAD_TO_SIGMA = 1.4826
# The least scale each indicator is judged by, in its own units. A feature that sits at one
# value for most of a window (an index opens at the previous close, so its gap is 0 every
# day; a halted ticker trades no volume) has a robust scale of ~0, and rounding noise would
# become a 50-sigma shock that dominates the model and its calibration.
SCALE_FLOOR: dict[str, float] = {
    "log_return": 1e-3,  # a tenth of a calm index's daily move
    "log_volume_change": 0.05,
    "rsi": 1.0,
    "macd": 1e-4,
    "macd_signal": 1e-4,
    "bb_pct_b": 0.02,
    "bb_bandwidth": 1e-3,
    "atr": 1e-4,
    "stoch_k": 1.0,
    "obv_change": 0.05,
    "volatility": 1e-4,
    "gap": 1e-3,
    "dist_sma20": 1e-3,
    "dist_sma50": 1e-3,
}
# A gap is a price move: its scale is at least the daily return's. An index that opens at
# the previous close would otherwise make a 1 % gap a 20-sigma event, and the first bar
# after a holiday, whose gap holds the closed days' news, an anomaly.
SCALE_LIKE: dict[str, tuple[str, float]] = {"gap": ("log_return", 1.0)}
VOLUME_FEATURES = ("log_volume_change", "obv_change")
_FLOORS = np.array([SCALE_FLOOR[name] for name in FEATURES])


def relative(
    features: npt.ArrayLike,
    start: int = RELATIVE_START,
    window: int = RELATIVE_WINDOW,
    *,
    volume: npt.ArrayLike | None = None,
    floors: npt.ArrayLike | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Robust z-scores of (..., T, F) indicators against each series' previous ``window`` bars.

    For bar ``t >= start`` (``start >= WARMUP + window``): ``z = (x[t] - median) / scale``
    over bars ``t-window .. t-1`` (not ``t`` itself, so an anomaly cannot hide itself), with
    ``scale = max(1.4826·MAD, std / 3, floor)``: the std term keeps a feature that is usually
    constant from dividing by its MAD of 0, the floor (``SCALE_FLOOR`` for the ``FEATURES``;
    ``floors`` (F,) for other columns) from dividing by nothing at all, and a gap's scale is
    at least the return's (``SCALE_LIKE``). z is clipped to ±``Z_LIMIT``. With the tickers'
    ``volume`` (..., T), a bar whose window reported volume on fewer than half its bars (an
    index without volume, a ticker halted, a feed that starts reporting volume) gets z = 0
    on the volume features: its volume is judged against nothing. A volatile ticker and a
    calm one then share one model: a market's model learns what *unusual for that ticker*
    looks like. Returns ``(z, median)`` for bars ``start .. T-1`` (shape
    ``(..., T - start, F)``); the median is the "expected" value.
    """
    x = np.asarray(features, dtype=np.float64)
    T, F = x.shape[-2], x.shape[-1]
    if start < window:
        raise ValueError(f"start ({start}) must leave {window} bars of history")
    if floors is None and len(FEATURES) != F:
        raise ValueError(f"{F} columns are not the {len(FEATURES)} FEATURES: give their floors")
    floor = _FLOORS if floors is None else np.broadcast_to(np.asarray(floors, float), (F,))
    if start >= T:
        empty = np.zeros((*x.shape[:-2], 0, F))
        return empty, empty.copy()
    # (..., T - start, F, window): the window before each scored bar
    past = sliding_window_view(x[..., start - window : T - 1, :], window, axis=-2)
    median = np.median(past, axis=-1)
    mad = np.median(np.abs(past - median[..., None]), axis=-1)
    scale = np.maximum(np.maximum(_MAD_TO_SIGMA * mad, past.std(axis=-1) / 3.0), floor)
    if floors is None:
        for name, (like, share) in SCALE_LIKE.items():
            floor_like = share * scale[..., INDEX[like]]
            scale[..., INDEX[name]] = np.maximum(scale[..., INDEX[name]], floor_like)
    z = np.clip((x[..., start:, :] - median) / scale, -Z_LIMIT, Z_LIMIT)
    if volume is not None:
        if floors is not None:
            raise ValueError("volume masking needs the FEATURES columns")
        z[~volume_known(volume, start, window)[..., None] & _VOLUME_COLUMNS] = 0.0
    return z, median


_VOLUME_COLUMNS = np.isin(np.arange(len(FEATURES)), [INDEX[n] for n in VOLUME_FEATURES])


def volume_known(volume: npt.ArrayLike, start: int, window: int = RELATIVE_WINDOW) -> BoolArray:
    """(..., T - start) whether the ``window`` bars before each bar ``start ..`` reported
    volume (> 0) on at least half of them."""
    v = np.asarray(volume, dtype=np.float64)
    T = v.shape[-1]
    if start >= T:
        return np.zeros((*v.shape[:-1], 0), dtype=bool)
    past = sliding_window_view(v[..., start - window : T - 1] > 0, window, axis=-1)
    return np.asarray(past.mean(axis=-1) >= 0.5)


# A ticker whose usual session trades at least this much (the median volume of its previous
# RELATIVE_WINDOW bars) does not trade nothing: a volume of exactly 0 there is a bar its feed
# did not report, not a collapse (an index's volume is in the billions; arch's ^IXIC reports
# 0 on two days). A thin ticker's 0 stays a 0.
UNREPORTED_ZERO_MEDIAN = 1e6


def unreported_volume(volume: npt.ArrayLike) -> BoolArray:
    """(..., T) bars whose volume is exactly 0 on a ticker whose previous ``RELATIVE_WINDOW``
    bars' median volume (bars before the first counting as 0) is ``UNREPORTED_ZERO_MEDIAN``
    or more."""
    v = np.asarray(volume, dtype=np.float64)
    T = v.shape[-1]
    padded = np.concatenate([np.zeros((*v.shape[:-1], RELATIVE_WINDOW)), v], axis=-1)
    past = sliding_window_view(padded[..., : T + RELATIVE_WINDOW - 1], RELATIVE_WINDOW, axis=-1)
    return np.asarray((v == 0) & (np.median(past, axis=-1) >= UNREPORTED_ZERO_MEDIAN))


def reported(bars: npt.ArrayLike) -> tuple[FloatArray, BoolArray]:
    """(``clean`` bars with each unreported volume (``unreported_volume``) carried over from
    the ticker's last reported bar, the unreported bars): the volume features then see no
    collapse and no recovery the day after."""
    x = clean(bars)
    volume = x[..., RAW.index("volume")]
    missing = unreported_volume(volume)
    at = np.broadcast_to(np.arange(volume.shape[-1]), volume.shape)
    last = np.maximum.accumulate(np.where(missing, 0, at), axis=-1)  # bar 0 is never missing
    filled = x.copy()
    filled[..., RAW.index("volume")] = np.take_along_axis(volume, last, axis=-1)
    return filled, missing
