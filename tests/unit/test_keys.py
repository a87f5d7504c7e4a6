"""Key design: time buckets keep a scan window within a few small items per entity."""

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
def test_an_hourly_window_reads_the_weeks_it_touches_and_no_more(end: datetime, hours: int) -> None:
    end = end.replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=hours - 1)
    buckets = keys.buckets_between(start, end, Interval.H1)
    assert len(buckets) <= hours // (7 * 24) + 2  # a partial week at each end at most
    assert buckets[0] == keys.bucket_of(start, Interval.H1)
    assert buckets[-1] == keys.bucket_of(end, Interval.H1)
    assert len(set(buckets)) == len(buckets)


def test_an_hourly_week_runs_from_monday_0000_to_sunday_2300() -> None:
    sunday_late, monday = datetime(2026, 6, 14, 23), datetime(2026, 6, 15, 0)
    assert keys.bucket_of(sunday_late, Interval.H1) == "2026-06-08"
    assert keys.bucket_of(monday, Interval.H1) == "2026-06-15"
    assert keys.buckets_between(sunday_late, monday, Interval.H1) == ["2026-06-08", "2026-06-15"]
    assert keys.buckets_between(monday, monday + timedelta(hours=167), Interval.H1) == [
        "2026-06-15"
    ]


def test_an_hourly_week_spans_the_year_end_and_iso_week_53() -> None:
    """2026 has an ISO week 53 (Monday 28 December to Sunday 3 January 2027): one bucket,
    named by its Monday, holds it whole."""
    new_year = datetime(2027, 1, 1, 0)
    assert new_year.isocalendar()[:2] == (2026, 53)
    week = {
        keys.bucket_of(datetime(2026, 12, 28) + timedelta(hours=h), Interval.H1) for h in range(168)
    }
    assert week == {"2026-12-28"}
    assert keys.bucket_of(datetime(2027, 1, 4), Interval.H1) == "2027-01-04"
    assert keys.buckets_between(datetime(2026, 12, 27, 23), new_year, Interval.H1) == [
        "2026-12-21",
        "2026-12-28",
    ]


def test_daily_and_intraday_buckets_are_unchanged() -> None:
    assert keys.bucket_of(datetime(2026, 6, 14, 23), Interval.D1) == "2026"
    assert keys.bucket_of(datetime(2026, 6, 14, 23, 55), Interval.M5) == "2026-06-14"


def test_every_key_starts_with_the_tenant() -> None:
    assert keys.profile_pk("t1", "p1").startswith("t1#")
    assert keys.metric_sk(Interval.D1, "K1", "2026") == "M#1d#K1#2026"


def test_physical_names_cover_every_table() -> None:
    names = physical_names("demo")
    assert all(names[table.env_var] == f"demo-{table.logical}" for table in TABLES)
