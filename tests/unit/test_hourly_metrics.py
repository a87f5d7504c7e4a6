"""Hourly points are stored a calendar month per item (packed) and read back alike as points
(``read_window``) and as the scan's dense window (``read_hours``); month items of the older
JSON layout, or packed without their key inside, are read too — DynamoDB in-process."""

from __future__ import annotations

import base64
import datetime
import json
import zlib

import numpy as np
import pytest

from tripwire.domain.metrics import OHLCV_MEASURES, PPC_MEASURES, Interval
from tripwire.store.metrics import MetricStore
from tripwire.store.tables import METRICS

LAST = datetime.datetime(2026, 6, 30, 23)  # the last hour of June
FIRST = LAST + datetime.timedelta(hours=1)  # the first of July


@pytest.fixture(autouse=True)
def aws(moto_aws: None) -> None:
    """Every test here runs against moto in-process (tests/unit/conftest.py)."""


def _hour(h: datetime.datetime) -> str:
    return h.isoformat()


def _write(store: MetricStore, points: dict[str, tuple[float, ...]], entity: str = "K1") -> int:
    summary = store.write("acme", "A1", Interval.H1, PPC_MEASURES, {entity: points})
    return summary.items_written


def test_hours_either_side_of_a_month_end_go_to_two_month_items_and_read_back() -> None:
    store = MetricStore()
    points = {_hour(LAST): (10.0, 1.0, 0.37, 0.0, 0.0), _hour(FIRST): (4.0, 0.0, 0, 0, 0)}
    assert _write(store, points) == 2
    window = store.read_window("acme", "A1", Interval.H1, ["K1"], LAST, FIRST)
    assert window == {"K1": points}
    only_july = store.read_window("acme", "A1", Interval.H1, ["K1"], FIRST, FIRST)
    assert only_july == {"K1": {_hour(FIRST): (4.0, 0.0, 0.0, 0.0, 0.0)}}


def test_the_same_hours_twice_write_nothing_and_a_restated_hour_replaces_its_values() -> None:
    store = MetricStore()
    points = {_hour(LAST): (10.0, 1.0, 0.37, 0.0, 0.0)}
    assert _write(store, points) == 1
    assert _write(store, points) == 0
    assert _write(store, {_hour(LAST): (10.0, 1.0, 0.37, 24.99, 1.0)}) == 1
    window = store.read_window("acme", "A1", Interval.H1, ["K1"], LAST, LAST)
    assert window["K1"][_hour(LAST)] == (10.0, 1.0, 0.37, 24.99, 1.0)


def test_the_dense_window_places_each_hour_and_leaves_the_rest_zero() -> None:
    store = MetricStore()
    start = LAST - datetime.timedelta(hours=1)
    _write(store, {_hour(LAST): (10.0, 1.0, 0.37, 0.0, 0.0), _hour(FIRST): (4, 1, 2, 3, 1)})
    _write(store, {_hour(start - datetime.timedelta(hours=1)): (9, 9, 9, 9, 9)}, "K2")  # before
    raw = store.read_hours("acme", "A1", ["K2", "K1", "K3"], PPC_MEASURES, start, 3)
    assert raw.shape == (3, 3, len(PPC_MEASURES))
    assert raw[1].tolist() == [[0, 0, 0, 0, 0], [10, 1, 0.37, 0, 0], [4, 1, 2, 3, 1]]
    assert not raw[0].any() and not raw[2].any()  # outside the window; nothing stored


def test_the_dense_window_follows_the_measures_asked_for_and_skips_bars_off_the_hour() -> None:
    store = MetricStore()
    bar = (1.0, 2.0, 0.5, 1.5, 100.0)  # OHLCV_MEASURES order
    half_past = LAST.replace(minute=30)
    store.write("acme", "M1", Interval.H1, OHLCV_MEASURES, {"T": {_hour(LAST): bar}})
    store.write("acme", "M1", Interval.H1, OHLCV_MEASURES, {"T": {_hour(half_past): bar}})
    backwards = list(reversed(OHLCV_MEASURES))
    raw = store.read_hours("acme", "M1", ["T"], backwards, LAST, 2)
    assert raw[0, 0].tolist() == list(reversed(bar))
    assert not raw[0, 1].any()
    points = store.read_window("acme", "M1", Interval.H1, ["T"], LAST, FIRST)["T"]
    assert list(points) == [_hour(LAST), _hour(half_past)]  # the bar is still kept
    with pytest.raises(ValueError, match="stored with measures"):
        store.read_hours("acme", "M1", ["T"], PPC_MEASURES, LAST, 1)


@pytest.mark.parametrize(
    ("last", "first"),
    [
        (datetime.datetime(2026, 12, 31, 23), datetime.datetime(2027, 1, 1, 0)),  # year end
        (datetime.datetime(2028, 2, 29, 23), datetime.datetime(2028, 3, 1, 0)),  # leap Feb
    ],
)
def test_month_ends_at_the_year_end_and_in_a_leap_february(
    last: datetime.datetime, first: datetime.datetime
) -> None:
    store = MetricStore()
    start = last - datetime.timedelta(hours=28 * 24)  # 28 days before: the same month
    points = {_hour(h): (i + 1.0, 1.0, 0.5, 0, 0) for i, h in enumerate((start, last, first))}
    assert _write(store, points) == 2
    raw = store.read_hours("acme", "A1", ["K1"], PPC_MEASURES, start, 28 * 24 + 2)
    assert raw[0, [0, -2, -1], 0].tolist() == [1.0, 2.0, 3.0]
    assert raw[0, 1:-2].sum() == 0
    assert store.read_window("acme", "A1", Interval.H1, ["K1"], start, first) == {"K1": points}


def test_a_month_item_of_the_older_json_layout_is_still_read_and_rewritten_packed() -> None:
    store = MetricStore()
    old = {
        _hour(LAST - datetime.timedelta(hours=1)): [3, 1, 0.5, 0, 0],
        _hour(LAST): [7, 2, 1, 9, 1],
    }
    body = {"measures": list(PPC_MEASURES), "points": old}
    sk = "M#1h#K1#2026-06"
    store._client.put_item(  # as the JSON layout stored it
        TableName=METRICS.name,
        Item={
            "pk": {"S": "acme#A1"},
            "sk": {"S": sk},
            "points": {"S": json.dumps(body)},
            "n": {"N": "2"},
        },
    )
    _write(store, {_hour(FIRST): (4, 0, 0, 0, 0)})  # July: a packed item beside it
    start = LAST - datetime.timedelta(hours=2)
    raw = store.read_hours("acme", "A1", ["K1"], PPC_MEASURES, start, 4)
    assert raw[0].tolist() == [[0, 0, 0, 0, 0], [3, 1, 0.5, 0, 0], [7, 2, 1, 9, 1], [4, 0, 0, 0, 0]]
    window = store.read_window("acme", "A1", Interval.H1, ["K1"], start, FIRST)["K1"]
    assert list(window) == [*old, _hour(FIRST)]
    # a later write to June merges into it and stores it packed
    assert _write(store, {_hour(LAST): (8, 2, 1, 9, 1)}) == 1
    item = store._client.get_item(
        TableName=METRICS.name, Key={"pk": {"S": "acme#A1"}, "sk": {"S": sk}}
    )
    assert "packed" in item["Item"] and "points" not in item["Item"]
    raw = store.read_hours("acme", "A1", ["K1"], PPC_MEASURES, start, 4)
    assert raw[0, 1:3].tolist() == [[3, 1, 0.5, 0, 0], [8, 2, 1, 9, 1]]


def test_each_month_is_read_once_when_it_names_its_own_key() -> None:
    """The scan's read projects the month's one attribute, which names the item's key: no
    second read (months with nothing stored are not asked for again either)."""
    store = MetricStore()
    _write(store, {_hour(LAST): (1, 0, 0, 0, 0), _hour(FIRST): (2, 0, 0, 0, 0)}, "K1")
    _write(store, {_hour(FIRST): (3, 0, 0, 0, 0)}, "K2")
    store.reads = 0
    raw = store.read_hours("acme", "A1", ["K1", "K2", "K3"], PPC_MEASURES, LAST, 2)
    assert raw[:, :, 0].tolist() == [[1, 2], [0, 3], [0, 0]]
    assert store.reads == 3  # K1's June and July, K2's July


def test_a_packed_month_stored_without_its_key_inside_is_read_by_its_key() -> None:
    """Months packed before the key was kept inside (a JSON list of measures as the head)."""
    store = MetricStore()
    june = datetime.datetime(2026, 6, 1)
    offsets = np.array([(LAST - june).total_seconds()], dtype=np.int32)
    values = np.array([[7, 2, 1, 9, 1]], dtype=np.float64)
    head = json.dumps(list(PPC_MEASURES)).encode() + b"\n"
    packed = base64.b64encode(zlib.compress(head + offsets.tobytes() + values.tobytes()))
    store._client.put_item(
        TableName=METRICS.name,
        Item={
            "pk": {"S": "acme#A1"},
            "sk": {"S": "M#1h#K1#2026-06"},
            "packed": {"S": packed.decode()},
            "n": {"N": "1"},
        },
    )
    _write(store, {_hour(FIRST): (4, 0, 0, 0, 0)}, "K1")  # July, current layout
    _write(store, {_hour(LAST): (5, 0, 0, 0, 0)}, "K2")
    store.reads = 0
    raw = store.read_hours("acme", "A1", ["K1", "K2"], PPC_MEASURES, LAST, 2)
    assert raw[0].tolist() == [[7, 2, 1, 9, 1], [4, 0, 0, 0, 0]]
    assert raw[1, :, 0].tolist() == [5, 0]
    assert store.reads == 3 + 1  # the older June read again with its key
    window = store.read_window("acme", "A1", Interval.H1, ["K1"], LAST, FIRST)["K1"]
    assert window == {_hour(LAST): (7, 2, 1, 9, 1), _hour(FIRST): (4, 0, 0, 0, 0)}


def test_a_full_month_stays_far_below_the_item_limit() -> None:
    """31 days × 24 hours × 5 measures of incompressible values (the worst case): ~41 KB,
    against DynamoDB's 400 KB; a keyword's generated month is a few KB."""
    store = MetricStore()
    july = FIRST
    rng = np.random.default_rng(3)
    noise = {
        _hour(july + datetime.timedelta(hours=h)): tuple(rng.random(5).tolist()) for h in range(744)
    }
    _write(store, noise, "K1")
    counts = {
        _hour(july + datetime.timedelta(hours=h)): (float(i), float(c), round(c * 0.87, 2), 0, 0)
        for h, (i, c) in enumerate(zip(rng.poisson(8, 744), rng.poisson(0.4, 744), strict=True))
    }
    _write(store, counts, "K2")

    def size(entity: str) -> int:
        key = {"pk": {"S": "acme#A1"}, "sk": {"S": f"M#1h#{entity}#2026-07"}}
        return len(store._client.get_item(TableName=METRICS.name, Key=key)["Item"]["packed"]["S"])

    assert size("K1") < 48 * 1024 and size("K2") < 8 * 1024
    raw = store.read_hours("acme", "A1", ["K1", "K2"], PPC_MEASURES, july, 744)
    assert raw[0].tolist() == [list(v) for v in noise.values()]
    assert raw[1].tolist() == [list(v) for v in counts.values()]
