"""The API's error answers, one shape for all of them (``api.responses`` documents it).

Every 4xx is ``{"statusCode": …, "message": …}``; a 422 (and a 415) also lists each
problem in ``detail`` as ``{"loc": [source, field, …], "type": …, "msg": …}`` — the source
is ``body``, ``query``, ``path`` or ``header``, then the field (and for rows, the index).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

Loc = Sequence[str | int]


def problem(loc: Loc, msg: str, type: str = "value_error") -> dict[str, Any]:
    """One invalid value: where (source first, then the field) and why."""
    return {"loc": list(loc), "type": type, "msg": msg}


def error_body(
    status: int, message: str, detail: Sequence[dict[str, Any]] = (), **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"statusCode": int(status), "message": message}
    if detail:
        body["detail"] = list(detail)
    return body | extra


def error(
    status: int, message: str, detail: Sequence[dict[str, Any]] = (), **extra: Any
) -> Response[str]:
    """An error response; ``extra`` adds documented fields (e.g. ``entity_ids``)."""
    payload = json.dumps(error_body(status, message, detail, **extra))
    return Response(int(status), content_types.APPLICATION_JSON, payload)


def invalid(*problems: dict[str, Any]) -> Response[str]:
    """422 listing ``problems``; the message repeats the first one in words."""
    first = problems[0]
    where = ".".join(str(part) for part in first["loc"][1:]) or str(first["loc"][0])
    return error(HTTPStatus.UNPROCESSABLE_ENTITY, f"{where}: {first['msg']}", problems)


def invalid_field(source: str, field: str, msg: str, type: str = "value_error") -> Response[str]:
    return invalid(problem([source, field], msg, type))


def not_found(what: str) -> Response[str]:
    return error(HTTPStatus.NOT_FOUND, f"{what} not found")


def conflict(message: str) -> Response[str]:
    return error(HTTPStatus.CONFLICT, message)
