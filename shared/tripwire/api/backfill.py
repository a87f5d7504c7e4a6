"""``POST /backfill`` · ``GET /backfill/{id}`` · ``PUT /profiles/{id}/schedule``.

A Powertools ``Router``: the runs function's resolver includes it. Backfills run through
the scan queue; the POST answers at once with the run (202; 200 with the backfill already
running for the same profile or entity). The tenant comes from the token only.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictBool

from tripwire.api.context import caller_of
from tripwire.api.errors import error, invalid, invalid_field, not_found, problem
from tripwire.api.resolver import PathId
from tripwire.api.responses import Closed, documented
from tripwire.domain import DetectionRun, Interval
from tripwire.domain.runs import RunStatus
from tripwire.service.backfill import (
    BackfillRejected,
    BackfillRequest,
    BackfillRunning,
    backfill_progress,
    start_backfill,
)
from tripwire.service.schedule import (
    SCAN_INTERVALS,
    IntervalRejected,
    ProfileNotFound,
    set_schedule,
)

router = Router()
_TICKER_ONLY = ("ticker", "market", "max_period")
_PROFILE_ONLY = ("period", "start", "end", "entity_id")


def _given(*names: str) -> dict[str, JsonValue]:
    """The fields are present and not null."""
    return {"required": list(names), "properties": {n: {"type": "string"} for n in names}}


def _none_of(*names: str) -> dict[str, JsonValue]:
    return {"not": {"anyOf": [_given(n) for n in names]}}


class BackfillBody(BackfillRequest):
    """A stored profile's ``period`` or ``start`` (not both; ``start`` not after ``end``), or
    a ``ticker`` of a ``market`` (with ``max_period``), never the two kinds mixed."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {"allOf": [_given("profile_id", "period"), _none_of(*_TICKER_ONLY)]},
                {"allOf": [_given("profile_id", "start"), _none_of(*_TICKER_ONLY)]},
                {"allOf": [_given("ticker", "market"), _none_of(*_PROFILE_ONLY)]},
            ]
        },
    )


# Every interval some profile can be scanned at, for the document's enum.
SCHEDULABLE: list[JsonValue] = [
    v for v in sorted({i.value for kinds in SCAN_INTERVALS.values() for i in kinds})
]


class ScheduleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool  # true or false, as documented: not 0, 1 or "yes"
    interval: Interval = Field(
        default=Interval.D1,
        description="how often: "
        + "; ".join(
            f"{kind} profiles {', '.join(i.value for i in allowed)}"
            for kind, allowed in SCAN_INTERVALS.items()
        ),
        json_schema_extra={"enum": list(SCHEDULABLE)},
    )


class Backfill(Closed):
    """A backfill's progress (``_backfill_json``)."""

    backfill_id: str
    profile_id: str
    status: RunStatus
    entities: int
    rows_loaded: int = Field(description="bars fetched (by ticker) or read from the store")
    rows_preprocessed: int = Field(
        description="by ticker: bars kept after adjustment and the market calendar, stored"
    )
    rows_processed: int = Field(description="bars or periods detected")
    anomalies_found: int
    error: str | None
    warnings: list[str]
    started_at: str = Field(description="ISO time")
    completed_at: str | None = Field(description="ISO time; null while running")


class Schedule(Closed):
    profile_id: str
    enabled: bool
    interval: Interval
    updated_at: str = Field(description="ISO time")
    updated_by: str


BACKFILL_ANSWERS = {
    **documented(
        Backfill,
        status=HTTPStatus.ACCEPTED,
        errors=(HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT),
        description="Backfill started",
    ),
    **documented(Backfill, description="The same backfill is already running"),
}


def _backfill_json(run: DetectionRun) -> dict[str, Any]:
    return {
        "backfill_id": run.run_id,
        "profile_id": run.profile_id,
        "status": run.status.value,
        "entities": run.entities_checked,
        "rows_loaded": run.rows_loaded,
        "rows_preprocessed": run.rows_preprocessed,
        "rows_processed": run.rows_processed,
        "anomalies_found": run.anomalies_found,
        "error": run.error,
        "warnings": run.warnings,
        "started_at": run.started_at.isoformat(),
        "completed_at": run.completed_at.isoformat() if run.completed_at else None,
    }


def _json(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(status, content_types.APPLICATION_JSON, json.dumps(body))


@router.post(
    "/backfill",
    summary="Detect a profile's, an entity's or a ticker's history (fetched by symbol), "
    "asynchronously",
    responses=BACKFILL_ANSWERS,
)
def backfill(body: BackfillBody) -> Response[str]:
    tenant = caller_of(router.current_event.raw_event).tenant
    try:
        run, created = start_backfill(tenant, body)
    except BackfillRejected as rejected:
        where = problem(["body", rejected.field], str(rejected))
        if rejected.status == HTTPStatus.UNPROCESSABLE_ENTITY:
            return invalid(where)
        running = {"backfill_id": rejected.run_id} if isinstance(rejected, BackfillRunning) else {}
        return error(rejected.status, str(rejected), [where], **running)
    status = HTTPStatus.ACCEPTED if created else HTTPStatus.OK
    return _json(status.value, _backfill_json(run))


@router.get(
    "/backfill/<backfill_id>", summary="A backfill's progress", responses=documented(Backfill)
)
def backfill_status(backfill_id: PathId) -> Response[str]:
    run = backfill_progress(caller_of(router.current_event.raw_event).tenant, backfill_id)
    if run is None:
        return not_found("backfill")
    return _json(HTTPStatus.OK.value, _backfill_json(run))


@router.put(
    "/profiles/<profile_id>/schedule",
    summary="Switch a profile's scans on or off",
    responses=documented(Schedule),
)
def schedule(profile_id: PathId, body: ScheduleBody) -> Response[str]:
    me = caller_of(router.current_event.raw_event)
    try:
        entry = set_schedule(me.tenant, profile_id, body.enabled, body.interval, by=me.user)
    except ProfileNotFound:
        return not_found("profile")
    except IntervalRejected as rejected:
        return invalid_field("body", rejected.field, str(rejected))
    return _json(
        HTTPStatus.OK.value,
        {
            "profile_id": profile_id,
            "enabled": entry.enabled,
            "interval": entry.interval.value,
            "updated_at": entry.updated_at,
            "updated_by": entry.updated_by,
        },
    )
