"""Incident grouping's members and ids: alerts of one period sharing a top root cause form one
group (``tripwire.rootcause.incidents`` continues groups over periods).

The group id is deterministic (the root entity and the period hashed), so re-scanning a
period, or scanning it twice (provisional, then settled), lands alerts in the same group.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

from tripwire.domain.alerts import Impact, RootCause, Severity


def group_id(root_entity: str, period: str) -> str:
    """Deterministic group id: one root cause in one period is one group."""
    return "G-" + hashlib.sha256(f"{root_entity}|{period}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class GroupMember:
    entity_id: str
    period: str  # ISO date (or datetime) of the period scanned
    severity: Severity
    root_causes: tuple[RootCause, ...]
    impact: Impact | None = None
    entity_name: str = ""
    root: str | None = None  # the root followed to its end (``resolve_roots``); None: the top

    @property
    def root_entity(self) -> str:
        if self.root is not None:
            return self.root
        return self.root_causes[0].entity_id if self.root_causes else self.entity_id

    @property
    def root_name(self) -> str:
        return self.root_causes[0].entity_name if self.root_causes else self.entity_name


def resolve_roots(members: Sequence[GroupMember]) -> list[GroupMember]:
    """Each member's root followed to its end within the same period: a portfolio whose
    move is its campaign's, where the campaign's is the account's, belongs to the account's
    incident — one incident, one group, rooted where the incident is."""
    tops = {(m.entity_id, m.period): m.root_entity for m in members}
    out = []
    for member in members:
        root, seen = member.root_entity, {member.entity_id}
        while root not in seen and tops.get((root, member.period), root) != root:
            seen.add(root)
            root = tops[(root, member.period)]
        out.append(member if root == member.root_entity else replace(member, root=root))
    return out
