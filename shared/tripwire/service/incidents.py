"""Incident groups for new alerts: the grouping rule (``rootcause.incidents.assign``) applied
to what a scan found, continuing the groups known so far — persisted in the incidents table
(scan, ``/detect``, markets) or kept in memory (``tripwire backtest``'s ``IncidentBook``).
A redelivered scan gets the same group ids and changes no count."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tripwire.domain.alerts import Alert
from tripwire.domain.incidents import ordinal, period_key, shift
from tripwire.domain.metrics import Interval
from tripwire.rootcause.grouping import GroupMember, resolve_roots
from tripwire.rootcause.incidents import MAX_GAP, ONSET_LOOKBACK, assign
from tripwire.store.incidents import IncidentStore

Assign = Callable[[Sequence[GroupMember]], dict[tuple[str, str], str]]


def lookback_start(first_period: str, interval: Interval = Interval.D1) -> str:
    """The earliest period whose alerts tell when an anomaly scored at ``first_period`` began."""
    return shift(first_period, -ONSET_LOOKBACK, interval)


def with_groups(alerts: Sequence[Alert], add: Assign) -> list[Alert]:
    """The alerts with their incident ``group_id`` (call before storing them)."""
    if not alerts:
        return []
    members = [
        GroupMember(
            a.entity_id,
            period_key(a.period, a.interval),
            a.severity,
            tuple(a.root_causes),
            a.impact,
            a.entity_name,
        )
        for a in alerts
    ]
    group_of = add(resolve_roots(members))
    return [
        a.model_copy(update={"group_id": group_of[(m.entity_id, m.period)]})
        for a, m in zip(alerts, members, strict=True)
    ]


def group_new_alerts(
    tenant: str, profile: str, alerts: Sequence[Alert], store: IncidentStore | None = None
) -> list[Alert]:
    """New alerts with their persisted incident group (continuing the stored groups)."""
    if not alerts:
        return []
    interval = alerts[0].interval
    return with_groups(
        alerts, lambda members: assign_and_record(tenant, profile, members, interval, store)
    )


def assign_and_record(
    tenant: str,
    profile: str,
    members: Sequence[GroupMember],
    interval: Interval = Interval.D1,
    store: IncidentStore | None = None,
) -> dict[tuple[str, str], str]:
    """Group ids for new alerts, continuing the profile's stored groups; stores the result."""
    if not members:
        return {}
    store = store or IncidentStore()
    earliest = min((m.period for m in members), key=lambda p: ordinal(p, interval))
    known = store.groups(tenant, profile, since=shift(earliest, -(MAX_GAP + 1), interval))
    assignment = assign(known, members, interval)
    store.record(tenant, profile, assignment.batches)
    return assignment.group_of
