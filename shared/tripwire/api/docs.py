"""The docs function: ``GET /openapi.json`` and ``GET /docs`` (Swagger UI), no auth.

The document covers the whole API: each function's resolver (``tripwire.api.<function>``
exposing ``app``, for every function ``api.routes.ROUTES`` names) generates its part with
Powertools, and Powertools' ``OpenAPIMerge`` joins them — routes are declared in code once.
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

from tripwire.api.health import package_version
from tripwire.api.routes import ROUTES
from tripwire.telemetry import logger

TITLE = "Tripwire"
DESCRIPTION = (
    "Metric anomaly detection: detect, alerts, verification, statistics, runs, ingest. "
    "Every route but /health and the docs needs a JWT (Cognito id token; locally "
    "`tripwire local token`); the tenant comes from the token."
)
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
    schema = merge.get_openapi_schema()
    _open_routes(schema.get("paths", {}))
    return merge.get_openapi_json_schema()


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
