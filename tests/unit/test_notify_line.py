"""The production LINE client against the local Messaging API stand-in, over real HTTP: the
token from Secrets Manager (in-process moto), the retry key that makes a retry push once,
429 with Retry-After, and the stand-in's own contract checks."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import boto3
import pytest

from tripwire.local.line_provider import LocalLineProvider
from tripwire.notify.line import MAX_WAIT, LineClient, LineError, retry_key
from tripwire.notify.secrets import CachedSecret

TO = "U" + "4af4980629" * 3 + "ab"


@pytest.fixture
def line(moto_aws: None) -> Iterator[LocalLineProvider]:
    provider = LocalLineProvider(rate_limit=1, rate_window=0.3)
    provider.start()
    boto3.client("secretsmanager").create_secret(
        Name="line-token", SecretString=json.dumps({"channel_access_token": provider.token})
    )
    yield provider
    provider.stop()


def client(line: LocalLineProvider, waits: list[float] | None = None) -> LineClient:
    def sleep(seconds: float) -> None:
        (waits if waits is not None else []).append(seconds)
        line.rate_window = 0.0  # the window has passed by the time the client retries

    return LineClient(CachedSecret("UNUSED", "channel_access_token", "line-token"), line.url, sleep)


def test_pushes_text_with_the_token_from_the_secret_and_a_retry_key(
    line: LocalLineProvider,
) -> None:
    key = retry_key("acme", "G-1")
    pushed = client(line).push(TO, "budget exhausted", key)
    (push,) = line.pushes
    assert (push.to, push.texts, push.retry_key) == (TO, ["budget exhausted"], key)
    assert pushed.request_id == push.request_id and not pushed.duplicate


def test_a_retry_with_the_same_key_is_accepted_once(line: LocalLineProvider) -> None:
    line.rate_limit = 10
    key = retry_key("acme", "G-1")
    first = client(line).push(TO, "budget exhausted", key)
    again = client(line).push(TO, "budget exhausted", key)
    assert again.duplicate and again.request_id == first.request_id  # 409: sent before
    assert len(line.pushes) == 1
    assert line.answers == [200, 409]
    assert retry_key("acme", "G-1") == key != retry_key("acme", "G-2")


def test_429_waits_retry_after_then_pushes(line: LocalLineProvider) -> None:
    waits: list[float] = []
    client(line).push(TO, "one", retry_key("a"))
    client(line, waits).push(TO, "two", retry_key("b"))
    assert line.answers == [200, 429, 200]
    assert waits == [1.0]  # the stand-in's Retry-After, in whole seconds
    assert [p.texts for p in line.pushes] == [["one"], ["two"]]


def test_429_with_a_long_retry_after_fails_for_the_notifier_to_retry(
    line: LocalLineProvider,
) -> None:
    line.rate_window = 60.0
    client(line).push(TO, "one", retry_key("a"))
    with pytest.raises(LineError) as raised:
        client(line).push(TO, "two", retry_key("b"))
    assert raised.value.status == 429 and raised.value.retry_after is not None
    assert raised.value.retry_after > MAX_WAIT
    assert line.answers == [200, 429]


def test_a_wrong_token_is_refused_and_never_in_the_error(line: LocalLineProvider) -> None:
    boto3.client("secretsmanager").put_secret_value(SecretId="line-token", SecretString="wrong")
    with pytest.raises(LineError) as raised:
        client(line).push(TO, "x", retry_key("a"))
    assert raised.value.status == 401
    assert line.answers == [401, 401]  # re-read once (a reissued token), then given up
    assert line.token not in str(raised.value) and "wrong" not in str(raised.value)


def test_an_outage_fails_the_push(line: LocalLineProvider) -> None:
    line.fail(1, 500)
    with pytest.raises(LineError, match="HTTP 500"):
        client(line).push(TO, "x", retry_key("a"))
    assert line.pushes == []


def _raw_push(line: LocalLineProvider, body: object, key: str | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {line.token}", "Content-Type": "application/json"}
    if key is not None:
        headers["X-Line-Retry-Key"] = key
    request = urllib.request.Request(
        line.url + "/v2/bot/message/push", json.dumps(body).encode(), headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_stand_in_answers_400_naming_the_property(line: LocalLineProvider) -> None:
    status, body = _raw_push(line, {"to": TO, "messages": [{"type": "text", "text": ""}]})
    assert status == 400
    assert body["details"] == [
        {"message": "Length must be between 1 and 5000", "property": "messages[0].text"}
    ]
    status, body = _raw_push(line, {"to": "", "messages": []})
    assert status == 400 and [d["property"] for d in body["details"]] == ["to", "messages"]
    status, _ = _raw_push(line, {"to": TO, "messages": [{"type": "text", "text": "x"}]}, "no")
    assert status == 400  # a retry key must be a UUID
    assert line.pushes == []
