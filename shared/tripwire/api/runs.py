"""The runs function: the detection audit trail and the models in use.

``GET /runs?profile_id=`` (newest first, cursor paged) · ``GET /runs/{id}`` ·
``GET /models`` (the registry's current model set per profile, and whether this container
holds each one loaded). Another tenant's run or profile is a 404, as is an unknown one.
The backfill routes (``api.backfill``'s router), the Amazon Ads connection routes
(``api.connections``) and the training routes (``api.training``) are served by this
function too.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from tripwire.api import cursor
from tripwire.api.backfill import router as backfill_router
from tripwire.api.connections import router as connections_router
from tripwire.api.context import caller_of
from tripwire.api.errors import invalid_field, not_found
from tripwire.api.resolver import JsonApi, PathId
from tripwire.api.responses import Closed, documented
from tripwire.api.schemas import Cursor
from tripwire.api.training import router as training_router
from tripwire.domain.entities import Identifier
from tripwire.domain.runs import DetectionRun
from tripwire.service import runs as service
from tripwire.service.runs import ProfileNotFound, RunNotFound

app = JsonApi()


class RunsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile_id: Identifier
    limit: int = Field(default=20, ge=1, le=100)
    cursor: Cursor | None = None

    @field_validator("cursor")
    @classmethod
    def _well_formed(cls, value: str | None) -> str | None:
        if value is not None:
            cursor.parse(value)
        return value


class ModelsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile_id: Identifier | None = None


class RunAnswer(DetectionRun):
    duration_ms: float | None = Field(description="null while the run is in progress")


class RunsPage(Closed):
    items: list[RunAnswer]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")


class ModelInUse(Closed):
    detector: str
    version: str
    cached: bool = Field(description="loaded in the container that answered")
    loaded_at: str | None = Field(description="ISO time it was loaded, when cached")


class ProfileModels(Closed):
    profile_id: str
    trained: bool
    models: list[ModelInUse]


class ModelsList(Closed):
    items: list[ProfileModels]


def _tenant() -> str:
    return caller_of(app.current_event.raw_event).tenant


def _run_json(run: DetectionRun) -> dict[str, Any]:
    took = (run.completed_at - run.started_at).total_seconds() * 1e3 if run.completed_at else None
    return {**run.model_dump(mode="json"), "duration_ms": took}


@app.get(
    "/runs", responses=documented(RunsPage), summary="A profile's detection runs, newest first"
)
def runs(query: Annotated[RunsQuery, Query()]) -> dict[str, Any]:
    tenant = _tenant()
    after = cursor.decode(query.cursor, tenant, query.profile_id) if query.cursor else None
    page, last = service.runs_page(tenant, query.profile_id, query.limit, after)
    next_cursor = cursor.encode(last, tenant, query.profile_id) if last else None
    return {"items": [_run_json(r) for r in page], "next_cursor": next_cursor}


@app.get("/runs/<run_id>", responses=documented(RunAnswer), summary="One detection run")
def run(run_id: PathId) -> dict[str, Any]:
    return _run_json(service.get_run(_tenant(), run_id))


@app.get(
    "/models",
    responses=documented(ModelsList),
    summary="Each profile's current models and versions",
)
def models(query: Annotated[ModelsQuery, Query()]) -> dict[str, Any]:
    return {"items": service.models_in_use(_tenant(), query.profile_id)}


@app.exception_handler(RunNotFound)
def _no_run(_: RunNotFound) -> Response[str]:
    return not_found("run")


@app.exception_handler(ProfileNotFound)
def _no_profile(_: ProfileNotFound) -> Response[str]:
    return not_found("profile")


@app.exception_handler(cursor.InvalidCursor)
def _bad_cursor(bad: cursor.InvalidCursor) -> Response[str]:
    return invalid_field("query", "cursor", str(bad))


app.include_router(backfill_router)  # POST /backfill · GET /backfill/{id} · PUT .../schedule
app.include_router(connections_router)  # PUT · GET · DELETE /profiles/{id}/connection
app.include_router(training_router)  # POST /profiles/{id}/train · PUT /profiles/{id}/training
