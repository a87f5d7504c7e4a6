"""The runs function: the detection audit trail and the models in use.

``GET /runs?profile_id=`` (newest first, cursor paged) · ``GET /runs/{id}`` ·
``GET /models`` (the registry's current model set per profile, and whether this container
holds each one loaded). Another tenant's run or profile is a 404, as is an unknown one.
The backfill routes (``api.backfill``'s router) are served by this function too.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from tripwire.api import cursor
from tripwire.api.backfill import router as backfill_router
from tripwire.api.context import caller_of
from tripwire.api.responses import Closed, documented
from tripwire.domain.entities import Identifier
from tripwire.domain.runs import DetectionRun
from tripwire.registry.manager import default_manager
from tripwire.registry.store import RegistryStore
from tripwire.store.catalog import CatalogStore
from tripwire.store.runs import RunStore

app = APIGatewayHttpResolver(enable_validation=True)
RunId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[^#\s]+$")]


class RunsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile_id: Identifier
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = None

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


class ProfileNotFound(LookupError):
    pass


class RunNotFound(LookupError):
    pass


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
    if CatalogStore().get_profile(tenant, query.profile_id) is None:
        raise ProfileNotFound(query.profile_id)
    after = cursor.decode(query.cursor, tenant, query.profile_id) if query.cursor else None
    page, last = RunStore().page_of_profile(tenant, query.profile_id, query.limit, after)
    next_cursor = cursor.encode(last, tenant, query.profile_id) if last else None
    return {"items": [_run_json(r) for r in page], "next_cursor": next_cursor}


@app.get("/runs/<run_id>", responses=documented(RunAnswer), summary="One detection run")
def run(run_id: RunId) -> dict[str, Any]:
    found = RunStore().get(_tenant(), run_id)
    if found is None:
        raise RunNotFound(run_id)
    return _run_json(found)


@app.get(
    "/models",
    responses=documented(ModelsList),
    summary="Each profile's current models and versions",
)
def models(query: Annotated[ModelsQuery, Query()]) -> dict[str, Any]:
    tenant = _tenant()
    catalog = CatalogStore()
    if query.profile_id is not None:
        if catalog.get_profile(tenant, query.profile_id) is None:
            raise ProfileNotFound(query.profile_id)
        profiles = [query.profile_id]
    else:
        profiles = sorted(p.profile_id for p in catalog.list_profiles(tenant))
    registry = RegistryStore()
    loaded = {
        (m["profile"], m["detector"], m["version"]): m["loaded_at"]
        for m in default_manager().cached()
        if m["tenant"] == tenant
    }
    items = []
    for profile in profiles:
        versions = registry.current_set(tenant, profile) or {}
        detectors = [
            {
                "detector": detector,
                "version": version,
                "cached": (profile, detector, version) in loaded,
                "loaded_at": loaded.get((profile, detector, version)),
            }
            for detector, version in sorted(versions.items())
        ]
        items.append({"profile_id": profile, "trained": bool(versions), "models": detectors})
    return {"items": items}


def _error(status: HTTPStatus, body: dict[str, Any]) -> Response[str]:
    payload = json.dumps({"statusCode": status.value, **body})
    return Response(status.value, content_types.APPLICATION_JSON, payload)


@app.exception_handler(RunNotFound)
def _no_run(_: RunNotFound) -> Response[str]:
    return _error(HTTPStatus.NOT_FOUND, {"message": "run not found"})


@app.exception_handler(ProfileNotFound)
def _no_profile(_: ProfileNotFound) -> Response[str]:
    return _error(HTTPStatus.NOT_FOUND, {"message": "profile not found"})


@app.exception_handler(cursor.InvalidCursor)
def _bad_cursor(error: cursor.InvalidCursor) -> Response[str]:
    detail = [{"loc": ["query", "query", "cursor"], "type": "value_error", "msg": str(error)}]
    return _error(HTTPStatus.UNPROCESSABLE_ENTITY, {"detail": detail})


app.include_router(backfill_router)  # POST /backfill · GET /backfill/{id} · PUT .../schedule
