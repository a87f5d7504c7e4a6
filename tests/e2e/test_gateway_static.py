"""The local gateway serves the dashboard's files at /app/ beside the API, over real HTTP."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest

from tripwire.local.gateway import Gateway, web_root


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    # Only static files and /health are asked for: no AWS behind it is needed.
    with Gateway(auth_dir=tmp_path_factory.mktemp("auth")) as running:
        yield running


def get(gateway: Gateway, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(gateway.host, gateway.port, timeout=10)
    try:
        connection.request(method, path)  # sent as written: no client-side normalising
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def test_the_root_sends_a_browser_to_the_dashboard(gateway: Gateway) -> None:
    status, headers, _ = get(gateway, "/")
    assert (status, headers["location"]) == (302, "/app/")
    assert gateway.app_url == f"{gateway.url}/app/"


def test_the_page_and_its_modules_are_served_with_their_types(gateway: Gateway) -> None:
    status, headers, body = get(gateway, "/app/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b'<script type="module" src="src/app.js">' in body
    assert "default-src 'self'" in headers["content-security-policy"]
    for path, kind in (
        ("/app/src/app.js", "text/javascript"),
        ("/app/style.css", "text/css"),
        ("/app/vendor/uplot/uPlot.esm.js", "text/javascript"),
    ):
        status, headers, body = get(gateway, path)
        assert status == 200 and headers["content-type"].startswith(kind), path
        assert body == (web_root() / path.removeprefix("/app/")).read_bytes()
        assert headers["x-content-type-options"] == "nosniff"
    assert get(gateway, "/app/src/app.js", "HEAD")[0] == 200


def test_locally_the_config_points_at_this_origin_with_local_tokens(gateway: Gateway) -> None:
    status, _, body = get(gateway, "/app/config.json")
    assert status == 200 and json.loads(body) == {"apiUrl": "", "auth": "local"}


@pytest.mark.parametrize(
    "path",
    [
        "/app/nope.js",
        "/app/../pyproject.toml",
        "/app/..%2f..%2fpyproject.toml",
        "/app/%2e%2e/README.md",
        "/app/src/",
    ],
)
def test_nothing_outside_web_is_served(gateway: Gateway, path: str) -> None:
    status, _, body = get(gateway, path)
    assert (status, json.loads(body)) == (404, {"message": "Not Found"})


def test_the_api_is_unchanged_beside_it(gateway: Gateway) -> None:
    assert get(gateway, "/health")[0] == 200
    assert get(gateway, "/alerts/active?profile_id=A1")[0] == 401  # still needs a token
    assert get(gateway, "/app/", "POST")[0] == 404  # only GET and HEAD reach the files
    assert get(gateway, "/nope")[0] == 404
