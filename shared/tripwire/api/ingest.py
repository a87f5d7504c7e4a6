"""The ingest function: POST /metrics — a batch of metric points, all or nothing — and
GET /imports (``api.imports``: the landing bucket's import reports).

Accepts ``Idempotency-Key`` (tripwire.api.idempotency): a retry returns the first
response and writes nothing. Bodies over ``MAX_BODY_BYTES`` are refused with a 413
before they are parsed.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from pydantic import Field

from tripwire.api import idempotency
from tripwire.api.context import caller_of
from tripwire.api.errors import conflict, invalid, problem
from tripwire.api.imports import router as imports_router
from tripwire.api.resolver import JsonApi
from tripwire.api.responses import Closed, documented
from tripwire.api.schemas import MAX_BODY_BYTES, MetricsBody
from tripwire.domain.metrics import Interval
from tripwire.ingest.errors import ImportRejected, RowError
from tripwire.service.ingest_api import BatchRejected, MetricsIngest
from tripwire.store.catalog import ConcurrentChange


class Ingested(Closed):
    """``POST /metrics``: what the batch held and what it changed."""

    profile_id: str
    interval: Interval
    entities: int
    entities_new: int
    points: int
    points_written: int = Field(description="leaf and rolled-up points offered to the store")
    items_changed: int


app = JsonApi(max_body_bytes=MAX_BODY_BYTES)  # a huge batch is refused unread
idempotency.register_errors(app)


def service() -> MetricsIngest:
    # per request: aws_client caches the clients by endpoint; a service kept from the
    # first call would keep that call's endpoint
    return MetricsIngest.default()


@app.post(
    "/metrics",
    responses=documented(
        Ingested, errors=(HTTPStatus.CONFLICT, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    ),
)
def metrics(body: MetricsBody) -> Response[str]:
    tenant = caller_of(app.current_event.raw_event).tenant
    key = idempotency.idempotency_key(app.current_event)

    def ingest() -> tuple[int, Any]:
        result = service().ingest(
            tenant, body.profile_id, body.interval, body.entities, body.points
        )
        return HTTPStatus.OK.value, result

    payload = body.model_dump(mode="json")
    context = app.lambda_context  # lets an interrupted request's record expire in time
    return idempotency.run_once("metrics", tenant, key, payload, ingest, context=context).response()


def _rows(errors: list[RowError]) -> Response[str]:
    # loc names the list, the row index and the field.
    return invalid(
        *(
            problem(["body", e.source, e.line, e.field], e.message)
            if e.source in ("entities", "points")
            else problem(["body", e.field], e.message)
            for e in errors
        )
    )


@app.exception_handler(BatchRejected)
def _rejected(error: BatchRejected) -> Response[str]:
    return _rows(error.errors)


@app.exception_handler(ImportRejected)
def _import_rejected(error: ImportRejected) -> Response[str]:
    return _rows(error.errors)


@app.exception_handler(ConcurrentChange)
def _concurrent(changed: ConcurrentChange) -> Response[str]:
    return conflict(f"{changed}; retry the request")


app.include_router(imports_router)  # GET /imports
