"""The ingest function: POST /metrics — a batch of metric points, all or nothing.

Accepts ``Idempotency-Key`` (tripwire.api.idempotency): a retry returns the first
response and writes nothing. Bodies over ``MAX_BODY_BYTES`` are refused with a 413
before they are parsed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from tripwire.api import idempotency
from tripwire.api.context import caller_of
from tripwire.api.responses import Closed, documented
from tripwire.api.schemas import MAX_BODY_BYTES, MetricsBody
from tripwire.domain.metrics import Interval
from tripwire.ingest.errors import ImportRejected, RowError
from tripwire.service.ingest_api import BatchRejected, MetricsIngest
from tripwire.store.catalog import ConcurrentChange


class IngestResolver(APIGatewayHttpResolver):
    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        # Checked before validation parses the body: a huge batch costs nothing.
        body = event.get("body") or ""
        size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode())
        if size > MAX_BODY_BYTES:
            message = f"the body is {size} bytes; POST /metrics takes at most {MAX_BODY_BYTES}"
            status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE.value
            return {
                "statusCode": status,
                "headers": {"Content-Type": content_types.APPLICATION_JSON},
                "body": json.dumps({"statusCode": status, "message": message}),
                "isBase64Encoded": False,
            }
        return super().resolve(event, context)


class Ingested(Closed):
    """``POST /metrics``: what the batch held and what it changed."""

    profile_id: str
    interval: Interval
    entities: int
    entities_new: int
    points: int
    points_written: int = Field(description="leaf and rolled-up points offered to the store")
    items_changed: int


app = IngestResolver(enable_validation=True)
idempotency.register_errors(app)


@cache
def service() -> MetricsIngest:
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


def _error(status: HTTPStatus, body: dict[str, Any]) -> Response[str]:
    payload = json.dumps({"statusCode": status.value, **body})
    return Response(status.value, content_types.APPLICATION_JSON, payload)


def _rows(errors: list[RowError]) -> Response[str]:
    # Shaped like Powertools' own 422s: loc names the list, the row index and the field.
    detail = [
        {"loc": ["body", e.source, e.line, e.field], "type": "value_error", "msg": e.message}
        if e.source in ("entities", "points")
        else {"loc": ["body", e.field], "type": "value_error", "msg": e.message}
        for e in errors
    ]
    return _error(HTTPStatus.UNPROCESSABLE_ENTITY, {"detail": detail})


@app.exception_handler(BatchRejected)
def _rejected(error: BatchRejected) -> Response[str]:
    return _rows(error.errors)


@app.exception_handler(ImportRejected)
def _import_rejected(error: ImportRejected) -> Response[str]:
    return _rows(error.errors)


@app.exception_handler(ConcurrentChange)
def _concurrent(error: ConcurrentChange) -> Response[str]:
    return _error(HTTPStatus.CONFLICT, {"message": f"{error}; retry the request"})
