"""Which periods a scan scores: only what has not been detected yet."""

from __future__ import annotations

import datetime

from tripwire.service.incremental import (
    MAX_CATCHUP,
    Detected,
    fresh_start,
    plan_range,
    plan_scan,
)

D = datetime.date(2026, 4, 10)


def day(offset: int) -> datetime.date:
    return D + datetime.timedelta(days=offset)


def scored(plan_periods: dict[datetime.date, object], row: int = 0) -> list[datetime.date]:
    return [d for d, rows in plan_periods.items() if rows[row]]  # type: ignore[index]


def test_a_series_never_detected_starts_at_the_latest_period_and_its_settled_one() -> None:
    plan = plan_scan([Detected()], latest=D)
    assert scored(plan.periods) == [day(-3), D]
    assert plan.provisional(D) and not plan.provisional(day(-3))


def test_a_fresh_slice_starts_right_after_the_training_window() -> None:
    start = fresh_start([Detected(), Detected()], trained_until=day(-5))
    assert start == day(-4)
    plan = plan_scan([Detected()], latest=D, fresh_start=start)
    assert scored(plan.periods) == [day(i) for i in range(-4, 1)]


def test_a_new_series_in_a_scanned_slice_costs_no_extra_periods() -> None:
    detected = [Detected(day(-30), day(-1)), Detected()]
    start = fresh_start(detected, trained_until=day(-40))
    assert start == D
    plan = plan_scan(detected, latest=D, fresh_start=start)
    assert scored(plan.periods, 1) == [day(-3), D]


def test_after_new_data_only_the_new_period_and_the_one_just_settled_are_scored() -> None:
    plan = plan_scan([Detected(day(-20), day(-1))], latest=D)
    assert scored(plan.periods) == [day(-3), D]


def test_a_missed_day_is_caught_up_and_every_period_that_settled_meanwhile_rescored() -> None:
    plan = plan_scan([Detected(day(-20), day(-3))], latest=D)
    assert scored(plan.periods) == [day(-5), day(-4), day(-3), day(-2), day(-1), D]


def test_no_new_data_means_nothing_to_score() -> None:
    plan = plan_scan([Detected(day(-20), D)], latest=D)
    assert plan.periods == {} and plan.span() is None


def test_no_data_at_all_means_nothing_to_score() -> None:
    assert plan_scan([Detected()], latest=None).periods == {}


def test_a_long_gap_is_caught_up_only_so_far_and_says_so() -> None:
    plan = plan_scan([Detected(day(-400), day(-300))], latest=D)
    assert plan.catchup_capped
    assert min(plan.periods) == day(-(MAX_CATCHUP - 1))


def test_a_range_skips_periods_already_detected_unless_forced() -> None:
    detected = [Detected(day(-5), D)]
    plan = plan_range(detected, day(-9), D, latest=D, force=False)
    assert scored(plan.periods) == [day(i) for i in range(-9, -5)]
    forced = plan_range(detected, day(-9), D, latest=D, force=True)
    assert scored(forced.periods) == [day(i) for i in range(-9, 1)]


def test_a_range_stops_at_the_latest_period_loaded() -> None:
    plan = plan_range([Detected()], day(-2), day(5), latest=D, force=False)
    assert max(plan.periods) == D


def test_only_unbroken_ranges_count_as_detected() -> None:
    start = Detected(day(-10), day(-1))
    assert start.extended(day(-20), day(-11)) == Detected(day(-20), day(-1))
    assert start.extended(day(0), D) == Detected(day(-10), D)
    # A gap between would be claimed as detected: the latest range is kept instead.
    assert start.extended(day(-40), day(-30)) == start
    assert start.extended(day(5), day(9)) == Detected(day(5), day(9))
