"""The verify function: ``POST /anomalies/{id}/verify`` — does the alert still hold?"""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from tripwire.api.context import caller_of
from tripwire.api.detect_schemas import Neighbour, Scored, VerifyResult
from tripwire.api.errors import conflict, not_found
from tripwire.api.resolver import JsonApi, PathId
from tripwire.api.responses import documented
from tripwire.domain.alerts import Alert
from tripwire.registry.store import NoModels
from tripwire.service import verify as service

app = JsonApi()


@app.post(
    "/anomalies/<alert_id>/verify",
    summary="Re-score an alert with the current model",
    responses=documented(VerifyResult, errors=(HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT)),
)
def verify(alert_id: PathId) -> VerifyResult:
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


@app.exception_handler(service.AlertNotFound)
def _not_found(_: service.AlertNotFound) -> Response[str]:
    return not_found("alert")


@app.exception_handler(NoModels)
def _no_models(_: NoModels) -> Response[str]:
    return conflict("the profile has no trained models")
