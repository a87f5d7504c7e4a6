"""How keys are spelled. Every partition key starts with the tenant (see tables.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tripwire.domain.metrics import Interval

SEP = "#"


def profile_pk(tenant: str, profile: str) -> str:
    return f"{tenant}{SEP}{profile}"


def profile_item_sk(profile: str) -> str:
    return f"PROFILE{SEP}{profile}"


def hierarchy_sk(chunk: int | None = None) -> str:
    """The hierarchy head item (``None``) or one of its chunks."""
    return "HIERARCHY" if chunk is None else f"HIERARCHY{SEP}{chunk:04d}"


def metric_sk(interval: Interval, entity: str, bucket: str) -> str:
    return f"M{SEP}{interval.value}{SEP}{entity}{SEP}{bucket}"


def bucket_of(period: datetime, interval: Interval) -> str:
    """The time bucket a period's point lives in.

    Sized so an item stays far below DynamoDB's 400 KB and holds little beyond what a scan
    window reads: a year of daily points; a week of hourly ones, named by its Monday
    (``2026-06-08``: an hourly window of two weeks and a day reads three or four small items
    where a month bucket made it decode up to six weeks); a day of 5/15-minute bars.

    Hourly points written before week buckets (month buckets, ``2026-06``) are not read: see
    ``store/metrics.py``.
    """
    if interval is Interval.D1:
        return f"{period.year:04d}"
    if interval is Interval.H1:
        return week_of(period).isoformat()
    return period.date().isoformat()


def week_of(period: datetime) -> date:
    """The Monday of the period's week (weeks run Monday 00:00 to Sunday 23:00)."""
    return period.date() - timedelta(days=period.weekday())


def buckets_between(start: datetime, end: datetime, interval: Interval) -> list[str]:
    """Every bucket touched by the closed range [start, end], in order."""
    if end < start:
        return []
    if interval is Interval.D1:
        return [f"{y:04d}" for y in range(start.year, end.year + 1)]
    if interval is Interval.H1:
        first, last = week_of(start), week_of(end)
        weeks = (last - first).days // 7
        return [(first + timedelta(weeks=i)).isoformat() for i in range(weeks + 1)]
    days = (end.date() - start.date()).days
    return [(start.date() + timedelta(days=i)).isoformat() for i in range(days + 1)]
