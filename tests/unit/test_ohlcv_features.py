"""Ticker indicators: each against a value worked out by hand, causal, vectorised, finite."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tripwire.domain.metrics import OHLCV_MEASURES
from tripwire.features.ohlcv import (
    FEATURES,
    FIRST_VALID,
    MIN_HISTORY,
    NEUTRAL,
    RAW,
    WARMUP,
    ema,
    indicators,
    warmed_up,
)


def _bars(
    close: list[float],
    *,
    open_: list[float] | None = None,
    high: list[float] | None = None,
    low: list[float] | None = None,
    volume: list[float] | None = None,
) -> np.ndarray:
    """(T, 5) bars; open/high/low default to the close, volume to 1,000."""
    c = np.asarray(close, dtype=float)
    cols = [
        c if open_ is None else open_,
        c if high is None else high,
        c if low is None else low,
        c,
        np.full(len(c), 1000.0) if volume is None else volume,
    ]
    return np.stack([np.asarray(col, dtype=float) for col in cols], axis=-1)


def _feature(bars: np.ndarray, name: str) -> np.ndarray:
    return indicators(bars)[..., FEATURES.index(name)]


def _random_bars(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, shape), axis=-1))
    open_ = close * np.exp(rng.normal(0, 0.005, shape))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.01, shape)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.01, shape)))
    volume = np.where(rng.random(shape) < 0.05, 0.0, rng.lognormal(10, 0.5, shape))
    return np.stack([open_, high, low, close, volume], axis=-1)


# --- the declaration ---------------------------------------------------------------------


def test_the_feature_set_is_declared_once() -> None:
    assert RAW == OHLCV_MEASURES
    assert len(FEATURES) == 14 and len(set(FEATURES)) == 14
    assert set(FIRST_VALID) == set(NEUTRAL) == set(FEATURES)
    assert WARMUP == 49 and MIN_HISTORY > WARMUP
    assert warmed_up(52).tolist() == [False] * 49 + [True] * 3


def test_warm_up_bars_hold_the_neutral_values() -> None:
    features = indicators(_random_bars(np.random.default_rng(1), (60,)))
    for i, name in enumerate(FEATURES):
        assert (features[: FIRST_VALID[name], i] == NEUTRAL[name]).all(), name
    assert (features[WARMUP:, FEATURES.index("rsi")] != NEUTRAL["rsi"]).all()


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="bars"):
        indicators(np.ones((10, 4)))
    with pytest.raises(ValueError, match="bars"):
        indicators(np.ones(5))


# --- one test per indicator, against hand arithmetic -------------------------------------


def test_log_return() -> None:
    r = _feature(_bars([100, 110, 99]), "log_return")
    assert r[0] == 0.0  # no previous close
    assert r[1] == pytest.approx(math.log(110 / 100))
    assert r[2] == pytest.approx(math.log(99 / 110))


def test_log_volume_change() -> None:
    lv = _feature(_bars([10, 10, 10], volume=[0, 99, 9]), "log_volume_change")
    assert lv[0] == 0.0
    assert lv[1] == pytest.approx(math.log((1 + 99) / (1 + 0)))  # zero volume is safe
    assert lv[2] == pytest.approx(math.log((1 + 9) / (1 + 99)))


def test_rsi_with_wilders_first_average_and_one_smoothing_step() -> None:
    changes = [1, -1, 2, 1, -2, 1, 1, -1, 2, 1, -1, 1, 1, -1, 3]  # d1..d15
    close = np.cumsum([100, *changes]).tolist()  # 16 bars
    rsi = _feature(_bars(close), "rsi")
    # d1..d14: gains 1+2+1+1+1+2+1+1+1 = 11, losses 1+2+1+1+1 = 6.
    g14, l14 = 11 / 14, 6 / 14
    assert rsi[13] == 50.0  # warm-up
    assert rsi[14] == pytest.approx(100 - 100 / (1 + g14 / l14))  # = 100·11/17 = 64.7059
    # d15 = +3: Wilder step avg = (prev·13 + x) / 14.
    g15, l15 = (g14 * 13 + 3) / 14, (l14 * 13 + 0) / 14
    assert rsi[15] == pytest.approx(100 - 100 / (1 + g15 / l15))  # = 100·185/263 = 70.342


def test_ema_recursion() -> None:
    # span 3: a = 2/4 = 0.5; e0 = 1, e1 = 1 + 0.5·(2 - 1) = 1.5, e2 = 1.5 + 0.5·(3 - 1.5) = 2.25
    assert ema(np.array([1.0, 2.0, 3.0]), 3).tolist() == [1.0, 1.5, 2.25]


def _macd_by_hand() -> tuple[list[float], list[float]]:
    """Closes 10 for t = 0..29, then 11 for t = 30..33: both EMAs sit at 10 until t = 29."""
    a12, a26, a9 = 2 / 13, 2 / 27, 2 / 10
    e12, e26, signal = 10.0, 10.0, 0.0
    macd, sig = [], []
    for _ in range(4):  # t = 30..33
        e12 = e12 + a12 * (11 - e12)
        e26 = e26 + a26 * (11 - e26)
        macd.append((e12 - e26) / 11)
        signal = signal + a9 * (macd[-1] - signal)  # EMA_9 of a macd line that was 0 before
        sig.append(signal)
    return macd, sig


def test_macd_is_the_ema_difference_over_the_close() -> None:
    macd = _feature(_bars([10.0] * 30 + [11.0] * 4), "macd")
    hand, _ = _macd_by_hand()
    # t = 30: e12 = 10 + (2/13)·1 = 10.153846, e26 = 10 + (2/27)·1 = 10.074074
    assert hand[0] == pytest.approx((10.153846 - 10.074074) / 11, abs=1e-7)
    assert macd[24] == 0.0 and macd[29] == 0.0
    assert macd[30:].tolist() == pytest.approx(hand)


def test_macd_signal_is_the_ema9_of_macd() -> None:
    signal = _feature(_bars([10.0] * 30 + [11.0] * 4), "macd_signal")
    macd, hand = _macd_by_hand()
    assert hand[0] == pytest.approx(0.2 * macd[0])  # signal_30 = 0 + 0.2·(m30 - 0)
    assert signal[32] == 0.0  # warm-up ends at 26 - 1 + 9 - 1 = 33
    assert signal[33] == pytest.approx(hand[3])


def test_bollinger_pct_b() -> None:
    close = [9.0, 11.0] * 10  # mean 10, population std 1 exactly; last close 11
    pct_b = _feature(_bars(close), "bb_pct_b")
    # lower band = 10 - 2·1 = 8, band width 4·1 = 4: %B = (11 - 8) / 4
    assert pct_b[19] == pytest.approx(0.75)
    assert pct_b[18] == 0.5  # warm-up
    assert _feature(_bars([7.3] * 25), "bb_pct_b")[-1] == 0.5  # flat: no band


def test_bollinger_bandwidth() -> None:
    width = _feature(_bars([9.0, 11.0] * 10), "bb_bandwidth")
    assert width[19] == pytest.approx((12 - 8) / 10)  # (upper - lower) / middle
    assert width[18] == 0.0


def test_atr_as_a_fraction_of_close() -> None:
    high, low, close = [11.0] * 16, [9.0] * 16, [10.0] * 16
    high[7], low[7], close[7] = 13.0, 12.0, 12.5
    high[15], low[15], close[15] = 12.0, 10.0, 11.0
    atr = _feature(_bars(close, open_=close, high=high, low=low), "atr")
    # TR_t = max(h - l, |h - c_prev|, |l - c_prev|):
    #   t = 7:  max(1, |13 - 10|, |12 - 10|) = 3;   t = 8: max(2, |11 - 12.5|, |9 - 12.5|) = 3.5
    #   the other twelve of t = 1..14: 2.   t = 15: max(2, |12 - 10|, |10 - 10|) = 2
    atr14 = (12 * 2 + 3 + 3.5) / 14
    assert atr[13] == 0.0
    assert atr[14] == pytest.approx(atr14 / 10)
    assert atr[15] == pytest.approx((atr14 * 13 + 2) / 14 / 11)


def test_stochastic_k() -> None:
    high, low, close = [15.0] * 15, [5.0] * 15, [10.0] * 15
    low[3], high[10], close[13], close[14] = 4.0, 16.0, 13.0, 7.0
    k = _feature(_bars(close, open_=close, high=high, low=low), "stoch_k")
    assert k[12] == 50.0  # warm-up
    assert k[13] == pytest.approx(100 * (13 - 4) / (16 - 4))  # = 75, window t = 0..13
    assert k[14] == pytest.approx(100 * (7 - 4) / (16 - 4))  # = 25, window t = 1..14
    assert _feature(_bars([5.0] * 20), "stoch_k")[-1] == 50.0  # high == low: no range


def test_obv_change() -> None:
    close = [10.0] * 19 + [11.0, 10.5]  # up at t = 19, down at t = 20
    volume = [100.0] * 19 + [300.0, 100.0]
    obv = _feature(_bars(close, volume=volume), "obv_change")
    assert obv[18] == 0.0  # warm-up
    assert obv[19] == pytest.approx(+300 / ((19 * 100 + 300) / 20))  # = 300 / 110
    assert obv[20] == pytest.approx(-100 / ((18 * 100 + 300 + 100) / 20))  # = -100 / 110
    no_volume = _bars(close, volume=[0.0] * 21)
    assert _feature(no_volume, "obv_change").tolist() == [0.0] * 21


def test_rolling_volatility() -> None:
    close = [100.0, 110.0] * 10 + [100.0]  # 20 returns: ten +ln 1.1, ten -ln 1.1
    vol = _feature(_bars(close), "volatility")
    assert vol[19] == 0.0  # warm-up: needs 20 returns
    assert vol[20] == pytest.approx(math.log(1.1))  # mean 0, every |r| = ln 1.1


def test_gap() -> None:
    gap = _feature(_bars([100.0, 104.0], open_=[100.0, 105.0]), "gap")
    assert gap.tolist() == pytest.approx([0.0, math.log(105 / 100)])


def test_distance_from_sma20() -> None:
    dist = _feature(_bars([10.0] * 19 + [30.0]), "dist_sma20")
    assert dist[19] == pytest.approx(math.log(30 / ((19 * 10 + 30) / 20)))  # ln(30 / 11)
    assert dist[18] == 0.0


def test_distance_from_sma50() -> None:
    dist = _feature(_bars([10.0] * 49 + [60.0]), "dist_sma50")
    assert dist[49] == pytest.approx(math.log(60 / ((49 * 10 + 60) / 50)))  # ln(60 / 11)
    assert dist[48] == 0.0


# --- properties ----------------------------------------------------------------------------


def test_appending_bars_never_changes_earlier_values() -> None:
    bars = _random_bars(np.random.default_rng(2), (3, 130))
    full = indicators(bars)
    for k in (1, 2, 14, 15, 26, 34, 50, 51, 97):
        np.testing.assert_array_equal(indicators(bars[:, :k]), full[:, :k])


def test_many_tickers_at_once_equal_each_ticker_alone() -> None:
    bars = _random_bars(np.random.default_rng(3), (5, 90))
    together = indicators(bars)
    assert together.shape == (5, 90, 14)
    for i in range(5):
        np.testing.assert_array_equal(together[i], indicators(bars[i]))
    nested = indicators(bars.reshape(5, 1, 90, 5))
    np.testing.assert_array_equal(nested.reshape(5, 90, 14), together)


def test_multiplying_every_price_leaves_the_indicators_unchanged() -> None:
    bars = _random_bars(np.random.default_rng(4), (4, 120))
    scaled = bars.copy()
    scaled[..., :4] *= 100
    np.testing.assert_allclose(indicators(scaled), indicators(bars), rtol=1e-9, atol=1e-12)


_price = st.floats(min_value=0.0, max_value=1e300, exclude_min=True)
_volume = st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=1e15))


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 70), st.just(5)), elements=_price), st.data())
def test_no_nan_or_inf_for_any_positive_prices(bars: np.ndarray, data: st.DataObject) -> None:
    vol = data.draw(arrays(np.float64, bars.shape[:1], elements=_volume))
    bars[:, 4] = vol
    features = indicators(bars)
    assert features.shape == (bars.shape[0], 14)
    assert np.isfinite(features).all()


@settings(max_examples=30, deadline=None)
@given(st.floats(min_value=1e-6, max_value=1e9), st.integers(1, 80), st.booleans())
def test_flat_prices_and_no_volume_are_neutral(price: float, T: int, zero_volume: bool) -> None:
    volume = [0.0 if zero_volume else 500.0] * T
    features = indicators(_bars([price] * T, volume=volume))
    assert np.isfinite(features).all()
    expected = [NEUTRAL[name] for name in FEATURES]  # a flat series has nothing to say
    np.testing.assert_allclose(features, np.tile(expected, (T, 1)), atol=1e-12)
