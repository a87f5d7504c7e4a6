"""The notifier handler on the sample SNS event: webhook URL from Secrets Manager, cached,
never logged (Secrets Manager in-process; the webhook post captured)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tripwire.local.functions import invoke
from tripwire.notify import notifier
from tripwire.store.provision import provision, reset_clients

EVENTS = Path(__file__).resolve().parents[2] / "events"
URL = "https://hooks.slack.com/services/T000/B000/unit-secret-token"


@pytest.fixture
def posted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("TRIPWIRE_SLACK_SECRET", "unit-slack")
    calls: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(notifier, "post", lambda url, body: calls.append((url, body)))
    with mock_aws():
        reset_clients()
        notifier.WEBHOOK.forget()
        provision()  # the delivery records' table
        boto3.client("secretsmanager").create_secret(Name="unit-slack", SecretString=URL)
        yield calls
    notifier.WEBHOOK.forget()
    reset_clients()


def _event(group: str = "G-5f0c2a9e1b7d") -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "notifier_sns.json").read_text())
    sns = event["Records"][0]["Sns"]
    sns["Message"] = sns["Message"].replace("G-5f0c2a9e1b7d", group)
    return event


def test_posts_block_kit_to_the_webhook_in_the_secret(
    posted: list[tuple[str, dict[str, Any]]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert invoke("notifier", _event()) == {"posted": 1, "channels": [{"slack": "sent"}]}
    ((url, body),) = posted
    assert url == URL
    assert "Campaign C-2001 ran out of budget" in json.dumps(body["blocks"])
    out = capsys.readouterr()
    assert "unit-secret-token" not in out.out + out.err


def test_the_secret_is_read_once_per_warm_process(
    posted: list[tuple[str, dict[str, Any]]],
) -> None:
    invoke("notifier", _event())
    boto3.client("secretsmanager").put_secret_value(SecretId="unit-slack", SecretString="x")
    invoke("notifier", _event("G-another"))
    assert [url for url, _ in posted] == [URL, URL]  # cached, not re-read per message


def test_json_secret_form_is_accepted(posted: list[tuple[str, dict[str, Any]]]) -> None:
    body = json.dumps({"webhook_url": URL + "-json"})
    boto3.client("secretsmanager").put_secret_value(SecretId="unit-slack", SecretString=body)
    invoke("notifier", _event())
    assert posted[0][0] == URL + "-json"


def test_a_redelivered_message_is_not_posted_again(
    posted: list[tuple[str, dict[str, Any]]],
) -> None:
    invoke("notifier", _event())
    assert invoke("notifier", _event()) == {"posted": 1, "channels": [{"slack": "sent before"}]}
    assert len(posted) == 1
