"""A market's model: relative indicators, training, calibrated scores and explanations."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pytest

from tripwire.demo.market import generate_market
from tripwire.detection.market import (
    ALERT_BUDGET,
    DETECTORS,
    EXTREME_Z,
    FIRST_SCORED,
    JUMP_WARMUP,
    JUMP_Z,
    MOVE_WINDOW,
    REGIME_FEATURE,
    RUN_BARS,
    SHOCK_FEATURES,
    VOLATILE_FEATURE,
    WEIGHTS,
    MarketDetector,
    budget_threshold,
    burst_score,
    conditional_z,
    ewma_z,
    extreme_moves_per_year,
    fit_tail,
    market_budget,
    previous_energy,
    quiet_market,
    regime_entry,
    run_z,
    shock_score,
    training_jumps,
)
from tripwire.detection.vote import combine
from tripwire.domain.calendars import CALENDARS
from tripwire.features.ohlcv import (
    FEATURES,
    SCALE_FLOOR,
    adjusted,
    full_volume,
    indicators,
    relative,
    reported,
    unreported_volume,
    volume_known,
)
from tripwire.training.market import (
    NotEnoughBars,
    train_market_model,
    training_raw_scores,
    training_rows,
)


def dense(seed: int, tickers: int, days: int, plant: bool = True) -> tuple[np.ndarray, object]:
    market = generate_market(seed=seed, tickers=tickers, days=days, plant=plant)
    table = market.bars.reshape(days, tickers)
    fields = ("open", "high", "low", "close", "volume")
    return np.stack([table[f].astype(float).T for f in fields], axis=-1), market


def walk(
    sigmas: np.ndarray, seed: int, *, gap_share: float = 0.3, volume: bool = True
) -> np.ndarray:
    """(T, 5) bars of a random walk with daily σ ``sigmas``; ``gap_share`` of each day's move
    happens overnight (0: an index, which opens at the previous close)."""
    rng = np.random.default_rng(seed)
    moves = rng.standard_normal(len(sigmas)) * sigmas
    gaps = gap_share * moves
    close = 100.0 * np.exp(np.cumsum(moves))
    previous = np.r_[100.0, close[:-1]]
    open_ = previous * np.exp(gaps)
    reach = np.abs(rng.standard_normal((2, len(sigmas)))) * 0.5 * sigmas
    high = np.maximum(open_, close) * np.exp(reach[0])
    low = np.minimum(open_, close) * np.exp(-reach[1])
    vol = np.round(1e6 * np.exp(0.3 * rng.standard_normal(len(sigmas)))) if volume else 0 * close
    return np.stack([open_, high, low, close, vol], axis=-1)


def with_move(bars: np.ndarray, day: int, move: float) -> np.ndarray:
    """The bars with every price from ``day`` on multiplied by ``exp(move)`` (a shock that
    stays), the move happening during the session (no gap)."""
    out = bars.copy()
    out[day:, :4] *= np.exp(move)
    out[day, 0] /= np.exp(move)  # opens where it was
    out[day, 1] = max(out[day, 1], out[day, 0])
    out[day, 2] = min(out[day, 2], out[day, 0])
    return out


TRAINED = 250  # the model of MARKET is trained on its first 250 days and scans the rest


@pytest.fixture(scope="module")
def market() -> np.ndarray:
    return dense(seed=9, tickers=6, days=400, plant=False)[0]


@pytest.fixture(scope="module")
def model(market: np.ndarray) -> MarketDetector:
    return MarketDetector(*train_market_model(list(market[:, :TRAINED])))


@pytest.fixture(scope="module")
def turbulent() -> MarketDetector:
    """Trained on turbulent years: calm (1 %) and turbulent (4 %) quarters alternate."""
    sigmas = np.tile(np.repeat([0.01, 0.04], 60), 5)
    return MarketDetector(*train_market_model([walk(sigmas, seed) for seed in range(3)]))


def test_relative_is_a_robust_z_against_the_previous_window_only() -> None:
    x = np.zeros((8, 1))
    x[:, 0] = [1.0, 2.0, 3.0, 4.0, 10.0, 5.0, 6.0, 7.0]
    z, median = relative(x, start=4, window=4, floors=[1e-9])
    # bar 4 (10) against bars 0..3: median 2.5, MAD 1.0 → scale max(1.4826, std/3, floor)
    assert median[0, 0] == 2.5
    assert z[0, 0] == pytest.approx((10 - 2.5) / 1.4826)
    # bar 5 sees the 10 in its window but not itself: median of 2, 3, 4, 10 = 3.5
    assert median[1, 0] == 3.5
    assert z.shape == (4, 1)


def test_relative_clips_and_survives_flat_history() -> None:
    x = np.ones((10, 2))
    x[-1] = [2.0, 1.0]
    z, _ = relative(x, start=5, window=5, floors=[1e-9, 1e-9])
    assert z[-1].tolist() == [50.0, 0.0]
    assert np.isfinite(z).all()


def test_every_feature_scale_is_floored() -> None:
    x = np.zeros((10, len(FEATURES)))  # every feature flat at 0: MAD and std are 0
    x[-1] = 0.5 * np.array([SCALE_FLOOR[name] for name in FEATURES])
    z, _ = relative(x, start=5, window=5)
    assert z[-1].tolist() == pytest.approx([0.5] * len(FEATURES))
    with pytest.raises(ValueError, match="give their floors"):
        relative(np.zeros((10, 3)), start=5, window=5)


def test_a_gap_is_judged_in_units_of_the_return_scale() -> None:
    x = np.zeros((70, len(FEATURES)))
    r, g = FEATURES.index("log_return"), FEATURES.index("gap")
    x[:, r] = np.resize([0.02, -0.02], 70)  # the return's scale: std / 3 = 0.0067, MAD 0.02
    x[-1, g] = 0.01
    z, _ = relative(x, start=69, window=60)
    assert z[0, g] == pytest.approx(0.01 / (1.4826 * 0.02))


def test_an_index_whose_gap_is_always_zero_neither_dominates_nor_breaks_calibration() -> None:
    index = walk(np.full(700, 0.01), seed=1, gap_share=0.0)
    rows = training_rows([index[:600]])
    g = FEATURES.index("gap")
    assert (rows.z[:, g] == 0).all()  # 0 against a median of 0: not 50σ of nothing
    detector = MarketDetector(*train_market_model([index[:600]]))
    assert detector.metadata["tails"]["shock"]["u"] < 2  # log(1 + z): the returns' tail, z < 6
    # a 0.1 % opening gap, the tiniest a price feed shows, is no anomaly
    gapped = index.copy()
    gapped[650, 0] *= 1.001
    gapped[650, 1] = max(gapped[650, 1], gapped[650, 0])
    scores = detector.score_bars(gapped[None], start=640)
    assert scores.z[0, 10, g] == pytest.approx(0.001 / 0.01, rel=0.3)  # in return σ
    assert not detector.is_anomaly(scores.tail_prob[0, 10])


def test_a_market_without_volume_votes_without_the_volume_detector() -> None:
    index = walk(np.full(500, 0.01), seed=2, gap_share=0.0, volume=False)
    detector = MarketDetector(*train_market_model([index]))
    assert "volume" not in detector.tails and "shock" in detector.tails
    scores = detector.score_bars(index[None], start=400)
    assert np.isfinite(scores.tail_prob).all() and "volume" not in scores.detector_probs


def test_volume_reported_after_none_is_judged_against_nothing() -> None:
    """A halted ticker, or a feed that starts reporting volume: the first bars with volume
    after a window of zeros have no volume z (they would be 50σ), until half the window
    reported volume."""
    bars = walk(np.full(400, 0.01), seed=3)
    bars[:300, 4] = 0.0
    detector = MarketDetector(*train_market_model([walk(np.full(400, 0.01), seed=4)]))
    scores = detector.score_bars(bars[None], start=290)
    v = FEATURES.index("log_volume_change")
    assert (scores.z[0, :40, v] == 0).all()  # bars 290..329: at most half the window had volume
    assert (scores.z[0, 41:, v] != 0).any()
    assert not detector.is_anomaly(scores.tail_prob[0, 8:14]).any()  # around bar 300


def test_a_split_on_adjusted_prices_is_no_anomaly(
    market: np.ndarray, model: MarketDetector
) -> None:
    bars = market[0, :300]
    raw = bars.copy()
    raw[:280, :4] *= 2.0  # the provider's raw prices: a 2-for-1 split on bar 280
    raw[:280, 4] /= 2.0
    adj_close = bars[:, 3]  # what the provider reports as Adj Close
    split = model.score_bars(raw[None], start=270)
    assert model.is_anomaly(split.tail_prob[0, 10])  # raw prices: the split is a -69 % "crash"
    clean = model.score_bars(adjusted(raw, adj_close)[None], start=270)
    assert not model.is_anomaly(clean.tail_prob[0, 8:13]).any()
    assert adjusted(raw, adj_close) == pytest.approx(bars)


def test_a_holiday_gap_is_no_anomaly(market: np.ndarray, model: MarketDetector) -> None:
    """A closed day leaves no bar: the bar after it carries the missing session's move in
    its gap and return (the worst case: a whole trading day's move overnight). It may be
    as rare as the sessions it spans, not much rarer: within a factor of 25 of the rarer
    one. (10 until issue 17c: the worst bar, ticker 0 after the holiday at 310, is as rare
    as before, p ≈ 0.009, but its sessions were rarer under the old vote: 0.047, now 0.20
    with run and the volume level — bench/RESULTS.md, Markets.)"""
    holidays = [310, 330, 345, 361, 362, 380]  # 361-362: a long weekend
    spans = {310: [310, 311], 329: [330, 331], 343: [345, 346], 358: [361, 362, 363]}
    spans[376] = [380, 381]  # bar after the holidays (in the shortened series): its sessions
    full = model.score_bars(market, start=300).tail_prob
    for ticker in range(len(market)):
        kept = np.delete(market[ticker], holidays, axis=0)
        p = model.score_bars(kept[None], start=300).tail_prob[0]
        for after, sessions in spans.items():
            assert p[after - 300] >= full[ticker, [d - 300 for d in sessions]].min() / 25


def test_a_shock_after_a_calm_stretch_alerts_though_training_was_turbulent(
    turbulent: MarketDetector,
) -> None:
    calm = walk(np.r_[np.full(200, 0.02), np.full(100, 0.005)], seed=7)
    shocked = with_move(calm, 290, -0.04)  # 8 calm σ; a typical day of the training's turbulence
    scores = turbulent.score_bars(shocked[None], start=280)
    assert turbulent.is_anomaly(scores.tail_prob[0, 10])
    assert not scores.volatile[0, 10]
    assert regime_entry(scores, 0, 10).feature == REGIME_FEATURE
    # the same drop inside a 3 % stretch is an ordinary day
    wild = with_move(walk(np.full(300, 0.03), seed=7), 290, -0.04)
    assert not turbulent.is_anomaly(turbulent.score_bars(wild[None], start=280).tail_prob[0, 10])


def test_an_alert_inside_a_volatile_stretch_says_the_market_was_already_volatile(
    model: MarketDetector,
) -> None:
    typical = model.metadata["usual_volatility"]
    sigmas = np.r_[np.full(260, typical), np.full(40, 3 * typical)]
    crisis = with_move(walk(sigmas, seed=5), 290, -12 * typical)
    scores = model.score_bars(crisis[None], start=280)
    assert model.is_anomaly(scores.tail_prob[0, 10])
    assert scores.volatile[0, 10]
    entry = regime_entry(scores, 0, 10)
    assert entry.feature == VOLATILE_FEATURE and entry.direction == "above"
    assert entry.actual >= 1.5 * entry.expected and entry.contribution == 0.0


def test_calibration_is_a_fitted_tail_not_the_training_maximum() -> None:
    rng = np.random.default_rng(0)
    train = np.abs(rng.standard_t(4, 3000))  # a few thousand heavy-tailed |z|
    tail = fit_tail("shock", train)
    top = float(train.max())
    # beyond the largest training score p keeps falling, and stays a probability
    p_top, p_beyond = tail.tail_prob(np.array([top, 1.5 * top]))
    assert p_beyond < p_top < 5 / 3001 and p_beyond > 1e-9
    # inside the sample the tail agrees with the empirical share (20 % of 1-in-100)
    q99 = float(np.quantile(train, 0.99))
    assert float(tail.tail_prob(np.array([q99]))[0]) == pytest.approx(0.01, rel=0.2)


def test_training_is_deterministic_and_carries_its_calibration() -> None:
    bars, _ = dense(seed=4, tickers=3, days=250, plant=False)
    one, meta = train_market_model(list(bars), market="US")
    two, _ = train_market_model(list(bars), market="US")
    assert one == two
    assert meta["detector"] == "market_if_1d_US" and meta["features"] == list(FEATURES)
    assert meta["tickers"] == 3 and meta["training_rows"] == 3 * (250 - FIRST_SCORED)
    assert meta["shock_features"] == list(SHOCK_FEATURES)
    assert set(meta["tails"]) == set(DETECTORS) and set(WEIGHTS) <= set(DETECTORS)
    assert meta["alert_budget"] == ALERT_BUDGET and meta["usual_volatility"] > 0
    # the threshold is learnt: the training rows raise ALERT_BUDGET alerts a ticker-year, or
    # as many as they made extreme moves if fewer
    budget = min(ALERT_BUDGET, meta["extreme_moves_per_year"])
    train_p = training_p(MarketDetector(one, meta), bars)
    assert (train_p <= meta["alert_tail_prob"]).sum() == int(budget * len(train_p) / 252)
    assert train_market_model(list(bars), alert_tail_prob=0.01)[1]["alert_tail_prob"] == 0.01


def training_p(detector: MarketDetector, bars: np.ndarray) -> np.ndarray:
    """The combined p of the model's own training rows (bars ``(k, T, 5)``)."""
    raw = training_raw_scores(detector, list(bars))
    probs = {d: detector.tails[d].tail_prob(raw[d]) for d in detector.tails}
    return combine(probs, detector.weights, "bonferroni")


def test_extreme_moves_are_training_bars_with_a_voting_view_from_extreme_z() -> None:
    below = np.nextafter(EXTREME_Z, 0.0)
    raw = {
        "shock": np.array([EXTREME_Z, below, 0.0, 0.0]),
        "move": np.array([0.0, 0.0, 0.0, 9.0]),
        "burst": np.array([9.0, 9.0, 9.0, 9.0]),  # no vote: not counted
    }
    weights = {"shock": 0.5, "move": 0.5, "burst": 0.0}
    # two of four bars: 252 / 2 a ticker-year of 252 bars
    assert extreme_moves_per_year(raw, weights, bars_per_year=252) == 126.0
    assert market_budget(raw, weights, budget=8.0) == 8.0  # the cap is above the budget
    assert market_budget(raw, weights, budget=200.0) == 126.0
    assert market_budget(raw, weights, budget=200.0, extreme_z=None) == 200.0
    assert extreme_moves_per_year(raw, {"burst": 1.0}) == 252.0
    assert extreme_moves_per_year(raw, {"shock": 1.0}, extreme_z=EXTREME_Z + 1e-9) == 0.0


def with_news(calm: np.ndarray, every: int) -> np.ndarray:
    """``calm`` (k, T, 5) with a 6 % move (6σ of a 1 % walk) every ``every`` days."""
    news = calm.copy()
    for i in range(len(news)):
        for day in range(130 + 7 * i, news.shape[1], every):
            news[i] = with_move(news[i], day, 0.06 * (-1) ** (day // every))
    return news


def test_a_market_with_little_news_spends_less_than_the_budget() -> None:
    """A market that jumps (not quiet) but makes fewer moves of EXTREME_Z robust σ than the
    budget has its threshold learnt for that many alerts a ticker-year; one with a 6 % move
    every 20 days gets the whole budget."""
    calm = np.stack([walk(np.full(760, 0.01), seed) for seed in (31, 32, 33)])
    for bars, spends_budget in ((with_news(calm, 90), False), (with_news(calm, 20), True)):
        onnx, meta = train_market_model(list(bars))
        assert not meta["quiet"]
        extreme = meta["extreme_moves_per_year"]
        assert (extreme >= ALERT_BUDGET) == spends_budget
        train_p = training_p(MarketDetector(onnx, meta), bars)
        alerts = (train_p <= meta["alert_tail_prob"]).sum()
        assert alerts == int(min(ALERT_BUDGET, extreme) * len(train_p) / 252)


def test_a_quiet_markets_threshold_is_the_nominal_one_alert_a_ticker_year() -> None:
    """A Gaussian walk jumps no more than a conditionally normal market: it would spend a
    learnt budget on its noise, so its threshold is p <= 1/252."""
    calm = np.stack([walk(np.full(760, 0.01), seed) for seed in (31, 32, 33)])
    onnx, meta = train_market_model(list(calm))
    assert meta["quiet"] and meta["jump_returns"] == 3 * (759 - JUMP_WARMUP)
    assert MarketDetector(onnx, meta).alert_tail_prob == 1 / 252
    _, never_quiet = train_market_model(list(calm), quiet_level=None)
    assert not never_quiet["quiet"] and never_quiet["alert_tail_prob"] != 1 / 252


def test_a_jump_is_a_return_of_jump_z_conditional_sigmas() -> None:
    """Against an EWMA of the squared returns before it, seeded by the first JUMP_WARMUP."""
    r = np.r_[np.full(JUMP_WARMUP, 0.01), 0.04, 0.01]
    z = conditional_z(r)
    assert z[0] == pytest.approx(4.0)  # 4 % against a σ of 1 %
    assert z[1] == pytest.approx(0.01 / np.sqrt(0.94e-4 + 0.06 * 0.04**2))
    assert conditional_z(r[:JUMP_WARMUP]).size == 0

    def bars(move: float) -> np.ndarray:
        close = 100 * np.exp(np.cumsum(np.r_[0.0, r[:JUMP_WARMUP], move, 0.01]))
        return np.stack([close] * 4 + [np.full(len(close), 1e6)], axis=-1)

    # two tickers, two returns judged each: one jump (5σ), one not (3σ)
    assert training_jumps([bars(0.05), bars(0.03)]) == (1, 4)


def test_a_market_is_quiet_until_its_jumps_are_unlikely_under_normal_returns() -> None:
    """P(Poisson(μ) >= jumps) > QUIET_LEVEL; μ = 1 here: P(>= 4) = 0.019, P(>= 5) = 0.0037."""
    one_expected = round(1 / math.erfc(JUMP_Z / math.sqrt(2)))
    assert quiet_market(4, one_expected) and not quiet_market(5, one_expected)
    assert quiet_market(5, one_expected, level=0.003)
    assert quiet_market(0, 0) and not quiet_market(1, 0)


def test_the_budget_threshold_is_below_the_kth_training_p() -> None:
    train_p = np.linspace(0.001, 1.0, 1000)  # 1000 rows: 1000 / 252 ticker-years
    t = budget_threshold(train_p, budget=8.0, bars_per_year=252)  # k = int(8 × 3.97) = 31
    assert (train_p <= t).sum() == 31 and t < train_p[31] and t >= train_p[30]
    assert budget_threshold(train_p, budget=1e6) < 1.0  # never past the largest row


def test_run_is_the_week_return_in_daily_moves() -> None:
    """The last RUN_BARS returns summed, over √RUN_BARS × 1.4826·MAD of the returns before."""
    rng = np.random.default_rng(3)
    r = 0.01 * rng.standard_normal(300)
    r[-RUN_BARS:] = 0.02  # a week of +2 % days
    features = np.zeros((300, len(FEATURES)))
    features[:, FEATURES.index("log_return")] = r
    z = run_z(features, 299)
    past = r[299 - RUN_BARS + 1 - (MOVE_WINDOW - RUN_BARS + 1) : 299 - RUN_BARS + 1]
    mad = np.median(np.abs(past - np.median(past)))
    assert z[-1] == pytest.approx(0.1 / (np.sqrt(RUN_BARS) * 1.4826 * mad))
    assert 4.0 < z[-1] < 8.0  # 10 % in a week of ~1 % days: ~4.5σ of a week


def test_too_few_bars_is_a_clear_error() -> None:
    bars, _ = dense(seed=4, tickers=1, days=FIRST_SCORED + 5, plant=False)
    with pytest.raises(NotEnoughBars, match="a market model needs 200"):
        train_market_model(list(bars))


def test_a_price_gap_is_rare_and_explained_by_the_gap(
    market: np.ndarray, model: MarketDetector
) -> None:
    gapped = market[:2, :300].copy()
    gapped[0, 290:, :4] *= 1.12  # the open jumps 12 % and the price stays there
    scores = model.score_bars(gapped, start=280)
    p = scores.tail_prob
    assert model.is_anomaly(p[0, 10]) and p[0, 10] < 1e-4
    assert not model.is_anomaly(p[1]).any()  # the untouched ticker stays quiet
    contribution = model.contributions(
        scores.z[0, 10], scores.previous[0, 10], scores.move[:, 0, 10]
    )
    top = FEATURES[int(np.argmax(contribution))]
    assert top in ("gap", "log_return")


def test_the_vote_is_the_shared_weighted_bonferroni(
    market: np.ndarray, model: MarketDetector
) -> None:
    bars = market[:1, :400]
    scores = model.score_bars(bars, start=350)
    assert scores.features[0, 0].tolist() == pytest.approx(indicators(bars[0, :351])[-1].tolist())
    assert scores.tail_prob.shape == (1, 50)
    assert scores.tail_prob == pytest.approx(combine(scores.detector_probs, WEIGHTS, "bonferroni"))
    for name, weight in WEIGHTS.items():
        assert (scores.tail_prob <= scores.detector_probs[name] / weight + 1e-15).all()


def test_a_quiet_market_raises_few_alerts(market: np.ndarray, model: MarketDetector) -> None:
    scores = model.score_bars(market, start=TRAINED)
    # p <= 0.04 under a weighted Bonferroni: at most 4 % of the 900 ticker-days (36)
    assert model.is_anomaly(scores.tail_prob).sum() <= 0.04 * scores.tail_prob.size


def test_a_scan_with_less_history_scores_the_same() -> None:
    """EWMA volatility over a fixed window: a daily scan that loads only the bars it needs
    scores a bar as a backfill over years of history does."""
    bars = walk(np.full(600, 0.01), seed=8)
    features = indicators(bars)
    full = ewma_z(features, 500)
    short = ewma_z(indicators(bars[500 - MOVE_WINDOW - 60 :]), MOVE_WINDOW + 60)
    assert short == pytest.approx(full[-len(short) :], rel=1e-9)


def test_shock_is_the_largest_price_move_in_sigmas() -> None:
    z = np.zeros((3, len(FEATURES)))
    z[0, FEATURES.index("gap")] = -7.0
    z[1, FEATURES.index("rsi")] = 9.0  # not one of the bar's own moves
    z[2, FEATURES.index("log_volume_change")] = 9.0  # volume is the volume detector's
    assert shock_score(z).tolist() == [7.0, 0.0, 0.0]


def test_burst_is_the_rms_of_return_and_gap_over_three_bars_but_the_largest() -> None:
    z = np.zeros((4, len(FEATURES)))
    r, g = FEATURES.index("log_return"), FEATURES.index("gap")
    z[:, r] = [1.0, 2.0, 3.0, 4.0]
    z[:, g] = [0.0, 1.0, 0.0, 1.0]
    previous = previous_energy(z)  # bars 2 and 3: energy of each of the two bars before
    assert previous.tolist() == [[1.0, 5.0], [5.0, 9.0]]
    burst = burst_score(z[2:], previous)  # energies 1, 5, 9 and 5, 9, 17 without the largest
    assert burst.tolist() == pytest.approx([np.sqrt((1.0 + 5.0) / 4), np.sqrt((5.0 + 9.0) / 4)])


def test_a_model_trained_before_fitted_tails_still_scores(market: np.ndarray) -> None:
    """Registry models from before kept 2,000 score quantiles and had no move, EWMA or
    volume detectors: they load, vote with what they have, and keep their own threshold."""
    onnx_bytes, metadata = train_market_model(list(market[:, :TRAINED]))
    raw = training_raw_scores(MarketDetector(onnx_bytes, metadata), list(market[:, :TRAINED]))
    levels = np.linspace(0, 1, 2000)
    old = {k: v for k, v in metadata.items() if k not in ("tails", "weights")}
    for name, key in (
        ("isolation_forest", "calibration"),
        ("shock", "shock_calibration"),
        ("burst", "burst_calibration"),
    ):
        old[key] = [float(v) for v in np.quantile(raw[name], levels)]
    old["alert_tail_prob"] = 1e-3
    detector = MarketDetector(onnx_bytes, old)
    scores = detector.score_bars(market, start=TRAINED)
    assert set(scores.detector_probs) == {"isolation_forest", "shock", "burst"}
    voting = {d: w for d, w in WEIGHTS.items() if d in scores.detector_probs}  # shock
    assert scores.tail_prob == pytest.approx(combine(scores.detector_probs, voting, "bonferroni"))
    assert detector.alert_tail_prob == 1e-3


def test_already_volatile_from_one_and_a_half_times_the_usual(
    market: np.ndarray, model: MarketDetector
) -> None:
    scores = model.score_bars(market[:1], start=TRAINED)
    usual = scores.usual_volatility[0, :3]
    at = dataclasses.replace(
        scores,
        prior_volatility=np.array([usual * [1.5, 1.4999, 1.0]]),
        usual_volatility=usual[None],
    )
    assert at.volatile[0].tolist() == [True, False, False]
    entries = [regime_entry(at, 0, i) for i in range(3)]
    assert [e.feature for e in entries] == [VOLATILE_FEATURE, REGIME_FEATURE, REGIME_FEATURE]
    assert [e.direction for e in entries] == ["above", "above", "above"]  # 1.0x: not below


def test_volume_is_known_where_half_the_window_reported_some() -> None:
    volume = np.array([[0, 0, 5, 5, 0], [0, 0, 0, 5, 0]], dtype=float)
    assert volume_known(volume, start=4, window=4).tolist() == [[True], [False]]


def us_sessions(first: str, last: str) -> tuple[list[str], np.ndarray]:
    """The US market's sessions in [first, last] and each one's share of a regular session."""
    days = CALENDARS["US"].sessions(dt.date.fromisoformat(first), dt.date.fromisoformat(last))
    return [d.isoformat() for d in days], np.asarray(CALENDARS["US"].session_shares(days))


THIN = 0.6  # a half day trades ~0.6 of its hours' share (^NDX 1990-94: 0.63, RESULTS.md)


@pytest.fixture(scope="module")
def half_days() -> tuple[np.ndarray, np.ndarray, MarketDetector]:
    """Three index-like tickers over US sessions 1993-98 whose half days trade THIN × their
    share of a full session's volume; the model is trained on the first 750 sessions."""
    _, share = us_sessions("1993-01-01", "1998-12-31")
    bars = np.stack([walk(np.full(len(share), 0.01), seed) for seed in (21, 22, 23)])
    short = share < 1
    bars[:, short, 4] *= share[short] * THIN
    shares = [share[:750]] * len(bars)
    # the whole budget, as an index's: Gaussian walks make few extreme moves and no jumps
    uncapped = train_market_model(
        list(bars[:, :750]), sessions=shares, extreme_z=None, quiet_level=None
    )
    detector = MarketDetector(*uncapped)
    return bars, share, detector


def volume_alerts(detector: MarketDetector, p_volume: np.ndarray) -> np.ndarray:
    """Bars whose volume alone raises the vote over the alert threshold."""
    return np.asarray(p_volume / detector.weights["volume"] <= detector.alert_tail_prob)


def test_a_half_day_session_is_not_a_volume_anomaly(
    half_days: tuple[np.ndarray, np.ndarray, MarketDetector],
) -> None:
    """A half day's thin volume, and the full session after it, are judged against a full
    session's volume scaled by the half day's share (and the learnt short-session factor):
    neither is a volume anomaly. Judged as full sessions, half days are."""
    bars, share, detector = half_days
    assert detector.short_session_volume == pytest.approx(THIN, abs=0.15)
    short = np.flatnonzero(share[750:] < 1)  # the scanned half days (offsets from bar 750)
    assert len(short) >= 8
    around = np.union1d(short, short + 1)
    around = around[around < len(share) - 750]
    scores = detector.score_bars(bars, start=750, session=np.broadcast_to(share, bars.shape[:2]))
    assert not volume_alerts(detector, scores.detector_probs["volume"][:, around]).any()
    unaware = detector.score_bars(bars, start=750)  # every bar a full session
    assert volume_alerts(detector, unaware.detector_probs["volume"][:, short]).mean() > 0.5


def test_a_volume_spike_on_a_half_day_is_still_a_volume_anomaly(
    half_days: tuple[np.ndarray, np.ndarray, MarketDetector],
) -> None:
    bars, share, detector = half_days
    day = 750 + int(np.flatnonzero(share[750:] < 1)[0])
    spiked = bars.copy()
    spiked[:, day, 4] *= 4.0  # four times what a half day trades
    scores = detector.score_bars(spiked, start=750, session=np.broadcast_to(share, bars.shape[:2]))
    assert volume_alerts(detector, scores.detector_probs["volume"][:, day - 750]).all()


def test_full_volume_scales_a_short_session_and_skips_it_as_the_previous_volume() -> None:
    volume = np.array([100.0, 110.0, 30.0, 120.0, 90.0])
    v, previous = full_volume(volume, np.array([1.0, 1.0, 0.5, 1.0, 1.0]))
    assert v.tolist() == [100.0, 110.0, 60.0, 120.0, 90.0]
    # the half day and the session after it are judged against the last full session (110)
    assert previous.tolist() == [100.0, 100.0, 110.0, 110.0, 120.0]
    assert full_volume(volume, None)[1].tolist() == [100.0, 100.0, 110.0, 30.0, 120.0]


def test_a_zero_volume_is_unreported_only_on_a_bar_that_traded_a_range() -> None:
    """Volume 0 with high above low: the feed did not report it (carried over from the last
    reported bar). Volume 0 on a bar without a range (a halt) is a 0."""
    bars = np.ones((4, 5))
    bars[:, 4] = [5e8, 6e8, 0.0, 0.0]
    bars[2, 1] = np.nextafter(1.0, 2.0)  # high just above low: traded
    filled, missing = reported(bars)
    assert missing.tolist() == [False, False, True, False]
    assert filled[:, 4].tolist() == [5e8, 6e8, 6e8, 0.0]
    assert unreported_volume(bars).tolist() == missing.tolist()


def test_an_index_volume_of_zero_is_no_volume_anomaly() -> None:
    """A day an index's feed reports volume 0 while its prices moved (arch's ^IXIC has two) is
    unreported: no volume z that day, nor a large one the day after. A halted ticker's 0 (no
    range) is still judged."""
    index = walk(np.full(500, 0.01), seed=6, gap_share=0.0)
    index[:, 4] *= 1e3
    detector = MarketDetector(*train_market_model([index[:400]]))
    halted = index.copy()
    index[450, 4] = halted[450, 4] = 0.0
    halted[450, :4] = halted[449, 3]  # no trade: open, high, low and close at the last close
    scores = detector.score_bars(np.stack([index, halted]), start=440)
    volume = scores.raw["volume"][:, 10:12]
    assert volume[0, 0] == 0.0 and volume[0, 1] < 3
    assert volume[1, 0] > 10  # judged: its usual volume against nothing traded
    assert not detector.is_anomaly(scores.tail_prob[0, 10:12]).any()
