"""A market's model: relative indicators, training, calibrated scores and explanations."""

from __future__ import annotations

import numpy as np
import pytest

from tripwire.demo.market import generate_market
from tripwire.detection.market import (
    FIRST_SCORED,
    SHOCK_FEATURES,
    MarketDetector,
    burst_score,
    previous_energy,
    shock_score,
)
from tripwire.features.ohlcv import FEATURES, indicators, relative
from tripwire.training.market import NotEnoughBars, train_market_model


def dense(seed: int, tickers: int, days: int, plant: bool = True) -> tuple[np.ndarray, object]:
    market = generate_market(seed=seed, tickers=tickers, days=days, plant=plant)
    table = market.bars.reshape(days, tickers)
    fields = ("open", "high", "low", "close", "volume")
    return np.stack([table[f].astype(float).T for f in fields], axis=-1), market


@pytest.fixture(scope="module")
def model() -> MarketDetector:
    bars, _ = dense(seed=4, tickers=6, days=400, plant=False)
    return MarketDetector(*train_market_model(list(bars)))


def test_relative_is_a_robust_z_against_the_previous_window_only() -> None:
    x = np.zeros((8, 1))
    x[:, 0] = [1.0, 2.0, 3.0, 4.0, 10.0, 5.0, 6.0, 7.0]
    z, median = relative(x, start=4, window=4)
    # bar 4 (10) against bars 0..3: median 2.5, MAD 1.0 → scale max(1.4826, std/3, ·)
    assert median[0, 0] == 2.5
    assert z[0, 0] == pytest.approx((10 - 2.5) / 1.4826)
    # bar 5 sees the 10 in its window but not itself: median of 2, 3, 4, 10 = 3.5
    assert median[1, 0] == 3.5
    assert z.shape == (4, 1)


def test_relative_clips_and_survives_flat_history() -> None:
    x = np.ones((10, 2))
    x[-1] = [2.0, 1.0]
    z, _ = relative(x, start=5, window=5)
    assert z[-1].tolist() == [50.0, 0.0]
    assert np.isfinite(z).all()


def test_training_is_deterministic_and_carries_its_calibration() -> None:
    bars, _ = dense(seed=4, tickers=3, days=200, plant=False)
    one, meta = train_market_model(list(bars), market="US")
    two, _ = train_market_model(list(bars), market="US")
    assert one == two
    assert meta["detector"] == "market_if_1d_US" and meta["features"] == list(FEATURES)
    assert meta["tickers"] == 3 and meta["training_rows"] == 3 * (200 - FIRST_SCORED)
    assert meta["shock_features"] == list(SHOCK_FEATURES)
    assert meta["calibration"] == sorted(meta["calibration"])


def test_too_few_bars_is_a_clear_error() -> None:
    bars, _ = dense(seed=4, tickers=1, days=FIRST_SCORED + 5, plant=False)
    with pytest.raises(NotEnoughBars, match="a market model needs 200"):
        train_market_model(list(bars))


def test_a_price_gap_is_rare_and_explained_by_the_gap(model: MarketDetector) -> None:
    bars, _ = dense(seed=9, tickers=2, days=260, plant=False)
    gapped = bars.copy()
    gapped[0, 250:, :4] *= 1.12  # the open jumps 12 % and the price stays there
    scores = model.score_bars(gapped, start=240)
    p = scores.tail_prob
    assert model.is_anomaly(p[0, 10]) and p[0, 10] < 1e-4
    assert not model.is_anomaly(p[1]).any()  # the untouched ticker stays quiet
    contribution = model.contributions(scores.z[0, 10], float(scores.previous[0, 10]))
    top = FEATURES[int(np.argmax(contribution))]
    assert top in ("gap", "log_return")


def test_features_stored_with_a_score_are_the_indicators_of_the_bar(
    model: MarketDetector,
) -> None:
    bars, _ = dense(seed=9, tickers=1, days=200, plant=False)
    scores = model.score_bars(bars, start=150)
    assert scores.features[0, 0].tolist() == pytest.approx(indicators(bars[0, :151])[-1].tolist())
    assert scores.tail_prob.shape == (1, 50)
    for name, weight in (("isolation_forest", 0.1), ("shock", 0.45), ("burst", 0.45)):
        assert (scores.tail_prob <= scores.detector_probs[name] / weight + 1e-15).all()


def test_a_quiet_market_raises_few_alerts(model: MarketDetector) -> None:
    bars, _ = dense(seed=12, tickers=6, days=400, plant=False)
    scores = model.score_bars(bars, start=300)
    assert model.is_anomaly(scores.tail_prob).sum() <= 3  # of 600 ticker-days


def test_shock_is_the_largest_move_in_sigmas() -> None:
    z = np.zeros((2, len(FEATURES)))
    z[0, FEATURES.index("gap")] = -7.0
    z[1, FEATURES.index("rsi")] = 9.0  # not one of the bar's own moves
    assert shock_score(z).tolist() == [7.0, 0.0]


def test_burst_is_the_rms_of_return_and_gap_over_the_last_three_bars() -> None:
    z = np.zeros((4, len(FEATURES)))
    r, g = FEATURES.index("log_return"), FEATURES.index("gap")
    z[:, r] = [1.0, 2.0, 3.0, 4.0]
    z[:, g] = [0.0, 1.0, 0.0, 1.0]
    previous = previous_energy(z)  # bars 2 and 3: energy of the two bars before each
    assert previous.tolist() == [1.0 + 5.0, 5.0 + 9.0]
    burst = burst_score(z[2:], previous)
    assert burst.tolist() == pytest.approx([np.sqrt((6.0 + 9.0) / 6), np.sqrt((14.0 + 17.0) / 6)])
