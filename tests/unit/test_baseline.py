"""Baselines judge counts by what such counts can do, from each entity's own history."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tripwire.features.baseline import Baseline, BaselineConfig, compute, compute_many
from tripwire.features.ppc import INDEX

_DAYS = 57


def _window(clicks_per_day: float, today_clicks: int, seed: int = 0) -> np.ndarray:
    """One keyword: impressions 100× clicks, $1 a click, 10 % conversion, $30 an order."""
    rng = np.random.default_rng(seed)
    clicks = rng.poisson(clicks_per_day, _DAYS).astype(float)
    clicks[-1] = today_clicks
    impressions = clicks * 100 + rng.poisson(100 * clicks_per_day, _DAYS)
    impressions[-1] = 100 * clicks_per_day  # traffic itself stays normal today
    orders = np.floor(clicks * 0.1)
    window = np.stack([impressions, clicks, clicks * 1.0, orders * 30.0, orders], axis=-1)
    return window[None, :, :]


def _clicks_deviation(clicks_per_day: float, today: int) -> float:
    return float(compute(_window(clicks_per_day, today), last_weekday=2).deviation[0, 1])


def test_three_clicks_to_zero_is_ordinary() -> None:
    assert abs(_clicks_deviation(3, 0)) < 3.0


def test_forty_clicks_to_zero_is_huge() -> None:
    assert _clicks_deviation(40, 0) < -8.0


def test_half_a_click_to_zero_is_nothing() -> None:
    assert abs(_clicks_deviation(0.5, 0)) < 1.5


def test_expected_and_actual_are_in_natural_units() -> None:
    base = compute(_window(40, 0), last_weekday=2)
    assert 30 < base.expected[0, INDEX["clicks"]] < 50
    assert base.actual[0, INDEX["clicks"]] == 0
    assert 0.9 < base.expected[0, INDEX["cpc"]] < 1.1


def test_weekday_rhythm_is_expected_not_anomalous() -> None:
    # A busy account whose Sundays run 40 % above the week: a normal Sunday is normal.
    weekday = np.arange(56) % 7  # day 0 is a Monday, so the last day (55) is a Sunday
    impressions = np.where(weekday == 6, 140_000.0, 100_000.0)
    clicks = impressions / 100
    window = np.stack([impressions, clicks, clicks, clicks * 3, clicks / 10], axis=-1)[None]
    base = compute(window, last_weekday=6)
    assert abs(base.deviation[0, INDEX["impressions"]]) < 1.0
    assert base.expected[0, INDEX["impressions"]] > 130_000


def test_many_entities_at_once_match_one_at_a_time() -> None:
    windows = np.concatenate([_window(3, 0, 1), _window(40, 0, 2), _window(10, 30, 3)])
    together = compute(windows, last_weekday=4).deviation
    alone = np.concatenate([compute(w[None], last_weekday=4).deviation for w in windows])
    # Entities only share fallbacks (a pooled weekday rhythm, CPC for click-less ones).
    assert np.sign(together[:, 1]).tolist() == np.sign(alone[:, 1]).tolist()


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 4), st.integers(2, 30), st.just(5)),
        elements=st.one_of(st.just(0.0), st.floats(0.0, 1e9), st.just(float("nan"))),
    ),
    st.integers(0, 6),
)
def test_nothing_non_finite_leaves(window: np.ndarray, weekday: int) -> None:
    base = compute(window, weekday)
    for part in (base.deviation, base.expected, base.actual):
        assert part.shape == (window.shape[0], 10)
        assert np.isfinite(part).all()


def test_a_newly_launched_keyword_has_no_normal_yet() -> None:
    window = np.zeros((1, _DAYS, 5))
    window[0, -3:] = [500, 5, 4.0, 30.0, 1]  # serving for three days, after nothing
    assert not compute(window, last_weekday=0).deviation.any()


def _one_by_one(
    window: np.ndarray,
    weekday: int,
    config: BaselineConfig | None,
    count: int,
    history: int | None,
    periods: int,
) -> list[Baseline]:
    """``compute`` on each of the last ``count`` periods' own windows (the reference)."""
    days = window.shape[1]
    out = []
    for t in range(days - count, days):
        end = t - periods + 1
        start = 0 if history is None else max(0, end - history)
        out.append(
            compute(window[:, start : t + 1], (weekday - (days - 1 - t)) % 7, config, periods)
        )
    return out


def _assert_many_matches(
    window: np.ndarray,
    weekday: int,
    config: BaselineConfig | None = None,
    count: int = 1,
    history: int | None = None,
    periods: int = 1,
) -> None:
    many = compute_many(window, weekday, config, count, history=history, periods=periods)
    alone = _one_by_one(window, weekday, config, count, history, periods)
    for part in ("deviation", "expected", "actual"):
        got = getattr(many, part)
        assert got.shape == (count, window.shape[0], 10)
        want = np.stack([getattr(b, part) for b in alone])
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9, err_msg=part)


def _random_window(rng: np.random.Generator, n: int, days: int) -> np.ndarray:
    """Heavy-tailed counts (many zeros), money per click and per order, dormant entities."""
    rate = rng.gamma(0.4, 30.0, (n, 1, 1)) * np.array([100.0, 1.0, 1.0, 3.0, 0.1])
    window = rng.poisson(rate, (n, days, 5)).astype(float)
    window[..., 2:4] *= rng.uniform(0.3, 2.0, (n, days, 2))  # spend, sales: not integers
    window[rng.random((n, days, 5)) < 0.2] = 0.0
    window[0] = 0.0  # never served
    if n > 2:
        window[1, : days // 2] = 0.0  # launched mid-window
        window[2, days // 2 :, 1:] = 0.0  # impressions only lately
    return window


def test_many_periods_equal_each_period_alone_at_pipeline_scale() -> None:
    rng = np.random.default_rng(20261123)
    window = _random_window(rng, 60, 70)
    _assert_many_matches(window, 3, count=13, history=56)  # the LSTM's earlier periods
    _assert_many_matches(window, 3, count=56, history=56)  # training: short histories too
    _assert_many_matches(window, 5, count=50, history=56, periods=3)  # the count model's runs


def test_many_periods_equal_each_period_alone_for_seeded_windows() -> None:
    rng = np.random.default_rng(7)
    for trial in range(60):
        n, days = int(rng.integers(1, 7)), int(rng.integers(2, 75))
        periods = int(rng.integers(1, min(4, days)))
        count = int(rng.integers(1, days - periods + 1))
        history = None if trial % 3 == 0 else int(rng.integers(1, 60))
        config = BaselineConfig(
            level_periods=int(rng.integers(1, 30)),
            trim=int(rng.integers(0, 5)),
            min_active_periods=int(rng.integers(1, 10)),
        )
        window = _random_window(rng, n, days)
        _assert_many_matches(window, int(rng.integers(0, 7)), config, count, history, periods)


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 4), st.integers(2, 40), st.just(5)),
        elements=st.one_of(st.just(0.0), st.integers(0, 50).map(float), st.floats(0.0, 1e6)),
    ),
    st.integers(0, 6),
    st.integers(1, 3),
    st.one_of(st.none(), st.integers(1, 60)),
    st.data(),
)
def test_many_periods_equal_each_period_alone(
    window: np.ndarray, weekday: int, periods: int, history: int | None, data: st.DataObject
) -> None:
    days = window.shape[1]
    if days - periods < 1:
        periods = 1
    count = data.draw(st.integers(1, days - periods))
    _assert_many_matches(window, weekday, None, count, history, periods)


def test_many_periods_need_a_history_for_each() -> None:
    with pytest.raises(ValueError):
        compute_many(np.zeros((2, 5, 5)), 0, count=5)
