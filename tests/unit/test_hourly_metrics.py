"""Hourly points are stored a week per item (Monday-named, packed) and read back alike as
points (``read_window``) and as the scan's dense window (``read_hours``) — DynamoDB
in-process."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

from tripwire.domain.metrics import OHLCV_MEASURES, PPC_MEASURES, Interval
from tripwire.store.metrics import MetricStore
from tripwire.store.tables import METRICS

SUNDAY_LATE = datetime.datetime(2026, 6, 14, 23)  # the last hour of the week of 8 June
MONDAY = SUNDAY_LATE + datetime.timedelta(hours=1)


@pytest.fixture(autouse=True)
def aws(moto_aws: None) -> None:
    """Every test here runs against moto in-process (tests/unit/conftest.py)."""


def _hour(h: datetime.datetime) -> str:
    return h.isoformat()


def _write(store: MetricStore, points: dict[str, tuple[float, ...]], entity: str = "K1") -> int:
    summary = store.write("acme", "A1", Interval.H1, PPC_MEASURES, {entity: points})
    return summary.items_written


def test_hours_either_side_of_monday_midnight_go_to_two_week_items_and_read_back() -> None:
    store = MetricStore()
    points = {_hour(SUNDAY_LATE): (10.0, 1.0, 0.37, 0.0, 0.0), _hour(MONDAY): (4.0, 0.0, 0, 0, 0)}
    assert _write(store, points) == 2
    window = store.read_window("acme", "A1", Interval.H1, ["K1"], SUNDAY_LATE, MONDAY)
    assert window == {"K1": points}
    only_monday = store.read_window("acme", "A1", Interval.H1, ["K1"], MONDAY, MONDAY)
    assert only_monday == {"K1": {_hour(MONDAY): (4.0, 0.0, 0.0, 0.0, 0.0)}}


def test_the_same_hours_twice_write_nothing_and_a_restated_hour_replaces_its_values() -> None:
    store = MetricStore()
    points = {_hour(SUNDAY_LATE): (10.0, 1.0, 0.37, 0.0, 0.0)}
    assert _write(store, points) == 1
    assert _write(store, points) == 0
    assert _write(store, {_hour(SUNDAY_LATE): (10.0, 1.0, 0.37, 24.99, 1.0)}) == 1
    window = store.read_window("acme", "A1", Interval.H1, ["K1"], SUNDAY_LATE, SUNDAY_LATE)
    assert window["K1"][_hour(SUNDAY_LATE)] == (10.0, 1.0, 0.37, 24.99, 1.0)


def test_the_dense_window_places_each_hour_and_leaves_the_rest_zero() -> None:
    store = MetricStore()
    start = SUNDAY_LATE - datetime.timedelta(hours=1)
    _write(store, {_hour(SUNDAY_LATE): (10.0, 1.0, 0.37, 0.0, 0.0), _hour(MONDAY): (4, 1, 2, 3, 1)})
    _write(store, {_hour(start - datetime.timedelta(hours=1)): (9, 9, 9, 9, 9)}, "K2")  # before
    raw = store.read_hours("acme", "A1", ["K2", "K1", "K3"], PPC_MEASURES, start, 3)
    assert raw.shape == (3, 3, len(PPC_MEASURES))
    assert raw[1].tolist() == [[0, 0, 0, 0, 0], [10, 1, 0.37, 0, 0], [4, 1, 2, 3, 1]]
    assert not raw[0].any() and not raw[2].any()  # outside the window; nothing stored


def test_the_dense_window_follows_the_measures_asked_for_and_skips_bars_off_the_hour() -> None:
    store = MetricStore()
    bar = (1.0, 2.0, 0.5, 1.5, 100.0)  # OHLCV_MEASURES order
    half_past = SUNDAY_LATE.replace(minute=30)
    store.write("acme", "M1", Interval.H1, OHLCV_MEASURES, {"T": {_hour(SUNDAY_LATE): bar}})
    store.write("acme", "M1", Interval.H1, OHLCV_MEASURES, {"T": {_hour(half_past): bar}})
    backwards = list(reversed(OHLCV_MEASURES))
    raw = store.read_hours("acme", "M1", ["T"], backwards, SUNDAY_LATE, 2)
    assert raw[0, 0].tolist() == list(reversed(bar))
    assert not raw[0, 1].any()
    points = store.read_window("acme", "M1", Interval.H1, ["T"], SUNDAY_LATE, MONDAY)["T"]
    assert list(points) == [_hour(SUNDAY_LATE), _hour(half_past)]  # the bar is still kept
    with pytest.raises(ValueError, match="stored with measures"):
        store.read_hours("acme", "M1", ["T"], PPC_MEASURES, SUNDAY_LATE, 1)


def test_a_full_week_of_a_keyword_stays_a_small_item() -> None:
    store = MetricStore()
    monday = MONDAY
    rng = np.random.default_rng(3)
    week = {
        _hour(monday + datetime.timedelta(hours=h)): (float(i), float(c), round(c * 0.87, 2), 0, 0)
        for h, (i, c) in enumerate(zip(rng.poisson(8, 168), rng.poisson(0.4, 168), strict=True))
    }
    _write(store, week)
    item = store._client.get_item(  # the stored item's size, as DynamoDB counts it
        TableName=METRICS.name,
        Key={"pk": {"S": "acme#A1"}, "sk": {"S": f"M#1h#K1#{monday.date().isoformat()}"}},
    )["Item"]
    assert len(item["week"]["S"]) < 8 * 1024  # 400 KB is the item limit
    raw = store.read_hours("acme", "A1", ["K1"], PPC_MEASURES, monday, 168)
    assert raw[0].tolist() == [list(v) for v in week.values()]
