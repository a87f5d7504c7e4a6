"""The local stack end to end: real HTTP to the gateway, boto3 over HTTP to moto server."""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import boto3
import jwt
import pytest

from tripwire.api.routes import Route
from tripwire.local import auth
from tripwire.local.gateway import Gateway
from tripwire.local.stack import LocalStack, load_stack_env
from tripwire.store.provision import provision
from tripwire.store.tables import BUCKETS, TABLES

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[2] / "events"

ECHO = """
import json

def handler(event, context):
    body = {"event": event, "function": context.function_name}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "cookies": ["seen=1"], "body": json.dumps(body)}
"""
BOOM = """
def handler(event, context):
    raise RuntimeError("secret detail")
"""
BINARY = """
import base64

def handler(event, context):
    body = base64.b64encode(b"\\x00\\xff").decode()
    return {"statusCode": 201, "isBase64Encoded": True, "body": body}
"""


def call(
    url: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, _lower(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, _lower(error.headers.items()), error.read()


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}


def aws(stack: LocalStack, service: Literal["dynamodb", "s3"]) -> Any:
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=stack.region
    ).client(service, endpoint_url=stack.aws_endpoint)


@pytest.fixture(scope="module")
def gateway(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway with a test route table and test functions, sharing the stack's keys."""
    functions = tmp_path_factory.mktemp("functions")
    for name, source in {"echo": ECHO, "boom": BOOM, "binary": BINARY}.items():
        (functions / name).mkdir()
        (functions / name / "handler.py").write_text(source)
    routes = (
        Route("GET", "/health", "echo", auth=False),
        Route("ANY", "/private/{id}", "echo", auth=True),
        Route("POST", "/boom", "boom", auth=False),
        Route("GET", "/binary", "binary", auth=False),
    )
    with Gateway(routes, functions_dir=functions, auth_dir=local_stack.directory) as gw:
        yield gw


def test_health_end_to_end(local_stack: LocalStack) -> None:
    status, headers, body = call(f"{local_stack.api_url}/health")
    assert status == 200
    assert headers["content-type"].startswith("application/json")
    payload = json.loads(body)
    assert payload["status"] == "ok" and payload["service"] == "tripwire"
    assert payload["version"]


def test_unknown_route_is_404(local_stack: LocalStack) -> None:
    for method, path in (("GET", "/nope"), ("GET", "/health/extra"), ("TRACE", "/nope")):
        status, _, body = call(f"{local_stack.api_url}{path}", method=method)
        assert (status, json.loads(body)) == (404, {"message": "Not Found"}), path


def test_a_method_a_route_does_not_serve_is_a_json_405_naming_the_allowed_ones(
    local_stack: LocalStack,
) -> None:
    for method in ("POST", "DELETE", "TRACE", "CONNECT", "BREW"):
        status, headers, body = call(f"{local_stack.api_url}/health", method=method)
        assert (status, json.loads(body)) == (405, {"message": "Method Not Allowed"}), method
        assert headers["allow"] == "GET"
    status, headers, _ = call(f"{local_stack.api_url}/alerts/al-1", method="DELETE")
    assert (status, headers["allow"]) == (405, "GET")


def test_every_table_is_declared_in_moto(local_stack: LocalStack) -> None:
    dynamodb = aws(local_stack, "dynamodb")
    for table in TABLES:
        name = local_stack.env[table.env_var]
        found = dynamodb.describe_table(TableName=name)["Table"]
        keys = {k["AttributeName"]: k["KeyType"] for k in found["KeySchema"]}
        expected = {table.partition.name: "HASH"}
        if table.sort:
            expected[table.sort.name] = "RANGE"
        assert keys == expected, name
        assert found["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        indexes = {i["IndexName"]: i for i in found.get("GlobalSecondaryIndexes", [])}
        assert set(indexes) == {i.name for i in table.indexes}, name
        for index in table.indexes:
            schema = [k["AttributeName"] for k in indexes[index.name]["KeySchema"]]
            assert schema == [index.partition.name, *([index.sort.name] if index.sort else [])]
            assert indexes[index.name]["Projection"]["ProjectionType"] == "ALL"
        stream = found.get("StreamSpecification", {})
        assert stream.get("StreamViewType") == table.stream, name
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if table.ttl_attribute:
            assert ttl["TimeToLiveStatus"] == "ENABLED", name
            assert ttl["AttributeName"] == table.ttl_attribute
        else:
            assert ttl["TimeToLiveStatus"] == "DISABLED", name


def test_every_bucket_exists_with_versioning(local_stack: LocalStack) -> None:
    s3 = aws(local_stack, "s3")
    for bucket in BUCKETS:
        name = local_stack.env[bucket.env_var]
        s3.head_bucket(Bucket=name)
        status = s3.get_bucket_versioning(Bucket=name).get("Status")
        assert status == ("Enabled" if bucket.versioned else None)


def test_provision_is_idempotent(local_stack: LocalStack) -> None:
    provision(env=local_stack.env)
    provision(env=local_stack.env)


def test_auth_route_without_token_is_401(gateway: Gateway) -> None:
    status, _, body = call(f"{gateway.url}/private/1")
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})


@pytest.mark.parametrize("kind", ["bad-signature", "expired", "no-tenant", "garbage"])
def test_auth_route_with_bad_token_is_401(
    gateway: Gateway, tenant: str, tmp_path: Path, kind: str
) -> None:
    key_dir = gateway.auth_dir
    if kind == "bad-signature":
        token = auth.issue_token(tenant, "mallory", directory=tmp_path)  # another key pair
    elif kind == "expired":
        token = auth.issue_token(tenant, "alice", ttl=-60, directory=key_dir)
    elif kind == "no-tenant":
        now = int(time.time())
        claims = {"sub": "x", "iss": auth.ISSUER, "aud": auth.AUDIENCE, "iat": now, "exp": now + 60}
        token = jwt.encode(claims, auth.private_key(key_dir), algorithm="RS256")
    else:
        token = "not.a.jwt"
    status, _, body = call(f"{gateway.url}/private/1", headers={"Authorization": f"Bearer {token}"})
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    with pytest.raises(auth.AuthError):
        auth.verify(token, directory=key_dir)


def test_auth_route_reaches_handler_with_claims(gateway: Gateway, tenant: str) -> None:
    token = auth.issue_token(tenant, "alice", directory=gateway.auth_dir)
    status, headers, body = call(
        f"{gateway.url}/private/a%20b?x=1&x=2&y=",
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Cookie": "c1=v1; c2=v2",
        },
        body=b'{"hello": "world"}',
    )
    assert status == 200, body
    assert headers["set-cookie"] == "seen=1"
    event = json.loads(body)["event"]
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims["custom:tenant_id"] == tenant
    assert claims["username"] == "alice"
    assert isinstance(claims["exp"], str)  # API Gateway stringifies claim values
    assert event["routeKey"] == "ANY /private/{id}"  # the declared key, as AWS sends it
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["pathParameters"] == {"id": "a b"}
    assert event["queryStringParameters"] == {"x": "1,2", "y": ""}
    assert event["rawQueryString"] == "x=1&x=2&y="
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert "cookie" not in event["headers"]
    assert event["body"] == '{"hello": "world"}' and event["isBase64Encoded"] is False


def test_health_event_matches_sample(gateway: Gateway) -> None:
    sample = json.loads((EVENTS / "health.json").read_text())
    status, _, body = call(f"{gateway.url}/health", headers={"Accept": "application/json"})
    assert status == 200
    event = json.loads(body)["event"]
    assert set(event) == set(sample)
    assert set(event["requestContext"]) == set(sample["requestContext"])
    assert set(event["requestContext"]["http"]) == set(sample["requestContext"]["http"])
    assert event["routeKey"] == sample["routeKey"] == "GET /health"
    assert set(sample["headers"]) - {"content-length"} <= set(event["headers"])


def test_handler_error_is_500_without_details(gateway: Gateway) -> None:
    status, _, body = call(f"{gateway.url}/boom", method="POST", body=b"")
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})


def test_base64_response_is_decoded(gateway: Gateway) -> None:
    status, _, body = call(f"{gateway.url}/binary")
    assert (status, body) == (201, b"\x00\xff")


def test_oversized_body_is_413(gateway: Gateway) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
    connection.putrequest("POST", "/boom")
    connection.putheader("Content-Length", str(10 * 1024 * 1024 + 1))
    connection.endheaders()  # the gateway answers before reading the body
    response = connection.getresponse()
    assert response.status == 413
    connection.close()


def test_second_stack_in_same_dir_is_refused(local_stack: LocalStack) -> None:
    with pytest.raises(RuntimeError, match="already running"):
        LocalStack(directory=local_stack.directory).start()


def _closed(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as probe:
        return probe.connect_ex((host, int(port))) != 0


def _lasting_threads() -> set[threading.Thread]:
    """Threads but the servers' per-request ones: the session stack's pollers keep asking
    its moto server, so one of its request threads may start at any moment (the second
    stack's servers are checked closed by their ports)."""
    return {t for t in threading.enumerate() if "process_request_thread" not in t.name}


def test_a_second_stack_starts_and_stops_cleanly(local_stack: LocalStack, tmp_path: Path) -> None:
    threads_before = _lasting_threads()
    endpoint_before = local_stack.env["AWS_ENDPOINT_URL"]
    # moto keeps one backend per process: another prefix keeps the session stack's tables,
    # queues and topic out of this stack's reach.
    stack = LocalStack(directory=tmp_path, prefix="tripwire-second")
    env = stack.start()
    try:
        # how fast it starts is bench/local_restore.py's to measure, not a test's to time
        assert load_stack_env(tmp_path) == env
        assert call(f"{stack.api_url}/health")[0] == 200
    finally:
        stack.stop()
    assert _closed(stack.api_url) and _closed(stack.aws_endpoint)
    assert not stack.state_file.exists()
    assert load_stack_env(tmp_path) is None
    assert _lasting_threads() <= threads_before
    # The session stack's environment is back in place.
    assert os.environ["AWS_ENDPOINT_URL"] == endpoint_before


def test_state_of_dead_process_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "stack.json").write_text(json.dumps({"pid": 2**22 + 12345, "env": {"A": "1"}}))
    assert load_stack_env(tmp_path) is None
