"""Incident groups that last: one root cause over consecutive periods is one group.

A scan's new alerts (each with its ranked root causes) are bucketed by (period, top root
entity). A bucket joins the known group of the same root whose periods it touches or follows
within ``MAX_GAP`` quiet periods (so a campaign paused for three days, scanned day by day, is
one group, and so is one whose second day did not alert); otherwise it opens a group named
``group_id(root, period)``. Group ids are deterministic, so a redelivered scan lands in the
same group, and membership is a set of entity ids per period, so it never counts twice.

This module is pure: ``assign`` takes the groups known so far and returns group ids plus the
per-period batches to record; ``IncidentBook`` keeps them in memory (``tripwire backtest``),
``tripwire.store.incidents`` keeps them in DynamoDB (the scan service). Both derive a group's
fields from its batches with ``summarise``, and both answer temporal precedence: which
entities alerted in the periods before a scan (``onset_runs``), i.e. when each related entity
first became anomalous (period − run).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tripwire.domain.alerts import Impact
from tripwire.domain.incidents import (
    GroupBatch,
    IncidentGroup,
    ordinal,
    period_key,
    shift,
    summarise,
)
from tripwire.domain.metrics import Interval
from tripwire.rootcause.grouping import GroupMember, group_id

MAX_GAP = 1  # quiet periods an ongoing incident may skip and stay one group
ONSET_LOOKBACK = 7  # periods looked back for how long an entity has been alerting

__all__ = [
    "MAX_GAP",
    "ONSET_LOOKBACK",
    "Assignment",
    "GroupBatch",
    "IncidentBook",
    "IncidentGroup",
    "Span",
    "assign",
    "onset_runs",
    "ordinal",
    "period_key",
    "shift",
    "summarise",
]


@dataclass(frozen=True)
class Span:
    """What ``assign`` needs to know of a known group."""

    group_id: str
    root_entity: str
    first_period: str
    last_period: str


@dataclass
class _Run:
    """A group's span in bar ordinals while ``assign`` works."""

    first: int
    last: int
    group_id: str

    def distance(self, at: int) -> int:
        return max(self.first - at, at - self.last, 0)


@dataclass
class Assignment:
    group_of: dict[tuple[str, str], str] = field(default_factory=dict)  # (entity, period) → id
    batches: list[GroupBatch] = field(default_factory=list)


def assign(
    known: Iterable[Span | IncidentGroup],
    members: Iterable[GroupMember],
    interval: Interval = Interval.D1,
    max_gap: int = MAX_GAP,
) -> Assignment:
    """Group ids for a scan's new alerts, continuing the known groups of the same root."""
    runs: dict[str, list[_Run]] = defaultdict(list)  # root → its groups' spans
    for group in known:
        first, last = ordinal(group.first_period, interval), ordinal(group.last_period, interval)
        runs[group.root_entity].append(_Run(first, last, group.group_id))
    buckets: dict[tuple[str, str], list[GroupMember]] = defaultdict(list)
    for member in members:
        buckets[(member.period, member.root_entity)].append(member)
    out = Assignment()
    for (period, root), items in sorted(
        buckets.items(), key=lambda kv: ordinal(kv[0][0], interval)
    ):
        at = ordinal(period, interval)
        run = _nearest(runs[root], at, max_gap)
        if run is None:
            run = _Run(at, at, group_id(root, period))
            runs[root].append(run)
        run.first, run.last = min(run.first, at), max(run.last, at)
        gid = run.group_id
        described = next((m for m in items if m.entity_id == root), items[0])
        cause = described.root_causes[0] if described.root_causes else None
        out.batches.append(
            GroupBatch(
                group_id=gid,
                root_entity=root,
                root_type=cause.entity_type if cause is not None else None,
                period=period,
                entities=frozenset(m.entity_id for m in items),
                severity=max((m.severity for m in items), key=lambda s: s.rank),
                cause=cause.sentence if cause is not None else "",
                root_alerted=described.entity_id == root,
                root_name=described.root_name,
                impact=period_impact(described, items, root),
            )
        )
        out.group_of.update({(m.entity_id, period): gid for m in items})
    return out


def period_impact(described: GroupMember, items: Sequence[GroupMember], root: str) -> Impact | None:
    """One period's impact of a group: the root's own when it alerted, else its largest
    member's — members nest (a keyword inside its campaign inside its account), so summing
    them would count the same money two or three times."""
    if described.entity_id == root:
        return described.impact
    found = [m.impact for m in items if m.impact is not None]
    return max(found, key=lambda i: i.revenue_impact) if found else None


def _nearest(runs: list[_Run], at: int, max_gap: int) -> _Run | None:
    """The run containing ``at`` or within ``max_gap`` quiet periods of it: the nearest, the
    earliest of equally near ones."""
    near = [r for r in runs if r.distance(at) <= max_gap + 1]
    return min(near, key=lambda r: (r.distance(at), r.first)) if near else None


# -- temporal precedence ---------------------------------------------------------------------


def onset_runs(
    alerting: Mapping[str, Iterable[str]],
    period: str,
    entity_ids: Sequence[str],
    interval: Interval = Interval.D1,
    lookback: int = ONSET_LOOKBACK,
) -> npt.NDArray[np.int64]:
    """Per entity: how many consecutive periods right before ``period`` it alerted in.

    ``alerting`` maps a period to the entities that alerted in it (from stored groups or an
    in-memory book). The entity's anomaly began ``run`` periods before ``period`` — the
    ``previous`` argument of ``tripwire.rootcause.analyse`` (temporal precedence).
    """
    run = np.zeros(len(entity_ids), dtype=np.int64)
    still = np.ones(len(entity_ids), dtype=bool)
    index = {e: i for i, e in enumerate(entity_ids)}
    for back in range(1, lookback + 1):
        rows = [index[e] for e in alerting.get(shift(period, -back, interval), ()) if e in index]
        mask = np.zeros(len(entity_ids), dtype=bool)
        mask[rows] = True
        still &= mask
        if not still.any():
            break
        run += still
    return run


class IncidentBook:
    """Incident groups kept in memory: the backtest's book (the scan's is the incidents table)."""

    def __init__(self, interval: Interval = Interval.D1, max_gap: int = MAX_GAP) -> None:
        self.interval, self.max_gap = interval, max_gap
        self._batches: dict[str, list[GroupBatch]] = defaultdict(list)
        self._groups: dict[str, IncidentGroup] = {}
        self.alerting: dict[str, set[str]] = defaultdict(set)  # period → entities with alerts

    def add(self, members: Sequence[GroupMember]) -> dict[tuple[str, str], str]:
        """Group the new alerts; returns (entity, period) → group id."""
        assignment = assign(self._groups.values(), members, self.interval, self.max_gap)
        for batch in assignment.batches:
            self._batches[batch.group_id].append(batch)
            self._groups[batch.group_id] = summarise(self._batches[batch.group_id])
            self.alerting[batch.period] |= batch.entities
        return assignment.group_of

    def groups(self) -> list[IncidentGroup]:
        """Newest first, worst severity first."""
        return sorted(
            self._groups.values(), key=lambda g: (g.last_period, g.severity.rank), reverse=True
        )

    def onsets(self, period: str, entity_ids: Sequence[str]) -> npt.NDArray[np.int64]:
        return onset_runs(self.alerting, period, entity_ids, self.interval)
