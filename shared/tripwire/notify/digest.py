"""The daily digest: per profile, yesterday's alerts by severity, unresolved criticals, mean
time to resolve — read from the statistics counters (two GetItem/Query per profile, never a
scan of the alerts) — and that day's incidents ranked by impact (one Query), published on the
alerts topic (Slack gets it through the notifier; the e-mail subscription's critical-only
filter leaves it out).

The weekly digest (Mondays, for the week that ended): alerts raised (the counters) and
incidents started against the week before, the week's incidents ranked by impact, and the
mean time to resolve over the alerts resolved in each week — from the alerts themselves
(their ``resolved_at`` and ``resolution_minutes``, one Query of the profile's alerts raised in
the last ``MTTR_LOOKBACK_DAYS``), so it is that week's, not every resolution so far.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tripwire.domain.alerts import Alert, AlertStatus, Severity
from tripwire.notify.messages import DigestCounts, WeeklyDigest
from tripwire.notify.publisher import publish
from tripwire.store import keys
from tripwire.store.alerts import AlertStore
from tripwire.store.incidents import IncidentStore
from tripwire.store.provision import aws_client
from tripwire.store.statistics import StatisticsStore, with_prefix
from tripwire.store.tables import CATALOG

UNRESOLVED = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)
WEEKLY = "weekly"
TOP_INCIDENTS = 5
MTTR_LOOKBACK_DAYS = 42  # alerts raised this long before a week count for its MTTR


def digest(
    tenant: str,
    profile: str,
    day: date,
    *,
    stats: StatisticsStore | None = None,
    incidents: IncidentStore | None = None,
) -> DigestCounts:
    """One profile's digest for ``day``: alerts raised for that day's period, by severity;
    critical alerts still unresolved; resolutions that day and the mean minutes to resolve
    (over every resolution so far — the counters keep sums, not per-day durations)."""
    stats = stats or StatisticsStore()
    totals = stats.totals(tenant, profile)
    counts = stats.days(tenant, profile, day, day).get(day, {})
    raised_by = with_prefix(counts, "raised#")
    raised = {s.value: int(raised_by.get(s.value, 0)) for s in reversed(Severity)}
    critical = sum(totals.get(f"n#{s.value}#{Severity.CRITICAL.value}", 0) for s in UNRESOLVED)
    resolved_n = totals.get("resolve_n", 0)
    return DigestCounts(
        tenant_id=tenant,
        profile_id=profile,
        day=day.isoformat(),
        raised=raised,
        raised_total=sum(raised.values()),
        unresolved_critical=int(critical),
        resolved=int(counts.get("resolved", 0)),
        mean_minutes_to_resolve=(
            round(totals.get("resolve_minutes", 0) / resolved_n, 1) if resolved_n else None
        ),
        top_incidents=top_incidents(incidents or IncidentStore(), tenant, profile, day),
    )


def top_incidents(
    store: IncidentStore, tenant: str, profile: str, day: date, last: date | None = None
) -> list[str]:
    """The incidents running on ``day`` (or any day to ``last``), costliest first, as
    headlines a person reads."""
    until = (last or day).isoformat()
    running = [
        g for g in store.groups(tenant, profile, since=day.isoformat()) if g.first_period <= until
    ]
    running.sort(key=lambda g: (-g.revenue_impact, -g.severity.rank, g.group_id))
    return [
        f"{g.headline} · {g.members} alert{'s' if g.members != 1 else ''}"
        for g in running[:TOP_INCIDENTS]
    ]


def weekly_digest(
    tenant: str,
    profile: str,
    monday: date,
    *,
    stats: StatisticsStore | None = None,
    incidents: IncidentStore | None = None,
    alerts: AlertStore | None = None,
) -> WeeklyDigest:
    """The week from ``monday`` to its Sunday against the week before."""
    stats, incidents = stats or StatisticsStore(), incidents or IncidentStore()
    before, sunday = monday - timedelta(days=7), monday + timedelta(days=6)
    days = stats.days(tenant, profile, before, sunday)

    def raised(first: date) -> int:
        week = (c for d, c in days.items() if first <= d <= first + timedelta(days=6))
        return int(sum(sum(with_prefix(c, "raised#").values()) for c in week))

    started = [
        g.first_period[:10] for g in incidents.groups(tenant, profile, since=before.isoformat())
    ]
    since = datetime.combine(before - timedelta(days=MTTR_LOOKBACK_DAYS), time.min)
    resolved = [
        a
        for a in (alerts or AlertStore()).of_profile_since(tenant, profile, since)
        if a.resolved_at is not None and a.resolution_minutes is not None
    ]
    this_week = _resolved_in(resolved, monday)
    return WeeklyDigest(
        tenant_id=tenant,
        profile_id=profile,
        week=monday.isoformat(),
        raised=raised(monday),
        raised_before=raised(before),
        incidents=sum(monday.isoformat() <= d <= sunday.isoformat() for d in started),
        incidents_before=sum(before.isoformat() <= d < monday.isoformat() for d in started),
        resolved=len(this_week),
        mttr_minutes=_mean(this_week),
        mttr_before=_mean(_resolved_in(resolved, before)),
        top_incidents=top_incidents(incidents, tenant, profile, monday, sunday),
    )


def _resolved_in(alerts: list[Alert], monday: date) -> list[float]:
    """Minutes to resolve of the alerts resolved from ``monday`` to its Sunday (UTC)."""
    first, last = monday, monday + timedelta(days=6)
    return [
        a.resolution_minutes
        for a in alerts
        if a.resolved_at is not None
        and a.resolution_minutes is not None
        and first <= _utc_day(a.resolved_at) <= last
    ]


def _utc_day(moment: datetime) -> date:
    return (moment.astimezone(UTC) if moment.tzinfo else moment).date()


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def all_profiles(dynamodb: Any = None) -> Iterator[tuple[str, str]]:
    """Every (tenant, profile) in the catalog. A Scan (profiles live under their tenant's
    partition and nothing lists tenants); once a day it is cheap enough."""
    client = dynamodb or aws_client("dynamodb")
    prefix = keys.profile_item_sk("")
    params: dict[str, Any] = {
        "TableName": CATALOG.name,
        "FilterExpression": "begins_with(sk, :p)",
        "ProjectionExpression": "pk, sk",
        "ExpressionAttributeValues": {":p": {"S": prefix}},
    }
    while True:
        page = client.scan(**params)
        for item in page.get("Items", []):
            yield item["pk"]["S"], item["sk"]["S"].removeprefix(prefix)
        if not page.get("LastEvaluatedKey"):
            return
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def send_digests(
    day: date, profiles: Iterable[tuple[str, str]] | None = None, *, sns: Any = None
) -> list[DigestCounts]:
    """Publish one digest per profile for ``day``; returns what was published. A profile
    with nothing raised, resolved or still critical that day gets none (no daily noise)."""
    sent = []
    for tenant, profile in sorted(profiles if profiles is not None else all_profiles()):
        message = digest(tenant, profile, day)
        if message.raised_total or message.resolved or message.unresolved_critical:
            publish(message, sns=sns)
            sent.append(message)
    return sent


def send_weekly_digests(
    monday: date, profiles: Iterable[tuple[str, str]] | None = None, *, sns: Any = None
) -> list[WeeklyDigest]:
    """Publish one weekly digest per profile that had anything in either week."""
    sent = []
    for tenant, profile in sorted(profiles if profiles is not None else all_profiles()):
        message = weekly_digest(tenant, profile, monday)
        if message.raised or message.raised_before or message.resolved or message.incidents:
            publish(message, sns=sns)
            sent.append(message)
    return sent


def is_weekly(event: dict[str, Any]) -> bool:
    """The weekly rule's events carry ``detail.digest = "weekly"`` (infra, the CLI)."""
    return (event.get("detail") or {}).get("digest") == WEEKLY


def week_to_digest(event: dict[str, Any]) -> date:
    """The Monday of ``detail.week`` if given, else of the last full week before the event."""
    chosen = (event.get("detail") or {}).get("week")
    if chosen:
        day = date.fromisoformat(chosen)
        return day - timedelta(days=day.weekday())
    today = day_to_digest({"time": event.get("time")}) + timedelta(days=1)
    return today - timedelta(days=today.weekday() + 7)


def day_to_digest(event: dict[str, Any]) -> date:
    """``detail.day`` of a hand-sent event, else the day before the schedule fired (UTC)."""
    chosen = (event.get("detail") or {}).get("day")
    if chosen:
        return date.fromisoformat(chosen)
    fired = event.get("time")
    now = datetime.fromisoformat(fired.replace("Z", "+00:00")) if fired else datetime.now(UTC)
    return now.date() - timedelta(days=1)
