"""GET /openapi.json and GET /docs over real HTTP: no token needed, the whole API inside."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tripwire.api.routes import ROUTES
from tripwire.local.stack import LocalStack

pytestmark = pytest.mark.integration


def get(stack: LocalStack, path: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(stack.api_url + path, timeout=30) as response:
        return response.status, response.headers["content-type"], response.read()


def test_openapi_json_without_a_token(local_stack: LocalStack) -> None:
    status, kind, body = get(local_stack, "/openapi.json")
    assert (status, kind) == (200, "application/json")
    document = json.loads(body)
    assert document["openapi"].startswith("3.") and document["info"]["title"] == "Tripwire"
    functions = {r.function for r in ROUTES} - {"docs"}
    assert len(document["paths"]) >= len(functions)


def test_swagger_ui_without_a_token(local_stack: LocalStack) -> None:
    status, kind, body = get(local_stack, "/docs")
    assert status == 200 and kind.startswith("text/html")
    page = body.decode()
    assert "SwaggerUIBundle(swaggerUIOptions)" in page and "/anomalies/{alert_id}/verify" in page
