"""The alerts function: list, read, acknowledge, resolve and label alerts.

Route functions only adapt HTTP to ``AlertService``; the caller comes from the token.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from tripwire.api import cursor
from tripwire.api.context import Caller, caller_of
from tripwire.api.errors import conflict, invalid_field, not_found
from tripwire.api.resolver import JsonApi, PathId
from tripwire.api.responses import Closed, documented
from tripwire.api.schemas import ActiveQuery, FeedbackBody, ResolveBody
from tripwire.domain.alerts import Alert, Feedback, Severity, StatusChange
from tripwire.domain.deliveries import Delivery
from tripwire.service.alerts import AlertConflict, AlertNotFound, AlertService

app = JsonApi()
AlertId = PathId


class ActivePage(Closed):
    items: list[Alert]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")


class AlertWithHistory(Alert):
    history: list[StatusChange]
    feedback: Feedback | None = Field(description="the latest label, if someone gave one")
    deliveries: list[Delivery] = Field(
        description="the alert group's notice per channel: sent or failed, when, attempts"
    )


CHANGE = (HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT)


def service() -> AlertService:
    # per request: aws_client caches the clients by endpoint; a service kept from the
    # first call would keep that call's endpoint
    return AlertService.default()


def caller() -> Caller:
    return caller_of(app.current_event.raw_event)


@app.get("/alerts/active", responses=documented(ActivePage, errors=()))
def active(query: Annotated[ActiveQuery, Query()]) -> dict[str, Any]:
    me = caller()
    after = cursor.decode(query.cursor, me.tenant, query.profile_id) if query.cursor else None
    alerts, last = service().active(
        me.tenant,
        query.profile_id,
        severities=[query.severity] if query.severity else tuple(Severity),
        where=query.where(),
        limit=query.limit,
        after=after,
    )
    next_cursor = cursor.encode(last, me.tenant, query.profile_id) if last else None
    return {"items": [a.model_dump(mode="json") for a in alerts], "next_cursor": next_cursor}


@app.get("/alerts/<alert_id>", responses=documented(AlertWithHistory))
def get(alert_id: AlertId) -> dict[str, Any]:
    alert, history = service().get(caller().tenant, alert_id)
    label = service().label_of(alert)
    return {
        **alert.model_dump(mode="json"),
        "history": [h.model_dump(mode="json") for h in history],
        "feedback": label.model_dump(mode="json") if label else None,
        "deliveries": [d.model_dump(mode="json") for d in service().deliveries_of(alert)],
    }


@app.patch("/alerts/<alert_id>/acknowledge", responses=documented(Alert, errors=CHANGE))
def acknowledge(alert_id: AlertId) -> dict[str, Any]:
    me = caller()
    return service().acknowledge(me.tenant, alert_id, me.user).model_dump(mode="json")


@app.patch("/alerts/<alert_id>/resolve", responses=documented(Alert, errors=CHANGE))
def resolve(alert_id: AlertId, body: ResolveBody) -> dict[str, Any]:
    me = caller()
    return service().resolve(me.tenant, alert_id, me.user, body.notes).model_dump(mode="json")


@app.post(
    "/alerts/<alert_id>/feedback",
    responses=documented(Feedback, status=HTTPStatus.CREATED, description="Label stored"),
)
def feedback(alert_id: AlertId, body: FeedbackBody) -> tuple[dict[str, Any], int]:
    me = caller()
    label = service().label(me.tenant, alert_id, me.user, body.is_anomaly, body.note)
    return label.model_dump(mode="json"), HTTPStatus.CREATED.value


@app.exception_handler(AlertNotFound)
def _not_found(_: AlertNotFound) -> Response[str]:
    return not_found("alert")


@app.exception_handler(AlertConflict)
def _conflict(error: AlertConflict) -> Response[str]:
    return conflict(str(error))


@app.exception_handler(cursor.InvalidCursor)
def _bad_cursor(error: cursor.InvalidCursor) -> Response[str]:
    return invalid_field("query", "cursor", str(error))
