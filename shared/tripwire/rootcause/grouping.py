"""Incident grouping: alerts of one period sharing a top root cause form one group.

The group id is deterministic (the root entity and the period hashed), so re-scanning a
period, or scanning it twice (provisional, then settled), lands alerts in the same group.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from tripwire.domain.alerts import RootCause, Severity


def group_id(root_entity: str, period: str) -> str:
    """Deterministic group id: one root cause in one period is one group."""
    return "G-" + hashlib.sha256(f"{root_entity}|{period}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class GroupMember:
    entity_id: str
    period: str  # ISO date (or datetime) of the period scanned
    severity: Severity
    root_causes: tuple[RootCause, ...]

    @property
    def root_entity(self) -> str:
        return self.root_causes[0].entity_id if self.root_causes else self.entity_id


@dataclass(frozen=True)
class AlertGroup:
    group_id: str
    period: str
    root_entity: str
    root_cause: RootCause | None  # the root's cause as seen by the group's first member
    members: tuple[str, ...]  # entity ids, sorted
    severity: Severity  # the worst member's
    summary: str

    @property
    def affected(self) -> int:
        return len(self.members)


def group_alerts(members: Iterable[GroupMember]) -> list[AlertGroup]:
    """Groups ordered by period, then worst severity first, then root entity."""
    buckets: dict[tuple[str, str], list[GroupMember]] = defaultdict(list)
    for member in members:
        buckets[(member.period, member.root_entity)].append(member)
    groups = []
    for (period, root), items in buckets.items():
        items.sort(key=lambda m: m.entity_id)
        worst = max((m.severity for m in items), key=lambda s: s.rank)
        # the root's own alert describes it best; otherwise the first member's view of it
        described = next((m for m in items if m.entity_id == root), items[0])
        cause = described.root_causes[0] if described.root_causes else None
        groups.append(
            AlertGroup(
                group_id=group_id(root, period),
                period=period,
                root_entity=root,
                root_cause=cause,
                members=tuple(m.entity_id for m in items),
                severity=worst,
                summary=_summary(root, cause, len(items), worst, period),
            )
        )
    groups.sort(key=lambda g: (g.period, -g.severity.rank, g.root_entity))
    return groups


def _summary(root: str, cause: RootCause | None, n: int, worst: Severity, period: str) -> str:
    alerts = f"{n} alert{'s' if n != 1 else ''}"
    who = f"{cause.entity_type.value} {root}" if cause is not None else root
    head = f"{period}: {alerts} traced to {who} (worst {worst.value})"
    if cause is None:
        return head
    detail = cause.sentence.split(": ", 1)[-1]
    return f"{head}: {detail}"
