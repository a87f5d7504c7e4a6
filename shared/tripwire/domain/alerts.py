"""Alerts and what they carry: scores, explanations, root causes, workflow state."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

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


class Confirmation(StrEnum):
    """Where an alert raised on provisional figures stands once Amazon restates them."""

    PROVISIONAL = "provisional"  # raised on a day whose orders and sales are still arriving
    CONFIRMED = "confirmed"  # the restated figures show it too
    WITHDRAWN = "withdrawn"  # they do not: it was the reporting lag, not an incident


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


class Impact(BaseModel):
    """What an anomaly costs over its duration, in the profile's currency: ``wasted_spend``
    (spend above expected that sales did not follow) plus ``sales_at_risk`` (expected minus
    actual sales) is ``revenue_impact``; ``performance_degradation`` is the relative change of
    the measure that moved most (−1 = it fell to zero). ``provisional``: the sales are still
    being attributed, so the sales at risk may shrink when Amazon restates them."""

    currency: str = "USD"
    revenue_impact: float = Field(0.0, ge=0)
    wasted_spend: float = Field(0.0, ge=0)
    sales_at_risk: float = Field(0.0, ge=0)
    provisional: bool = False
    measure: str | None = None
    performance_degradation: float = 0.0
    expected_spend: float = 0.0
    actual_spend: float = 0.0
    expected_sales: float = 0.0
    actual_sales: float = 0.0


def total_impact(impacts: Iterable[Impact]) -> Impact | None:
    """Several periods' impact as one (same currency): money summed, the worst degradation."""
    items = list(impacts)
    if not items:
        return None
    worst = max(items, key=lambda i: abs(i.performance_degradation))

    def total(field: str) -> float:
        return round(sum(float(getattr(i, field)) for i in items), 2)

    return Impact(
        currency=items[0].currency,
        revenue_impact=total("revenue_impact"),
        wasted_spend=total("wasted_spend"),
        sales_at_risk=total("sales_at_risk"),
        provisional=any(i.provisional for i in items),
        measure=worst.measure,
        performance_degradation=worst.performance_degradation,
        expected_spend=total("expected_spend"),
        actual_spend=total("actual_spend"),
        expected_sales=total("expected_sales"),
        actual_sales=total("actual_sales"),
    )


_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


def money(amount: float, currency: str) -> str:
    """An amount as a person reads it: "$1,234", "€56", "CAD 1,234"."""
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{amount:,.0f}" if symbol else f"{currency} {amount:,.0f}"


def impact_text(impact: Impact | None) -> str:
    """ "wasted spend $1,234 · sales at risk $5,678 (provisional)"; "" when it cost nothing."""
    if impact is None:
        return ""
    parts = []
    if impact.wasted_spend >= 0.5:
        parts.append(f"wasted spend {money(impact.wasted_spend, impact.currency)}")
    if impact.sales_at_risk >= 0.5:
        risk = f"sales at risk {money(impact.sales_at_risk, impact.currency)}"
        parts.append(risk + (" (provisional)" if impact.provisional else ""))
    if not parts and impact.measure and impact.performance_degradation:
        parts.append(f"{impact.measure} {impact.performance_degradation:+.0%}")
    return " · ".join(parts)


def entity_label(entity_type: str, entity_id: str, name: str = "") -> str:
    """How a person reads an entity: its name first, its id secondary (once if they agree)."""
    if not name or name == entity_id:
        return f"{entity_type} {entity_id}"
    return f"{entity_type} '{name}' ({entity_id})"


class RootCause(BaseModel):
    entity_id: Identifier
    entity_type: EntityType
    entity_name: str = ""
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
    entity_name: str = ""
    interval: Interval = Interval.D1
    period: datetime
    score: Probability = Field(ge=0, le=1)
    threshold: Probability = Field(ge=0, le=1)
    severity: Severity
    detector_scores: dict[str, Probability] = Field(default_factory=dict)
    explanation: list[Attribution] = Field(default_factory=list)
    root_causes: list[RootCause] = Field(default_factory=list)
    impact: Impact | None = None  # None: not money (a ticker)
    group_id: str | None = None
    # The first period of the anomaly when it began before ``period`` (a slow collapse whose
    # evidence crossed the threshold days after its onset); None: it began at ``period``.
    onset: datetime | None = None
    # None: judged on settled figures (or on measures Amazon does not restate).
    confirmation: Confirmation | None = None
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

    @property
    def label(self) -> str:
        return entity_label(self.entity_type.value, self.entity_id, self.entity_name)

    @property
    def revenue_impact(self) -> float:
        return self.impact.revenue_impact if self.impact else 0.0


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
    kind: str = Field(
        default="", description="the alert's leading feature and direction, e.g. clicks_above"
    )
    note: str = ""
    by: str
    at: datetime


def pattern_kind(explanation: Sequence[Mapping[str, Any]]) -> str:
    """The alert's kind: its largest attribution's feature and direction ("" if none)."""
    if not explanation:
        return ""
    top = max(explanation, key=lambda e: abs(float(e["contribution"])))
    direction = getattr(top["direction"], "value", top["direction"])
    return f"{top['feature']}_{direction}"


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
