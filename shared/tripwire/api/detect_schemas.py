"""Request and response models of ``POST /detect`` and ``POST /anomalies/{id}/verify``."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from tripwire.domain.alerts import Alert, Severity
from tripwire.domain.entities import EntityType, Identifier
from tripwire.domain.metrics import Day
from tripwire.domain.runs import RunStatus

MAX_ENTITY_IDS = 1000
Detector = Literal["ensemble", "lstm", "streaming", "isolation_forest"]


def last_complete_day() -> datetime.date:
    """Yesterday (UTC): the newest daily period that has ended."""
    return datetime.datetime.now(datetime.UTC).date() - datetime.timedelta(days=1)


class DetectBody(BaseModel):
    """Body of ``POST /detect``."""

    model_config = ConfigDict(extra="forbid")

    profile_id: Identifier
    date: Day | None = Field(
        default=None, description="the day to detect, not in the future; default: yesterday (UTC)"
    )
    entity_type: EntityType | None = Field(
        default=None, description="report only entities of this type"
    )
    entity_ids: Annotated[list[Identifier], Field(max_length=MAX_ENTITY_IDS)] = Field(
        default_factory=list,
        description="report only these entities",
        json_schema_extra={"uniqueItems": True},
    )
    detector: Detector = "ensemble"
    include_explanations: StrictBool = Field(
        default=True,
        description="Shapley attributions; without them an alert names its most deviating "
        "features (contribution = deviation)",
    )
    include_root_causes: StrictBool = True

    @field_validator("entity_ids")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("entity ids must be unique")
        return value

    @field_validator("date")
    @classmethod
    def _not_future(cls, value: datetime.date | None) -> datetime.date | None:
        if value is not None and value > datetime.datetime.now(datetime.UTC).date():
            raise ValueError("date must not be in the future")
        return value


class DetectResult(BaseModel):
    """200: detection ran.

    ``alerts`` holds every anomaly this run found, scored, explained and traced as asked;
    one stored before keeps its status, group and the run that first raised it
    (``run_id``, ``created_at``). ``new_alerts`` counts those stored by this run.
    """

    run_id: str
    status: RunStatus
    profile_id: str
    date: datetime.date
    detector: Detector
    entities_checked: int
    anomalies_found: int
    new_alerts: int
    severity_counts: dict[Severity, int]
    alerts: list[Alert]
    model_versions: dict[str, str]
    warnings: list[str]
    execution_ms: float


class DetectAccepted(BaseModel):
    """202: too large to answer at once; follow ``GET /runs/{run_id}``."""

    run_id: str
    status: RunStatus
    profile_id: str
    date: datetime.date
    detector: Detector
    entities: int
    model_versions: dict[str, str]
    execution_ms: float


class Scored(BaseModel):
    """One scoring of the alert's entity and period."""

    score: float
    severity: Severity | None
    alert: bool
    model_versions: dict[str, str]
    features: dict[str, dict[str, float]] = Field(
        description="feature → expected, actual (and deviation when re-scored)"
    )


class Neighbour(BaseModel):
    period: datetime.date
    score: float
    alert: bool


class VerifyResult(BaseModel):
    alert_id: str
    entity_id: str
    period: datetime.date
    original: Scored
    current: Scored
    around: list[Neighbour]
    still_anomalous: bool
    score_change: float
    models_changed: bool
    settled: bool = Field(description="false while Amazon may still restate the period's sales")
    run_id: str
