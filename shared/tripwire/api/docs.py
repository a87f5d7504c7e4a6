"""The docs function: ``GET /openapi.json`` and ``GET /docs`` (Swagger UI), no auth.

The document covers the whole API: each function's resolver (``tripwire.api.<function>``
exposing ``app``, for every function ``api.routes.ROUTES`` names) generates its part with
Powertools, and Powertools' ``OpenAPIMerge`` joins them — routes are declared in code once.
Then it is completed from the same code that validates: query parameters get the schemas
of the models that check them (Powertools lists a query model's fields by type only), the
``Idempotency-Key`` header where ``api.idempotency`` serves it, 401 on every route that
needs a token, 415 on every route that takes a body (``api.resolver``), and timestamps are
declared as served (UTC, ISO 8601, the offset only where one was stored).
Swagger UI works offline: its JavaScript and CSS ship inside the Powertools package and
are inlined into the page (no CDN), and the online spec validator is switched off.
"""

from __future__ import annotations

import importlib
import json
import re
from functools import cache
from typing import Any

import aws_lambda_powertools.event_handler as event_handler
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html
from pydantic import BaseModel

from tripwire.api import idempotency
from tripwire.api.errors import error_body
from tripwire.api.health import package_version
from tripwire.api.routes import ROUTES
from tripwire.telemetry import logger

TITLE = "Tripwire"
DESCRIPTION = (
    "Metric anomaly detection: detect, alerts, verification, statistics, runs, ingest. "
    "Every route but /health and the docs needs a JWT (Cognito ID token — access tokens are "
    "refused; locally `tripwire local token`); the tenant comes from the token. Request "
    "bodies are JSON (`Content-Type: application/json`, UTF-8)."
)
COMPONENTS_REF = "#/components/schemas/{model}"
# How timestamps are served: UTC, ISO 8601; stored naive, most carry no offset.
TIMESTAMP = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$",
    "description": "UTC date and time, ISO 8601 (an offset only where one was stored)",
}
SECURITY_SCHEME = "jwt"
ASSETS = event_handler.__path__[0] + "/openapi/swagger_ui"


app = APIGatewayHttpResolver()


def api_functions() -> list[str]:
    """Every function serving routes, except this one."""
    return sorted({r.function for r in ROUTES} - {"docs"})


@cache
def document() -> str:
    """The merged OpenAPI document as JSON (built once per container)."""
    merge = OpenAPIMerge(
        title=TITLE,
        version=package_version(),
        description=DESCRIPTION,
        security_schemes={SECURITY_SCHEME: HTTPBearer(bearerFormat="JWT")},
        security=[{SECURITY_SCHEME: []}],
        on_conflict="error",  # two functions claiming one route is a wiring mistake
    )
    resolvers: list[APIGatewayHttpResolver] = []
    for function in api_functions():
        module = f"tripwire.api.{function}"
        try:
            resolver = importlib.import_module(module).app
        except ModuleNotFoundError as error:
            if error.name != module:
                raise
            logger.warning("no API module for function", extra={"function": function})
            continue
        try:
            part = resolver.get_openapi_schema(title=TITLE, version=package_version())
        except Exception:  # one function's broken route must not take the others' docs down
            logger.exception("cannot document function", extra={"function": function})
            continue
        merge.add_schema(part)
        resolvers.append(resolver)
    document = json.loads(merge.get_openapi_json_schema())
    _open_routes(document.get("paths", {}))
    for resolver in resolvers:
        _complete(resolver, document)
    _declare_errors(document)
    _declare_timestamps(document)
    return json.dumps(document, separators=(",", ":"))


def _routes_of(resolver: APIGatewayHttpResolver) -> list[Any]:
    # Powertools exposes no list of a resolver's routes; each Route's fields are public.
    return list(resolver._static_routes + resolver._dynamic_routes)


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``X | None`` as a query parameter is X or absent: a query string holds no null."""
    options = schema.get("anyOf")
    if options and {"type": "null"} in options:
        rest = [o for o in options if o != {"type": "null"}]
        schema = {k: v for k, v in schema.items() if k != "anyOf"}
        schema |= rest[0] if len(rest) == 1 else {"anyOf": rest}
    schema.pop("title", None)
    if "default" in schema and schema["default"] is None:
        del schema["default"]
    return schema


def _query_parameters(model: type[BaseModel], components: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True, ref_template=COMPONENTS_REF)
    for name, definition in schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    required = set(schema.get("required", ()))
    parameters = []
    for name, field in schema.get("properties", {}).items():
        field = _without_null(dict(field))
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if "description" in field:
            parameter["description"] = field.pop("description")
        parameters.append(parameter | {"schema": field})
    return parameters


def _complete(resolver: APIGatewayHttpResolver, document: dict[str, Any]) -> None:
    """Query parameters from their models, and the Idempotency-Key header, for ``resolver``."""
    components = document.setdefault("components", {}).setdefault("schemas", {})
    for route in _routes_of(resolver):
        operation = document["paths"].get(route.openapi_path, {}).get(route.method.lower())
        if operation is None:
            continue
        given = operation.get("parameters", [])
        parameters = [p for p in given if p.get("in") != "query"]
        for field in route.dependant.query_params:
            model = field.field_info.annotation
            if isinstance(model, type) and issubclass(model, BaseModel):
                parameters += _query_parameters(model, components)
            else:
                parameters += [p for p in given if p["name"] == field.alias]
        if resolver in idempotency.RESOLVERS and route.method == "POST":
            parameters.append(idempotency.header_parameter())
        if parameters:
            operation["parameters"] = parameters


def _declare_errors(document: dict[str, Any]) -> None:
    """401 where a token is needed; 415 where a JSON body is read."""
    open_keys = {(r.method.lower(), _template(r.path)) for r in ROUTES if not r.auth}
    ref = {"$ref": COMPONENTS_REF.format(model="ErrorBody")}
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            if (method, _template(path)) not in open_keys:
                example = error_body(401, "Unauthorized")
                responses["401"] = {
                    "description": "No valid Cognito ID token (missing, expired, an access token)",
                    "content": {"application/json": {"schema": ref, "example": example}},
                }
            if "requestBody" in operation:
                responses["415"] = {
                    "description": "The body is not JSON: `Content-Type` must be application/json",
                    "content": {"application/json": {"schema": ref}},
                }


def _declare_timestamps(node: Any) -> None:
    """Every ``date-time`` as served: see ``TIMESTAMP``."""
    if isinstance(node, dict):
        if node.get("format") == "date-time":
            node.pop("format")
            node.update({k: v for k, v in TIMESTAMP.items() if k != "description" or k not in node})
        for value in node.values():
            _declare_timestamps(value)
    elif isinstance(node, list):
        for value in node:
            _declare_timestamps(value)


def _template(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def _open_routes(paths: dict[str, Any]) -> None:
    """Routes without auth (health) say so, overriding the document-wide JWT."""
    open_keys = {(r.method.lower(), _template(r.path)) for r in ROUTES if not r.auth}
    for path, item in paths.items():
        for method, operation in item.items():
            if (method, _template(path)) in open_keys and isinstance(operation, dict):
                operation["security"] = []


@cache
def swagger_page() -> str:
    with open(f"{ASSETS}/swagger-ui-bundle.min.js", encoding="utf-8") as js:
        script = js.read()
    with open(f"{ASSETS}/swagger-ui.min.css", encoding="utf-8") as css:
        style = css.read()
    spec = document().replace("</", "<\\/")  # keeps the inline <script> closed where it should
    page = generate_swagger_html(spec, script, style, "", None)
    # No call to validator.swagger.io: the page must work without internet access.
    return page.replace("deepLinking: true,", "deepLinking: true,\n    validatorUrl: null,", 1)


@app.get("/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    return Response(200, content_types.APPLICATION_JSON, document())


@app.get("/docs", include_in_schema=False, compress=True)
def docs() -> Response[str]:
    query = app.current_event.query_string_parameters or {}
    if query.get("format") == "json":  # what the page's "download" link asks for
        return Response(200, content_types.APPLICATION_JSON, document())
    return Response(200, "text/html; charset=utf-8", swagger_page())


def routes_documented() -> set[tuple[str, str]]:
    """(METHOD, path template with params blanked) of every documented operation."""
    paths = json.loads(document()).get("paths", {})
    return {(m.upper(), _template(p)) for p, item in paths.items() for m in item}
