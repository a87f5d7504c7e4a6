"""Baselines judge counts by what such counts can do, from each entity's own history."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tripwire.features.baseline import compute
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
