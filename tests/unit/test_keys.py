"""Key design: time buckets keep a scan window within two items per entity."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tripwire.domain.metrics import Interval
from tripwire.store import keys
from tripwire.store.tables import TABLES, physical_names

days = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1))


@given(end=days, length=st.integers(1, 365))
def test_a_daily_window_of_up_to_a_year_spans_at_most_two_items(end: datetime, length: int) -> None:
    end = end.replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=length - 1)
    buckets = keys.buckets_between(start, end, Interval.D1)
    assert 1 <= len(buckets) <= 2
    assert keys.bucket_of(start, Interval.D1) == buckets[0]
    assert keys.bucket_of(end, Interval.D1) == buckets[-1]


@given(end=days, hours=st.integers(1, 28 * 24))
def test_an_hourly_window_of_up_to_four_weeks_spans_at_most_two_months(
    end: datetime, hours: int
) -> None:
    end = end.replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=hours - 1)
    buckets = keys.buckets_between(start, end, Interval.H1)
    assert 1 <= len(buckets) <= 2
    assert buckets[0] == keys.bucket_of(start, Interval.H1)
    assert buckets[-1] == keys.bucket_of(end, Interval.H1)
    for bucket in buckets:  # a month starts at its first hour, and holds at most 744
        first = keys.bucket_start(bucket, Interval.H1)
        assert keys.bucket_of(first, Interval.H1) == bucket
        assert keys.bucket_of(first - timedelta(hours=1), Interval.H1) != bucket
        assert keys.bucket_of(first + timedelta(hours=28 * 24 - 1), Interval.H1) == bucket
        assert keys.bucket_of(first + timedelta(hours=31 * 24), Interval.H1) != bucket


def test_the_last_hour_of_a_month_and_the_first_of_the_next_are_two_items() -> None:
    last, first = datetime(2026, 6, 30, 23), datetime(2026, 7, 1, 0)
    assert keys.bucket_of(last, Interval.H1) == "2026-06"
    assert keys.bucket_of(first, Interval.H1) == "2026-07"
    assert keys.buckets_between(last, first, Interval.H1) == ["2026-06", "2026-07"]
    assert keys.buckets_between(first, first + timedelta(hours=743), Interval.H1) == ["2026-07"]
    assert keys.bucket_start("2026-07", Interval.H1) == first


def test_an_hourly_window_across_the_year_end() -> None:
    assert keys.bucket_of(datetime(2026, 12, 31, 23), Interval.H1) == "2026-12"
    assert keys.bucket_of(datetime(2027, 1, 1, 0), Interval.H1) == "2027-01"
    window = keys.buckets_between(datetime(2026, 12, 20), datetime(2027, 1, 3, 5), Interval.H1)
    assert window == ["2026-12", "2027-01"]
    assert keys.bucket_start("2027-01", Interval.H1) == datetime(2027, 1, 1)


def test_february_of_a_leap_year_holds_its_29th() -> None:
    assert keys.bucket_of(datetime(2028, 2, 29, 23), Interval.H1) == "2028-02"
    assert keys.bucket_of(datetime(2028, 3, 1, 0), Interval.H1) == "2028-03"
    hours = keys.bucket_start("2028-03", Interval.H1) - keys.bucket_start("2028-02", Interval.H1)
    assert hours == timedelta(hours=29 * 24)


def test_daily_and_intraday_buckets_are_unchanged() -> None:
    assert keys.bucket_of(datetime(2026, 6, 14, 23), Interval.D1) == "2026"
    assert keys.bucket_of(datetime(2026, 6, 14, 23, 55), Interval.M5) == "2026-06-14"


def test_every_key_starts_with_the_tenant() -> None:
    assert keys.profile_pk("t1", "p1").startswith("t1#")
    assert keys.metric_sk(Interval.D1, "K1", "2026") == "M#1d#K1#2026"


def test_physical_names_cover_every_table() -> None:
    names = physical_names("demo")
    assert all(names[table.env_var] == f"demo-{table.logical}" for table in TABLES)
