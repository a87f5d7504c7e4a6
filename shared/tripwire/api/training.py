"""``POST /profiles/{id}/train`` · ``PUT /profiles/{id}/training``.

A Powertools ``Router``: the runs function's resolver includes it. The POST answers at
once (202) with the training run, followed at ``GET /runs/{id}`` (its ``training``: stage,
held-back quality against the model in use, versions published or held, labels used).
The tenant comes from the token only.
"""

from __future__ import annotations

import datetime
import json
from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, ConfigDict, Field, field_validator

from tripwire.api.context import caller_of
from tripwire.api.errors import invalid_field, not_found
from tripwire.api.resolver import PathId
from tripwire.api.responses import Closed, documented
from tripwire.domain.metrics import Day
from tripwire.service import training_runs
from tripwire.service.runs import ProfileNotFound
from tripwire.store.training import DEFAULT_EVERY_DAYS

router = Router()


class TrainingStarted(Closed):
    run_id: str = Field(description="follow it at GET /runs/{run_id}")
    profile_id: str
    status: str
    started_at: str = Field(description="ISO time")


class TrainRequest(BaseModel):
    """``{}`` trains through yesterday."""

    model_config = ConfigDict(extra="forbid")

    end: Day | None = Field(
        default=None,
        description="last day to train on (the held-back days included); default: yesterday",
    )

    @field_validator("end", mode="before")
    @classmethod
    def _iso_text(cls, value: object) -> object:
        if value is not None and not isinstance(value, str):  # not a timestamp number
            raise ValueError("end is an ISO date (YYYY-MM-DD)")
        return value

    @field_validator("end")
    @classmethod
    def _not_future(cls, value: datetime.date | None) -> datetime.date | None:
        if value is not None and value > datetime.datetime.now(datetime.UTC).date():
            raise ValueError("end must not be in the future")
        return value


class TrainingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    every_days: int = Field(
        ge=1,
        le=training_runs.MAX_EVERY_DAYS,
        description=f"retrain every this many days (default {DEFAULT_EVERY_DAYS})",
    )


class TrainingSchedule(Closed):
    profile_id: str
    every_days: int
    last_started: str | None = Field(description="ISO date of the last scheduled training")


@router.post(
    "/profiles/<profile_id>/train",
    responses=documented(
        TrainingStarted, status=HTTPStatus.ACCEPTED, description="Training started"
    ),
    summary="Train a profile's models now (published only if not worse than the current)",
)
def train(profile_id: PathId, body: TrainRequest) -> Response[str]:
    tenant = caller_of(router.current_event.raw_event).tenant
    try:
        run = training_runs.request_training(tenant, profile_id, body.end)
    except ProfileNotFound:
        return not_found("profile")
    except training_runs.NotTrainedHere as rejected:
        return invalid_field("path", rejected.field, str(rejected))
    answer = {
        "run_id": run.run_id,
        "profile_id": profile_id,
        "status": run.status.value,
        "started_at": run.started_at.isoformat(),
    }
    return Response(HTTPStatus.ACCEPTED.value, content_types.APPLICATION_JSON, json.dumps(answer))


@router.put(
    "/profiles/<profile_id>/training",
    responses=documented(TrainingSchedule),
    summary="Set how often a profile's models are retrained",
)
def training_schedule(profile_id: PathId, body: TrainingBody) -> Response[str]:
    me = caller_of(router.current_event.raw_event)
    try:
        entry = training_runs.set_every(me.tenant, profile_id, body.every_days, by=me.user)
    except ProfileNotFound:
        return not_found("profile")
    last = entry.last_started.isoformat() if entry.last_started else None
    answer = {"profile_id": profile_id, "every_days": entry.every_days, "last_started": last}
    return Response(HTTPStatus.OK.value, content_types.APPLICATION_JSON, json.dumps(answer))
