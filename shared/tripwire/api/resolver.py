"""The resolver every API function is built on: JSON in, JSON out, one error shape.

Before routing, a request body is checked the way the OpenAPI document states it:

- a body is JSON: ``Content-Type`` absent, ``application/json`` or ``…+json``; anything
  else (curl's ``-d`` default, ``application/x-www-form-urlencoded``, among them) is a 415
  naming ``Content-Type``;
- JSON is UTF-8 (RFC 8259): other bytes are a 422 naming the body and the byte offset;
- ``max_body_bytes`` (when set) bounds the body: a 413 before anything is parsed.

Powertools' own 422s are re-shaped like the project's (``api.errors``): ``loc`` without
the route's parameter name, and the message of the check that failed.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.utilities.typing import LambdaContext

from tripwire.api.errors import error_body, invalid, problem
from tripwire.domain.entities import ID_MAX_LENGTH, ID_PATTERN

JSON_MEDIA_TYPE = "application/json"
METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
# Route functions take a query string as one model parameter of this name.
QUERY_PARAMETER = "query"
# An id in the path: decoded by API Gateway (and the local gateway) before it gets here.
PathId = Annotated[str, Path(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN)]


def media_type(headers: Mapping[str, str] | None) -> str:
    value = next((v for k, v in (headers or {}).items() if k.lower() == "content-type"), "")
    return value.split(";")[0].strip().lower()


def is_json(kind: str) -> bool:
    return kind in ("", JSON_MEDIA_TYPE) or kind.endswith("+json")


def body_refusal(event: Mapping[str, Any], max_bytes: int | None = None) -> dict[str, Any] | None:
    """The 413/415/422 answer a request's body earns before routing, or None."""
    body = event.get("body") or ""
    encoded = bool(event.get("isBase64Encoded"))
    size = len(body) * 3 // 4 if encoded else len(body.encode())
    if max_bytes is not None and size > max_bytes:
        message = f"the body is {size} bytes; this route takes at most {max_bytes}"
        return _answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, error_body(413, message))
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method", ""))
    if not body or method.upper() not in METHODS_WITH_BODY:
        return None
    kind = media_type(event.get("headers"))
    if not is_json(kind):
        msg = f"must be {JSON_MEDIA_TYPE}, not {kind}"
        where = problem(["header", "Content-Type"], msg, "unsupported_content_type")
        body_ = error_body(415, f"Content-Type {msg}", [where])
        return _answer(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, body_)
    if encoded:
        try:
            base64.b64decode(body, validate=True).decode("utf-8")
        except binascii.Error:
            return _answer(422, _not_json(0, "the body is not valid base64"))
        except UnicodeDecodeError as bad:
            return _answer(422, _not_json(bad.start, "the body is not UTF-8 text"))
    return None


def _not_json(offset: int, msg: str) -> dict[str, Any]:
    where = problem(["body", offset], msg, "json_invalid")
    return error_body(HTTPStatus.UNPROCESSABLE_ENTITY, f"body: {msg}", [where])


def _answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": int(status),
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def normalized_loc(loc: Any) -> list[str | int]:
    """``("query", "query", "limit")`` → ``["query", "limit"]``: the client's names only."""
    parts: list[str | int] = list(loc)
    if len(parts) >= 2 and parts[0] == "query" and parts[1] == QUERY_PARAMETER:
        del parts[1]
    return parts


def _request_invalid(exc: RequestValidationError) -> Response[str]:
    problems = [
        problem(
            normalized_loc(e.get("loc") or ("body",)), str(e.get("msg") or e["type"]), e["type"]
        )
        for e in exc.errors()
    ]
    return invalid(*problems)


class JsonApi(APIGatewayHttpResolver):
    """``APIGatewayHttpResolver`` with validation on and the checks above."""

    def __init__(self, *, max_body_bytes: int | None = None) -> None:
        super().__init__(enable_validation=True)
        self.max_body_bytes = max_body_bytes
        self.exception_handler(RequestValidationError)(_request_invalid)

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        refusal = body_refusal(event, self.max_body_bytes)
        if refusal is not None:
            return refusal
        return super().resolve(event, context)
