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
def test_an_hourly_window_of_up_to_four_weeks_spans_at_most_two_items(
    end: datetime, hours: int
) -> None:
    end = end.replace(minute=0, second=0, microsecond=0)
    buckets = keys.buckets_between(end - timedelta(hours=hours - 1), end, Interval.H1)
    assert 1 <= len(buckets) <= 2


def test_every_key_starts_with_the_tenant() -> None:
    assert keys.profile_pk("t1", "p1").startswith("t1#")
    assert keys.metric_sk(Interval.D1, "K1", "2026") == "M#1d#K1#2026"


def test_physical_names_cover_every_table() -> None:
    names = physical_names("demo")
    assert all(names[table.env_var] == f"demo-{table.logical}" for table in TABLES)
