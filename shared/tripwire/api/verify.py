"""The verify function: ``POST /anomalies/{id}/verify`` — does the alert still hold?"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path

from tripwire.api.context import caller_of
from tripwire.api.detect_schemas import Neighbour, Scored, VerifyResult
from tripwire.api.responses import documented
from tripwire.domain.alerts import Alert
from tripwire.registry.store import NoModels
from tripwire.service import verify as service

app = APIGatewayHttpResolver(enable_validation=True)
AlertId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[^#\s]+$")]


@app.post(
    "/anomalies/<alert_id>/verify",
    summary="Re-score an alert with the current model",
    responses=documented(VerifyResult, errors=(HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT)),
)
def verify(alert_id: AlertId) -> VerifyResult:
    tenant = caller_of(app.current_event.raw_event).tenant
    found = service.verify(tenant, alert_id)
    alert, current = found.alert, found.current
    return VerifyResult(
        alert_id=alert.alert_id,
        entity_id=alert.entity_id,
        period=alert.period.date(),
        original=_original(alert),
        current=Scored(
            score=current.score,
            severity=current.severity,
            alert=current.alert,
            model_versions=found.model_versions,
            features=current.features,
        ),
        around=[Neighbour(period=s.period, score=s.score, alert=s.alert) for s in found.around],
        still_anomalous=found.still_anomalous,
        score_change=round(current.score - alert.score, 12),
        models_changed=found.models_changed,
        settled=found.settled,
        run_id=found.run.run_id,
    )


def _original(alert: Alert) -> Scored:
    # The alert stored the features that explained it (its top attributions).
    features = {
        a.feature: {"expected": a.expected, "actual": a.actual, "contribution": a.contribution}
        for a in alert.explanation
    }
    return Scored(
        score=alert.score,
        severity=alert.severity,
        alert=True,
        model_versions=alert.model_versions,
        features=features,
    )


def _error(status: HTTPStatus, body: dict[str, Any]) -> Response[str]:
    payload = json.dumps({"statusCode": status.value, **body})
    return Response(status.value, content_types.APPLICATION_JSON, payload)


@app.exception_handler(service.AlertNotFound)
def _not_found(_: service.AlertNotFound) -> Response[str]:
    return _error(HTTPStatus.NOT_FOUND, {"message": "alert not found"})


@app.exception_handler(NoModels)
def _no_models(_: NoModels) -> Response[str]:
    return _error(HTTPStatus.CONFLICT, {"message": "the profile has no trained models"})
