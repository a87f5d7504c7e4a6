"""The detect function: ``POST /detect`` — detection now, or queued when too large (202).

An ``Idempotency-Key`` header makes a retry return the first response (see
``api.idempotency``); the tenant comes from the token.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response

from tripwire.api import idempotency
from tripwire.api.context import caller_of
from tripwire.api.detect_schemas import DetectAccepted, DetectBody, DetectResult, last_complete_day
from tripwire.api.errors import conflict, error, invalid_field, not_found
from tripwire.api.resolver import JsonApi
from tripwire.api.responses import error_responses
from tripwire.registry.store import NoModels
from tripwire.service import detect as service
from tripwire.service.series import UnknownProfile

app = JsonApi()
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


@app.exception_handler(UnknownProfile)
def _no_profile(_: UnknownProfile) -> Response[str]:
    return not_found("profile")


@app.exception_handler(service.UnknownEntity)
def _no_entity(unknown: service.UnknownEntity) -> Response[str]:
    return error(HTTPStatus.NOT_FOUND, str(unknown), entity_ids=unknown.missing)


@app.exception_handler(NoModels)
def _no_models(_: NoModels) -> Response[str]:
    return conflict("the profile has no trained models yet; train it before detecting")


@app.exception_handler(service.DetectorUnavailable)
def _no_detector(unavailable: service.DetectorUnavailable) -> Response[str]:
    return invalid_field(
        "body", "detector", f"the profile's model set has no {unavailable} detector"
    )


@app.exception_handler(service.QueueUnavailable)
def _no_queue(unavailable: service.QueueUnavailable) -> Response[str]:
    return error(HTTPStatus.SERVICE_UNAVAILABLE, str(unavailable))
