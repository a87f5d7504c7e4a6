"""Incident grouping's members and ids: alerts of one period sharing a top root cause form one
group (``tripwire.rootcause.incidents`` continues groups over periods).

The group id is deterministic (the root entity and the period hashed), so re-scanning a
period, or scanning it twice (provisional, then settled), lands alerts in the same group.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

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

    @property
    def root_entity(self) -> str:
        return self.root_causes[0].entity_id if self.root_causes else self.entity_id

    @property
    def root_name(self) -> str:
        return self.root_causes[0].entity_name if self.root_causes else self.entity_name
