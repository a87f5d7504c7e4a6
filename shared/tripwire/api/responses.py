"""Response bodies of the API, as documented in ``/openapi.json``.

Routes return plain dicts (built by the services); these models only describe them, via
each route's ``responses=documented(...)``, so the OpenAPI document states exactly what a
client receives — successes and errors alike. The fuzz test validates live answers
against the document.
"""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ConfigDict, Field


class Closed(BaseModel):
    """A documented body: every field listed, nothing else sent."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Problem(Closed):
    """One invalid value: where it was (source, field, row index...) and why."""

    loc: list[str | int] = Field(
        min_length=1,
        description="the source (body, query, path, header), then the field and, for rows, "
        "the index; the source alone when the whole of it is at fault (a missing body)",
    )
    type: str
    msg: str = Field(description="why, in words")


class ErrorBody(Closed):
    """401, 404, 409, 413, 415, 503: what went wrong, in words."""

    # API Gateway's own answers (no route matched: a 404) carry only the message.
    statusCode: int | None = Field(default=None, description="absent from API Gateway's own")
    message: str
    detail: list[Problem] | None = Field(default=None, description="the field at fault, if one")
    entity_ids: list[str] | None = Field(default=None, description="the unknown entities")
    backfill_id: str | None = Field(
        default=None, description="POST /backfill by ticker: the backfill already running"
    )


class ValidationErrorBody(Closed):
    """422: every invalid value of the request."""

    statusCode: int
    detail: list[Problem] = Field(min_length=1)
    message: str = Field(description="the first problem, in words")


ERRORS: dict[int, tuple[str, type[BaseModel]]] = {
    HTTPStatus.NOT_FOUND: ("Unknown id (or another tenant's)", ErrorBody),
    HTTPStatus.CONFLICT: ("Conflicts with the current state; nothing changed", ErrorBody),
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: ("The body is too large", ErrorBody),
    HTTPStatus.UNPROCESSABLE_ENTITY: ("Invalid input; `loc` names the field", ValidationErrorBody),
    HTTPStatus.SERVICE_UNAVAILABLE: ("A dependency is unavailable; retry later", ErrorBody),
}


def _json(description: str, model: type[BaseModel]) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": model}}}


def documented(
    model: type[BaseModel],
    *,
    status: int = HTTPStatus.OK,
    errors: tuple[int, ...] = (HTTPStatus.NOT_FOUND,),
    description: str = "Successful Response",
) -> dict[int, OpenAPIResponse]:
    """The ``responses`` of a route: its success body and its error bodies (422 always)."""
    return {int(status): _json(description, model), **error_responses(*errors)}


def error_responses(*errors: int) -> dict[int, OpenAPIResponse]:
    """The given error statuses' bodies, and 422's."""
    return {int(code): _json(*ERRORS[code]) for code in (*errors, HTTPStatus.UNPROCESSABLE_ENTITY)}
