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


def _document() -> dict[str, Any]:
    return dict(json.loads(docs.document()))


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in _document()["paths"].items()
        for method, operation in item.items()
    ]


def test_query_parameters_carry_the_limits_the_models_enforce() -> None:
    parameters = {
        (path, p["name"]): p
        for _, path, operation in _operations()
        for p in operation.get("parameters", [])
    }
    limit = parameters[("/alerts/active", "limit")]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["type"]) == (1, 200, "integer")
    profile = parameters[("/runs", "profile_id")]
    assert profile["required"] and profile["schema"]["minLength"] == 1
    assert profile["schema"]["maxLength"] == 128 and "pattern" in profile["schema"]
    assert "$ref" in parameters[("/alerts/active", "severity")]["schema"]  # the enum
    assert parameters[("/statistics", "from")]["schema"]["format"] == "date"
    assert "pattern" in parameters[("/statistics", "from")]["schema"]  # 1900-2199
    assert "pattern" in parameters[("/runs", "cursor")]["schema"]
    # No null in a query string, and no second "query" in a name.
    assert not [k for k, p in parameters.items() if "null" in json.dumps(p["schema"])]


def test_every_authenticated_route_documents_401_and_every_body_415() -> None:
    open_paths = {r.path for r in ROUTES if not r.auth}
    for method, path, operation in _operations():
        assert ("401" in operation["responses"]) == (path not in open_paths), (method, path)
        assert ("415" in operation["responses"]) == ("requestBody" in operation), (method, path)


def test_the_idempotency_key_header_is_declared_where_it_is_served() -> None:
    declared = {
        (method, path)
        for method, path, operation in _operations()
        for p in operation.get("parameters", [])
        if p["in"] == "header" and p["name"] == "Idempotency-Key"
    }
    assert declared == {("post", "/detect"), ("post", "/metrics")}


def test_timestamps_are_declared_as_served_and_cross_field_rules_are_stated() -> None:
    document = _document()
    assert '"date-time"' not in json.dumps(document)  # naive UTC times carry no offset
    schemas = document["components"]["schemas"]
    # a stored profile's period or start, or a ticker by symbol: never the kinds mixed
    kinds = [k["allOf"] for k in schemas["BackfillBody"]["oneOf"]]
    assert [given["required"] for given, _ in kinds] == [
        ["profile_id", "period"],
        ["profile_id", "start"],
        ["ticker", "market"],
    ]
    assert [[n["required"][0] for n in none["not"]["anyOf"]] for _, none in kinds] == [
        ["ticker", "market", "max_period"],
        ["ticker", "market", "max_period"],
        ["period", "start", "end", "entity_id"],
    ]
    assert [a["required"] for a in schemas["MetricsBody"]["anyOf"]] == [["points"], ["entities"]]
    assert schemas["Problem"]["properties"]["loc"]["minItems"] == 1
