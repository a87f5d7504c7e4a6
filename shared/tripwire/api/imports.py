"""``GET /imports``: the reports of the files dropped in the landing bucket, newest first.

A Powertools ``Router``: the ingest function's resolver includes it. The tenant comes from
the token only; its reports are the objects under ``{tenant}/`` (``service.landing``).
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, ConfigDict, Field

from tripwire.api.context import caller_of
from tripwire.api.responses import Closed, documented
from tripwire.domain.entities import Identifier
from tripwire.domain.landing import LandingReport
from tripwire.service.landing import import_reports

router = Router()


class ImportsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile_id: Identifier | None = Field(
        default=None, description="one profile's imports; all of the tenant's without it"
    )
    limit: int = Field(default=20, ge=1, le=100)


class ImportsList(Closed):
    items: list[LandingReport] = Field(
        description="newest first: what each dropped file imported, or why it was refused"
    )


@router.get(
    "/imports",
    responses=documented(ImportsList),
    summary="Reports of the files dropped in the landing bucket, newest first",
)
def imports(query: Annotated[ImportsQuery, Query()]) -> dict[str, Any]:
    tenant = caller_of(router.current_event.raw_event).tenant
    found = import_reports(tenant, query.profile_id, query.limit)
    return {"items": [report.model_dump(mode="json") for report in found]}
