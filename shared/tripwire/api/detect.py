"""The detect function: ``POST /detect`` — detection now, or queued when too large (202).

An ``Idempotency-Key`` header makes a retry return the first response (see
``api.idempotency``); the tenant comes from the token.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

from tripwire.api import idempotency
from tripwire.api.context import caller_of
from tripwire.api.detect_schemas import DetectAccepted, DetectBody, DetectResult, last_complete_day
from tripwire.api.responses import error_responses
from tripwire.registry.store import NoModels
from tripwire.service import detect as service
from tripwire.service.series import UnknownProfile

app = APIGatewayHttpResolver(enable_validation=True)
idempotency.register_errors(app)


@app.post(
    "/detect",
    summary="Run detection for a profile now",
    responses={
        200: {
            "description": "detection ran",
            "content": {"application/json": {"model": DetectResult}},
        },
        202: {
            "description": "queued: too large to answer within the API's time limit",
            "content": {"application/json": {"model": DetectAccepted}},
        },
        **error_responses(
            HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT, HTTPStatus.SERVICE_UNAVAILABLE
        ),
    },
)
def detect(body: DetectBody) -> Response[str]:
    tenant = caller_of(app.current_event.raw_event).tenant
    key = idempotency.idempotency_key(app.current_event)
    payload = body.model_dump(mode="json")
    outcome = idempotency.run_once(
        "detect", tenant, key, payload, lambda: _run(tenant, body), context=app.lambda_context
    )
    return outcome.response()


def _run(tenant: str, body: DetectBody) -> tuple[int, dict[str, Any]]:
    request = service.DetectRequest(
        profile_id=body.profile_id,
        day=body.date or last_complete_day(),
        entity_type=body.entity_type,
        entity_ids=tuple(body.entity_ids),
        detector=body.detector,
        explain=body.include_explanations,
        root_causes=body.include_root_causes,
    )
    report = service.detect(tenant, request)
    run = report.run
    if report.queued:
        accepted = DetectAccepted(
            run_id=run.run_id,
            status=run.status,
            profile_id=run.profile_id,
            date=request.day,
            detector=request.detector,
            entities=report.planned,
            model_versions=run.model_versions,
            execution_ms=report.execution_ms,
        )
        return HTTPStatus.ACCEPTED.value, accepted.model_dump(mode="json")
    result = DetectResult(
        run_id=run.run_id,
        status=run.status,
        profile_id=run.profile_id,
        date=request.day,
        detector=request.detector,
        entities_checked=run.entities_checked,
        anomalies_found=run.anomalies_found,
        new_alerts=report.new_alerts,
        severity_counts=report.severity_counts(),
        alerts=report.alerts,
        model_versions=run.model_versions,
        warnings=run.warnings,
        execution_ms=report.execution_ms,
    )
    return HTTPStatus.OK.value, result.model_dump(mode="json")


def _error(status: HTTPStatus, body: dict[str, Any]) -> Response[str]:
    payload = json.dumps({"statusCode": status.value, **body})
    return Response(status.value, content_types.APPLICATION_JSON, payload)


@app.exception_handler(UnknownProfile)
def _no_profile(_: UnknownProfile) -> Response[str]:
    return _error(HTTPStatus.NOT_FOUND, {"message": "profile not found"})


@app.exception_handler(service.UnknownEntity)
def _no_entity(error: service.UnknownEntity) -> Response[str]:
    return _error(HTTPStatus.NOT_FOUND, {"message": str(error), "entity_ids": error.missing})


@app.exception_handler(NoModels)
def _no_models(_: NoModels) -> Response[str]:
    message = "the profile has no trained models yet; train it before detecting"
    return _error(HTTPStatus.CONFLICT, {"message": message})


@app.exception_handler(service.DetectorUnavailable)
def _no_detector(error: service.DetectorUnavailable) -> Response[str]:
    msg = f"the profile's model set has no {error} detector"
    detail = [{"loc": ["body", "detector"], "type": "value_error", "msg": msg}]
    return _error(HTTPStatus.UNPROCESSABLE_ENTITY, {"detail": detail})


@app.exception_handler(service.QueueUnavailable)
def _no_queue(error: service.QueueUnavailable) -> Response[str]:
    return _error(HTTPStatus.SERVICE_UNAVAILABLE, {"message": str(error)})
