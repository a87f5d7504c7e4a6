"""How keys are spelled. Every partition key starts with the tenant (see tables.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

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

    Sized so an item stays far below DynamoDB's 400 KB and a scan window spans few items: a
    year of daily points; a calendar month of hourly ones (``2026-06``: a 354-hour window
    spans one or two, up to 744 hours each, packed — store/metrics.py); a day of 5/15-minute
    bars.
    """
    if interval is Interval.D1:
        return f"{period.year:04d}"
    if interval is Interval.H1:
        return f"{period.year:04d}-{period.month:02d}"
    return period.date().isoformat()


def bucket_start(bucket: str, interval: Interval) -> datetime:
    """The first instant of a bucket (``2026-06`` → 1 June 2026 00:00)."""
    if interval is Interval.D1:
        return datetime(int(bucket), 1, 1)
    if interval is Interval.H1:
        year, month = bucket.split("-")
        return datetime(int(year), int(month), 1)
    return datetime.fromisoformat(bucket)


def buckets_between(start: datetime, end: datetime, interval: Interval) -> list[str]:
    """Every bucket touched by the closed range [start, end], in order."""
    if end < start:
        return []
    if interval is Interval.D1:
        return [f"{y:04d}" for y in range(start.year, end.year + 1)]
    if interval is Interval.H1:
        months = []
        y, m = start.year, start.month
        while (y, m) <= (end.year, end.month):
            months.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return months
    days = (end.date() - start.date()).days
    return [(start.date() + timedelta(days=i)).isoformat() for i in range(days + 1)]
