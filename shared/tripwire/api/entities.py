"""GET /entities/{id}/series and GET /entities/{id}/profile (served by the stats function).

Route functions only adapt HTTP to ``EntityService``; the tenant comes from the token.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from tripwire.api.context import caller_of
from tripwire.api.resolver import PathId
from tripwire.api.responses import Closed, documented
from tripwire.api.schemas import EntityQuery, SeriesQuery
from tripwire.domain.alerts import AlertStatus, Severity
from tripwire.domain.entities import EntityType
from tripwire.domain.metrics import Interval
from tripwire.service.entities import EntityService

router = Router()
EntityId = PathId


class MarkedAnomaly(Closed):
    alert_id: str
    date: str = Field(description="the period, as in `dates`")
    index: int = Field(description="position in `dates`")
    severity: Severity
    score: float
    status: AlertStatus


class Series(Closed):
    """``GET /entities/{id}/series``: one value per period and metric; alerts marked."""

    entity_id: str
    entity_type: EntityType
    profile_id: str
    interval: Interval
    start: str = Field(alias="from", description="ISO date")
    to: str = Field(description="ISO date")
    dates: list[str]
    series: dict[str, list[float | None]] = Field(description="metric -> value per period")
    anomalies: list[MarkedAnomaly]


class LastAlert(Closed):
    alert_id: str
    period: str
    severity: Severity
    score: float
    status: AlertStatus
    created_at: str


class TypicalCause(Closed):
    entity_id: str
    entity_type: str
    relation: str
    alerts: int
    share: float


class EntityProfile(Closed):
    """``GET /entities/{id}/profile``: the entity's anomaly history."""

    entity_id: str
    entity_type: EntityType
    parent_id: str | None
    name: str
    profile_id: str
    anomalies: int
    by_severity: dict[str, int]
    last: LastAlert | None
    typical_causes: list[TypicalCause]


def service() -> EntityService:
    # per request: aws_client caches the clients by endpoint; a service kept from the
    # first call would keep that call's endpoint
    return EntityService.default()


@router.get("/entities/<entity_id>/series", responses=documented(Series))
def series(entity_id: EntityId, query: Annotated[SeriesQuery, Query()]) -> dict[str, Any]:
    tenant = caller_of(router.current_event.raw_event).tenant
    start, end = query.dates()
    return service().series(
        tenant,
        query.profile_id,
        entity_id,
        start,
        end,
        interval=query.interval,
        metrics=query.metric_names(),
    )


@router.get("/entities/<entity_id>/profile", responses=documented(EntityProfile))
def profile(entity_id: EntityId, query: Annotated[EntityQuery, Query()]) -> dict[str, Any]:
    tenant = caller_of(router.current_event.raw_event).tenant
    return service().profile(tenant, query.profile_id, entity_id)
