"""Incident groups as data: a group's per-period batches, its derived fields, and how a
period is spelled and counted in bars. The grouping rule is ``tripwire.rootcause.incidents``;
the store keeps these as they are."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from tripwire.domain.alerts import Impact, Severity, entity_label, impact_text, total_impact
from tripwire.domain.entities import EntityType
from tripwire.domain.metrics import Interval

_STEP = {
    Interval.D1: datetime.timedelta(days=1),
    Interval.H1: datetime.timedelta(hours=1),
    Interval.M15: datetime.timedelta(minutes=15),
    Interval.M5: datetime.timedelta(minutes=5),
}
_EPOCH = datetime.datetime(2000, 1, 1)


# -- periods --------------------------------------------------------------------------------


def period_key(moment: datetime.date | datetime.datetime, interval: Interval = Interval.D1) -> str:
    """How a period is spelled in group ids and keys: a date for daily bars, else ISO time."""
    if interval is Interval.D1:
        return (moment.date() if isinstance(moment, datetime.datetime) else moment).isoformat()
    if not isinstance(moment, datetime.datetime):
        moment = datetime.datetime.combine(moment, datetime.time())
    return moment.replace(tzinfo=None).isoformat()


def ordinal(period: str, interval: Interval = Interval.D1) -> int:
    """The period as a count of bars (periods one bar apart differ by one)."""
    moment = datetime.datetime.fromisoformat(period).replace(tzinfo=None)
    return (moment - _EPOCH) // _STEP[interval]


def shift(period: str, bars: int, interval: Interval = Interval.D1) -> str:
    moment = datetime.datetime.fromisoformat(period).replace(tzinfo=None)
    return period_key(moment + bars * _STEP[interval], interval)


# -- groups ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupBatch:
    """One group's new members in one period: what a scan adds to a group."""

    group_id: str
    root_entity: str
    root_type: EntityType | None
    period: str
    entities: frozenset[str]
    severity: Severity  # the worst of these members
    cause: str  # the root cause sentence as these members see it
    root_alerted: bool  # the root entity itself is among the members (its view is the best)
    root_name: str = ""
    impact: Impact | None = None  # this period's: the root's own, else the largest member's


@dataclass(frozen=True)
class IncidentGroup:
    group_id: str
    root_entity: str
    root_type: EntityType | None
    first_period: str
    last_period: str
    severity: Severity  # the worst member's
    members: int  # alerts: (entity, period) pairs
    affected: int  # distinct entities
    cause: str
    root_name: str = ""
    impact: Impact | None = None  # summed over its periods, never over nested members

    @property
    def root_label(self) -> str:
        kind = self.root_type.value if self.root_type else ""
        return entity_label(kind, self.root_entity, self.root_name).strip()

    @property
    def revenue_impact(self) -> float:
        return self.impact.revenue_impact if self.impact else 0.0

    @property
    def headline(self) -> str:
        """ "critical · campaign 'Garden | SP | Broad | Tools' (A1-C24) · wasted spend $1,234"."""
        cost = impact_text(self.impact) or "no measurable cost"
        return f"{self.severity.value} · {self.root_label} · {cost}"

    @property
    def summary(self) -> str:
        span = self.first_period
        if self.last_period != self.first_period:
            span = f"{self.first_period}..{self.last_period}"
        alerts = f"{self.members} alert{'s' if self.members != 1 else ''}"
        on = f"{self.affected} entit{'ies' if self.affected != 1 else 'y'}"
        head = f"{span}: {alerts} on {on} traced to {self.root_label} (worst {self.severity.value})"
        detail = self.cause.split(": ", 1)[-1] if self.cause else ""
        return f"{head}: {detail}" if detail else head


def summarise(batches: Iterable[GroupBatch]) -> IncidentGroup:
    """A group's fields from all its batches (any order, duplicates allowed)."""
    items = sorted(batches, key=lambda b: (b.period, not b.root_alerted))
    if not items:
        raise ValueError("a group needs at least one batch")
    per_period: dict[str, set[str]] = defaultdict(set)
    for batch in items:
        per_period[batch.period] |= batch.entities
    described = next((b for b in items if b.root_alerted), items[0])
    first = items[0]
    # per period the root's own view, else the largest; then summed over the periods
    best: dict[str, GroupBatch] = {}
    for batch in items:
        if batch.impact is None:
            continue
        held = best.get(batch.period)
        if (
            held is None
            or held.impact is None
            or (not held.root_alerted and batch.impact.revenue_impact > held.impact.revenue_impact)
        ):
            best[batch.period] = batch
    return IncidentGroup(
        group_id=first.group_id,
        root_entity=first.root_entity,
        root_type=first.root_type,
        first_period=min(per_period),
        last_period=max(per_period),
        severity=max((b.severity for b in items), key=lambda s: s.rank),
        members=sum(len(e) for e in per_period.values()),
        affected=len(set().union(*per_period.values())),
        cause=described.cause,
        root_name=next((b.root_name for b in items if b.root_name), ""),
        impact=total_impact(b.impact for b in best.values() if b.impact is not None),
    )
