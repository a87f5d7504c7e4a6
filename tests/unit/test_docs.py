"""GET /openapi.json and GET /docs: one document for the whole API, Swagger UI offline."""

from __future__ import annotations

import base64
import gzip
import importlib.util
import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from tripwire.api import docs
from tripwire.api.routes import ROUTES
from tripwire.local.gateway import LambdaContext, functions_root

EVENTS = Path(__file__).resolve().parents[2] / "events"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@cache
def handler() -> Handler:
    spec = importlib.util.spec_from_file_location(
        "_docs_handler_under_test", functions_root() / "docs" / "handler.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found: Handler = module.handler
    return found


def invoke(name: str) -> dict[str, Any]:
    event = json.loads((EVENTS / f"{name}.json").read_text())
    return handler()(event, LambdaContext("docs", "unit-request"))


def _blank(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_every_route_is_documented() -> None:
    documented = docs.routes_documented()
    wanted = {(r.method, _blank(r.path)) for r in ROUTES if r.function not in ("docs", "health")}
    assert wanted - documented == set(), "routes missing from /openapi.json"


def test_the_document_lists_no_route_the_gateway_does_not_serve() -> None:
    served = {(r.method, _blank(r.path)) for r in ROUTES}
    assert docs.routes_documented() - served == set()


def test_routes_need_a_jwt_except_health() -> None:
    document = json.loads(docs.document())
    assert document["components"]["securitySchemes"]["jwt"]["scheme"] == "bearer"
    assert document["security"] == [{"jwt": []}]
    assert document["paths"]["/health"]["get"]["security"] == []
    assert "security" not in document["paths"]["/detect"]["post"]  # the document-wide JWT


def test_request_models_are_in_the_document() -> None:
    document = json.loads(docs.document())
    detect = document["paths"]["/detect"]["post"]
    assert {"200", "202", "422"} <= set(detect["responses"])
    schemas = document["components"]["schemas"]
    assert {"DetectBody", "DetectResult", "DetectAccepted"} <= set(schemas)
    assert set(schemas["DetectBody"]["properties"]) >= {"profile_id", "entity_ids", "detector"}


def test_openapi_event_returns_the_document() -> None:
    result = invoke("openapi")
    assert result["statusCode"] == 200
    assert result["headers"]["Content-Type"] == "application/json"
    assert json.loads(result["body"]) == json.loads(docs.document())


def test_docs_event_returns_swagger_ui_with_no_outside_asset() -> None:
    result = invoke("docs")  # the sample accepts gzip: the 1.7 MB page travels compressed
    assert result["statusCode"] == 200 and result["isBase64Encoded"] is True
    assert result["headers"]["Content-Encoding"] == "gzip"
    page = gzip.decompress(base64.b64decode(result["body"])).decode()
    assert "SwaggerUIBundle" in page and '"/detect"' in page
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=", page), "no CDN or other host"
    assert "validatorUrl: null" in page
