"""Detection runs (the audit trail) and per-series detection state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from tripwire.domain.entities import Identifier
from tripwire.domain.metrics import Interval


class Trigger(StrEnum):
    API = "api"
    SCHEDULE = "schedule"
    BACKFILL = "backfill"
    VERIFICATION = "verification"
    FIRST_TRAINING = "first_training"


class RunStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"
    FAILED = "failed"


class HeldBackQuality(BaseModel):
    """A model's alerts on the held-back window (the last days, not trained on)."""

    entity_days: int = Field(ge=0)
    alerts: int = Field(ge=0)
    false_alerts: int = Field(ge=0, description="alerts not on a labelled real anomaly")
    false_per_1k_entity_days: float = Field(ge=0)
    labelled_anomalies: int = Field(ge=0, description='"real anomaly" labels in the window')
    recall: float | None = Field(
        default=None, ge=0, le=1, description="share of them alerted; null with none"
    )


class LabelsUsed(BaseModel):
    not_anomaly: int = Field(default=0, ge=0)
    anomaly: int = Field(default=0, ge=0)


class TrainingOutcome(BaseModel):
    """What a training run did (its run record's ``training``)."""

    stage: str = Field(
        default="queued", description="queued · loading · training · evaluating · publishing · done"
    )
    end: str | None = Field(default=None, description="last day trained on (ISO)")
    held_back_days: int = 0
    published: bool | None = Field(default=None, description="null until decided")
    decision: str = ""
    versions: dict[str, str] = Field(
        default_factory=dict, description="published versions, or the candidate's when held"
    )
    quality: HeldBackQuality | None = None
    current_quality: HeldBackQuality | None = Field(
        default=None, description="the model in use, on the same window (null: none yet)"
    )
    labels_used: LabelsUsed = Field(default_factory=LabelsUsed)


class DetectionRun(BaseModel):
    run_id: Identifier
    tenant_id: Identifier
    profile_id: Identifier
    trigger: Trigger
    model_versions: dict[str, str] = Field(default_factory=dict)
    started_at: datetime
    completed_at: datetime | None = None
    entities_checked: int = Field(default=0, ge=0)
    rows_loaded: int = Field(default=0, ge=0)
    rows_preprocessed: int = Field(
        default=0,
        ge=0,
        description="bars fetched from the market data source and kept after adjustment and "
        "the market calendar (0 when the run fetched nothing)",
    )
    rows_processed: int = Field(default=0, ge=0)
    anomalies_found: int = Field(default=0, ge=0)
    alert_ids: list[str] = Field(default_factory=list)
    status: RunStatus = RunStatus.IN_PROGRESS
    error: str | None = None
    warnings: list[str] = Field(default_factory=list)
    deadline: datetime | None = Field(
        default=None,
        description="queued runs: if still in progress after this (UTC), the sweeper fails it",
    )
    swept_at: datetime | None = Field(
        default=None, description="when the sweeper failed the run for making no progress"
    )
    expires_at: int = Field(description="epoch seconds; DynamoDB TTL removes the run then")
    training: TrainingOutcome | None = Field(
        default=None, description="training runs only: progress, quality, versions, labels"
    )


class SeriesStatus(StrEnum):
    OK = "ok"
    INSUFFICIENT_HISTORY = "insufficient_history"
    FAILED = "failed"


class DetectionMetadata(BaseModel):
    """Where detection stands for one entity series at one interval."""

    tenant_id: Identifier
    profile_id: Identifier
    entity_id: Identifier
    interval: Interval
    last_detected: datetime | None = None
    model_version: str | None = None
    rows_processed: int = Field(default=0, ge=0)
    anomalies_found: int = Field(default=0, ge=0)
    status: SeriesStatus = SeriesStatus.OK
