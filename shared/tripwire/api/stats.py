"""The stats function: GET /statistics, and the entity routes of ``tripwire.api.entities``.

Dashboard figures come from counters kept on write (store/statistics.py), never from a
scan of the alerts.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from tripwire.api import entities
from tripwire.api.context import caller_of
from tripwire.api.errors import invalid_field, not_found
from tripwire.api.resolver import JsonApi
from tripwire.api.responses import Closed, documented
from tripwire.api.schemas import StatisticsQuery
from tripwire.service.entities import EntityNotFound, InvalidQuery
from tripwire.service.statistics import ProfileNotFound, StatisticsService

app = JsonApi()
app.include_router(entities.router)


BySeverity = dict[str, int]  # severity -> alerts


class RangeFigures(Closed):
    raised: int
    by_severity: BySeverity
    acknowledged: int
    resolved: int


class DayFigures(RangeFigures):
    date: str = Field(description="ISO date")


class TopEntity(Closed):
    entity_id: str
    entity_type: str
    alerts: int


class Dashboard(Closed):
    """``GET /statistics``: figures over every alert stored, then over the date range."""

    profile_id: str
    start: str = Field(alias="from", description="ISO date")
    to: str = Field(description="ISO date")
    alerts: int
    by_severity: BySeverity
    by_status: dict[str, int]
    by_status_and_severity: dict[str, BySeverity]
    acknowledged: int
    mean_minutes_to_acknowledge: float | None
    resolved: int
    mean_minutes_to_resolve: float | None
    range: RangeFigures
    top_entities: list[TopEntity]
    trend: list[DayFigures]


def service() -> StatisticsService:
    # per request: aws_client caches the clients by endpoint; a service kept from the
    # first call would keep that call's endpoint
    return StatisticsService.default()


@app.get("/statistics", responses=documented(Dashboard))
def statistics(query: Annotated[StatisticsQuery, Query()]) -> dict[str, Any]:
    tenant = caller_of(app.current_event.raw_event).tenant
    start, end = query.dates()
    return service().dashboard(tenant, query.profile_id, start, end, top=query.top)


@app.exception_handler(ProfileNotFound)
def _no_profile(_: ProfileNotFound) -> Response[str]:
    return not_found("profile")


@app.exception_handler(EntityNotFound)
def _no_entity(_: EntityNotFound) -> Response[str]:
    return not_found("entity")


@app.exception_handler(InvalidQuery)
def _invalid(invalid: InvalidQuery) -> Response[str]:
    return invalid_field("query", invalid.field, str(invalid))
