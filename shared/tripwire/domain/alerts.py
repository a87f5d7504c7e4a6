"""Alerts and what they carry: scores, explanations, root causes, workflow state."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from tripwire.domain.entities import EntityType, Identifier
from tripwire.domain.metrics import Interval

Probability = float


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Direction(StrEnum):
    ABOVE = "above"
    BELOW = "below"


class Relation(StrEnum):
    SELF = "self"
    ANCESTOR = "ancestor"
    DESCENDANT = "descendant"
    SIBLING = "sibling"


class Attribution(BaseModel):
    """One feature's share of the anomaly score (a Shapley value)."""

    feature: str
    contribution: float
    direction: Direction
    expected: float
    actual: float


class RootCause(BaseModel):
    entity_id: Identifier
    entity_type: EntityType
    relation: Relation
    hops: int = Field(ge=0)
    confidence: Probability = Field(ge=0, le=1)
    sentence: str


class Alert(BaseModel):
    model_config = ConfigDict(use_enum_values=False)

    alert_id: Identifier
    tenant_id: Identifier
    profile_id: Identifier
    entity_id: Identifier
    entity_type: EntityType
    interval: Interval = Interval.D1
    period: datetime
    score: Probability = Field(ge=0, le=1)
    threshold: Probability = Field(ge=0, le=1)
    severity: Severity
    detector_scores: dict[str, Probability] = Field(default_factory=dict)
    explanation: list[Attribution] = Field(default_factory=list)
    root_causes: list[RootCause] = Field(default_factory=list)
    group_id: str | None = None
    status: AlertStatus = AlertStatus.OPEN
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolution_notes: str | None = None
    resolution_minutes: float | None = None
    run_id: str
    model_versions: dict[str, str] = Field(default_factory=dict)
    created_at: datetime


def alert_id(tenant: str, profile: str, entity: str, period: str, interval: str = "1d") -> str:
    """Deterministic: one (entity, interval, period) is one alert, however often it is found."""
    digest = hashlib.sha256(f"{tenant}|{profile}|{entity}|{interval}|{period}".encode())
    return "al-" + digest.hexdigest()[:20]


def severity_counts(alerts: Iterable[Alert]) -> dict[str, int]:
    """How many alerts of each severity (every severity, zeros included)."""
    counts = Counter(a.severity.value for a in alerts)
    return {s.value: counts.get(s.value, 0) for s in Severity}


class StatusChange(BaseModel):
    """One line of an alert's history: a status transition, who made it and when."""

    tenant_id: Identifier
    alert_id: Identifier
    status: AlertStatus  # the status entered
    previous: AlertStatus
    at: datetime
    by: str
    notes: str | None = None


class Feedback(BaseModel):
    """A user's label on an alert: training data for the next model (one per alert)."""

    tenant_id: Identifier
    profile_id: Identifier
    alert_id: Identifier
    entity_id: Identifier
    entity_type: EntityType
    interval: Interval
    period: datetime
    score: Probability
    model_versions: dict[str, str] = Field(default_factory=dict)
    is_anomaly: bool
    note: str = ""
    by: str
    at: datetime


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def with_resolution(alert: Alert, by: str, notes: str, at: datetime) -> Alert:
    """The alert resolved by ``by`` at ``at``; resolution time in minutes since it was raised."""
    minutes = (_utc(at) - _utc(alert.created_at)).total_seconds() / 60
    update = {
        "status": AlertStatus.RESOLVED,
        "resolved_by": by,
        "resolved_at": at,
        "resolution_notes": notes,
        "resolution_minutes": round(max(minutes, 0.0), 1),
    }
    return alert.model_copy(update=update)
