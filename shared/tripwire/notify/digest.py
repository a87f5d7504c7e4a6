"""The daily digest: per profile, yesterday's alerts by severity, unresolved criticals, mean
time to resolve — read from the statistics counters (two GetItem/Query per profile, never a
scan of the alerts) — and that day's incidents ranked by impact (one Query), published on the
alerts topic (Slack gets it through the notifier; the e-mail subscription's critical-only
filter leaves it out).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tripwire.domain.alerts import AlertStatus, Severity
from tripwire.notify.messages import DigestCounts
from tripwire.notify.publisher import publish
from tripwire.store import keys
from tripwire.store.incidents import IncidentStore
from tripwire.store.provision import aws_client
from tripwire.store.statistics import StatisticsStore, with_prefix
from tripwire.store.tables import CATALOG

UNRESOLVED = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)
TOP_INCIDENTS = 5


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


def top_incidents(store: IncidentStore, tenant: str, profile: str, day: date) -> list[str]:
    """The incidents running on ``day``, costliest first, as headlines a person reads."""
    running = [
        g
        for g in store.groups(tenant, profile, since=day.isoformat())
        if g.first_period <= day.isoformat()
    ]
    running.sort(key=lambda g: (-g.revenue_impact, -g.severity.rank, g.group_id))
    return [
        f"{g.headline} · {g.members} alert{'s' if g.members != 1 else ''}"
        for g in running[:TOP_INCIDENTS]
    ]


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


def day_to_digest(event: dict[str, Any]) -> date:
    """``detail.day`` of a hand-sent event, else the day before the schedule fired (UTC)."""
    chosen = (event.get("detail") or {}).get("day")
    if chosen:
        return date.fromisoformat(chosen)
    fired = event.get("time")
    now = datetime.fromisoformat(fired.replace("Z", "+00:00")) if fired else datetime.now(UTC)
    return now.date() - timedelta(days=1)
