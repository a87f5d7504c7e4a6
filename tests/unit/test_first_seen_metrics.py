"""The metrics table keeps what a young period first showed when a restatement replaces it,
and the scan's window learns the profile's reporting-lag curve from it (DynamoDB in-process)."""

from __future__ import annotations

import datetime

import pytest

from tripwire.domain.entities import Entity, EntityType
from tripwire.domain.metrics import PPC_MEASURES, Interval
from tripwire.features.lag import DEFAULT_CURVE, PRIOR_ORDERS
from tripwire.service.scoring import read_window
from tripwire.store.metrics import MetricStore


@pytest.fixture(autouse=True)
def aws(moto_aws: None) -> None:
    """Every test here runs against moto in-process (tests/unit/conftest.py)."""


def _orders(n: float) -> tuple[float, ...]:
    return (500.0, 50.0, 25.0, 30.0 * n, n)  # impressions, clicks, spend, sales, orders


def _sync(store: MetricStore, morning: datetime.date, days: dict[str, float]) -> None:
    """One daily Ads sync: the keyword's figures as Amazon reports them that morning."""
    points = {day: _orders(n) for day, n in days.items()}
    store.write("acme", "A1", Interval.D1, PPC_MEASURES, {"K1": points}, seen_on=morning)


def _window(store: MetricStore) -> tuple[dict[str, object], object]:
    seen: dict[str, dict[str, tuple[int, tuple[float, ...]]]] = {}
    start, end = datetime.datetime(2026, 4, 1), datetime.datetime(2026, 4, 30)
    points = store.read_window("acme", "A1", Interval.D1, ["K1"], start, end, first_seen=seen)
    return seen, points


def test_a_restatement_replaces_the_figures_and_keeps_the_first_seen_ones() -> None:
    store = MetricStore()
    _sync(store, datetime.date(2026, 4, 11), {"2026-04-10": 6})  # the morning after: age 0
    _sync(store, datetime.date(2026, 4, 13), {"2026-04-10": 10, "2026-04-12": 7})  # restated
    seen, points = _window(store)
    assert points["K1"]["2026-04-10"] == _orders(10)  # type: ignore[index]
    assert seen["K1"] == {"2026-04-10": (0, _orders(6)), "2026-04-12": (0, _orders(7))}


def test_a_backfill_of_old_days_keeps_no_first_seen_figures() -> None:
    store = MetricStore()
    _sync(store, datetime.date(2026, 4, 20), {"2026-04-10": 6, "2026-04-16": 5})  # ages 9, 3
    seen, _ = _window(store)
    assert seen == {}


def test_the_scan_window_learns_the_lag_curve_from_first_seen_against_settled() -> None:
    store = MetricStore()
    entity = Entity(entity_id="K1", entity_type=EntityType.KEYWORD, parent_id="C1")
    for day in range(1, 21):  # each day first seen at age 0 with half its orders, settled at 10
        period = datetime.date(2026, 4, day)
        _sync(store, period + datetime.timedelta(days=1), {period.isoformat(): 5})
        _sync(store, period + datetime.timedelta(days=4), {period.isoformat(): 10})
    series = read_window(
        store, "acme", "A1", [entity], datetime.date(2026, 4, 1), datetime.date(2026, 4, 21)
    )
    # settled: the days up to 3 before the newest loaded (the 20th), 17 of them × 10 orders
    settled = 17 * 10
    expected = (17 * 5 + PRIOR_ORDERS * DEFAULT_CURVE[0]) / (settled + PRIOR_ORDERS)
    assert series.lag_curve[0] == pytest.approx(expected)
    assert series.lag_curve[1:] == pytest.approx(DEFAULT_CURVE[1:])  # nothing seen at 1, 2
