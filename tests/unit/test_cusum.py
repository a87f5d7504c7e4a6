"""Slow conversion collapses: the Poisson CUSUM of orders given clicks, and the lag curve."""

from __future__ import annotations

import numpy as np
import pytest

from tripwire.detection.cusum import CusumConfig, conversion_cusum
from tripwire.features.lag import DEFAULT_CURVE, PRIOR_ORDERS, completeness, learn_curve
from tripwire.features.ppc import INDEX

CONFIG = CusumConfig(rho=0.25, threshold=7.0, span=14, min_baseline_orders=10.0)
DAYS = 56


def _keyword(clicks: float, cvr: float, days: int = DAYS) -> np.ndarray:
    """(1, days, 5): exactly ``clicks`` a day converting at ``cvr`` (no noise: exact sums)."""
    raw = np.zeros((1, days, 5))
    raw[0, :, INDEX["impressions"]] = clicks * 50
    raw[0, :, INDEX["clicks"]] = clicks
    raw[0, :, INDEX["spend"]] = clicks
    raw[0, :, INDEX["orders"]] = clicks * cvr
    raw[0, :, INDEX["sales"]] = clicks * cvr * 20
    return raw


def _settled(raw: np.ndarray) -> np.ndarray:
    return np.ones(raw.shape[1])


def test_conversions_stopping_alarm_when_the_evidence_crosses_with_the_onset_on_day_one() -> None:
    raw = _keyword(clicks=30, cvr=0.1)  # 3 orders a day: each day without one adds 2.25
    raw[0, -4:, INDEX["orders"]] = 0  # conversions stop four days before the end
    alarms = [conversion_cusum(raw[:, : DAYS - 3 + k], _settled(raw), CONFIG) for k in range(4)]
    assert [bool(r.alarm[0]) for r in alarms] == [False, False, False, True]  # 6.75 < 7 ≤ 9
    assert alarms[3].statistic[0] == pytest.approx(4 * 2.25)
    assert alarms[3].onset[0] == 3  # the run began three days before the alarm: day one
    assert alarms[3].expected[0] == pytest.approx(12) and alarms[3].actual[0] == 0
    assert alarms[3].tail_prob(1e-4)[0] == pytest.approx(1e-4 * np.exp(-2.0))
    # root cause compares parents and children over a run: the last k+1 periods' figures
    assert alarms[3].run_periods is not None and alarms[3].run_periods[0] == 4
    assert alarms[3].shortfall is not None and alarms[3].expected_recent is not None
    assert alarms[3].shortfall[0, :5] == pytest.approx([3, 6, 9, 12, 12])
    assert alarms[3].expected_recent[0, :5] == pytest.approx([3, 6, 9, 12, 15])


def test_a_collapse_that_ended_stops_alarming_the_day_orders_return() -> None:
    raw = _keyword(clicks=30, cvr=0.1)
    raw[0, -5:-1, INDEX["orders"]] = 0  # four days without orders, then 3 again
    result = conversion_cusum(raw, _settled(raw), CONFIG)
    assert not result.alarm[0]


def test_steady_conversion_never_accumulates_evidence() -> None:
    result = conversion_cusum(_keyword(clicks=30, cvr=0.1), _settled(_keyword(30, 0.1)), CONFIG)
    assert result.statistic[0] == 0 and result.onset[0] == -1 and not result.alarm[0]


def test_a_keyword_without_a_baseline_rate_is_not_judged() -> None:
    raw = _keyword(clicks=30, cvr=0.1)
    raw[0, : DAYS - 14, INDEX["orders"]] = 0  # no orders before the span: no rate to judge
    raw[0, : DAYS - 14 - 1, INDEX["clicks"]] = 0
    raw[0, DAYS - 15, INDEX["orders"]] = 9  # fewer than min_baseline_orders (10)
    raw[0, -5:, INDEX["orders"]] = 0
    assert not conversion_cusum(raw, _settled(raw), CONFIG).alarm[0]


def test_provisional_days_are_judged_against_what_provisional_days_show() -> None:
    raw = _keyword(clicks=200, cvr=0.1)  # 20 orders a day, settled
    share = completeness(DAYS, 0, DEFAULT_CURVE)
    for age, part in enumerate(DEFAULT_CURVE):
        raw[0, DAYS - 1 - age, INDEX["orders"]] = 20 * part  # as first reported
    assert conversion_cusum(raw, share, CONFIG).statistic[0] == 0
    assert not conversion_cusum(raw, _settled(raw), CONFIG).alarm[0]  # 0.7 is no stop (rho)
    raw[0, -1, INDEX["orders"]] = 0  # nothing at all reported on the newest day
    result = conversion_cusum(raw, share, CONFIG)
    assert result.alarm[0] and result.statistic[0] == pytest.approx(20 * 0.70 * 0.75)
    assert result.onset[0] == 0


def test_completeness_by_age() -> None:
    assert completeness(5, 0, (0.7, 0.9, 0.97)).tolist() == [1.0, 1.0, 0.97, 0.9, 0.7]
    assert completeness(5, 1, (0.7, 0.9, 0.97)).tolist() == [1.0, 1.0, 1.0, 0.97, 0.9]
    assert completeness(3, 3, (0.7, 0.9, 0.97)).tolist() == [1.0, 1.0, 1.0]


def _restated(*entries: tuple[int, float, float]) -> tuple[list[int], list[float], list[float]]:
    ages, first, settled = zip(*entries, strict=True)
    return list(ages), list(first), list(settled)


def test_the_lag_curve_is_learnt_from_restatements_shrunk_to_the_default() -> None:
    assert learn_curve([], [], []) == pytest.approx(DEFAULT_CURVE)  # nothing restated yet
    many = [(0, 50.0, 100.0)] * 100 + [(1, 80.0, 100.0)] * 100 + [(2, 95.0, 100.0)] * 100
    learnt = learn_curve(*_restated(*many))
    weight = 100 * 100 / (100 * 100 + PRIOR_ORDERS)
    assert learnt[0] == pytest.approx(weight * 0.5 + (1 - weight) * DEFAULT_CURVE[0])
    assert learnt[1] == pytest.approx(weight * 0.8 + (1 - weight) * DEFAULT_CURVE[1])
    # a share never falls with age (orders seen stay seen as the days settle)
    falling = [(0, 100.0, 100.0)] * 100 + [(1, 0.0, 100.0)] * 100
    assert learn_curve(*_restated(*falling))[1] >= 0.99
