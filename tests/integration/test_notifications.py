"""Alert groups on the SNS topic, delivered over real HTTP by moto server: the notifier
Lambda posts them to a Slack-compatible receiver; the e-mail subscription's filter takes
critical groups only."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tripwire.domain.alerts import Alert, Attribution, Direction, Relation, RootCause, Severity
from tripwire.domain.entities import EntityType
from tripwire.local.notifications import LocalNotifications
from tripwire.local.stack import LocalStack
from tripwire.notify import NotificationFailed, publish_new_groups
from tripwire.notify.notifier import WEBHOOK
from tripwire.store.alerts import AlertStore
from tripwire.store.notifications import NotificationStatus, NotificationStore

SENTENCE = "Campaign C1 ran out of budget: impressions fell 97% from 14:00"


def alert(tenant: str, n: int, severity: Severity, group: str, entity: str = "") -> Alert:
    return Alert(
        alert_id=f"al-{n}",
        tenant_id=tenant,
        profile_id="A1",
        entity_id=entity or f"K{n}",
        entity_type=EntityType.KEYWORD,
        period=datetime(2026, 3, 14),
        score=0.99999,
        threshold=0.9999,
        severity=severity,
        explanation=[
            Attribution(
                feature="impressions",
                contribution=0.8,
                direction=Direction.BELOW,
                expected=1200,
                actual=35,
            )
        ],
        root_causes=[
            RootCause(
                entity_id="C1",
                entity_type=EntityType.CAMPAIGN,
                relation=Relation.ANCESTOR,
                hops=1,
                confidence=0.9,
                sentence=SENTENCE,
            )
        ],
        group_id=group,
        run_id="run-1",
        created_at=datetime(2026, 3, 15, 6),
    )


def stored(alerts: list[Alert]) -> list[Alert]:
    AlertStore().put_many(alerts)  # the contract: alerts are stored before they are announced
    return alerts


def slack_for(local: LocalNotifications, tenant: str) -> list[dict[str, Any]]:
    return [m for m in local.slack_messages if f"tenant {tenant} " in json.dumps(m)]


def email_for(local: LocalNotifications, tenant: str) -> list[dict[str, Any]]:
    return [d.body for d in local.email_messages if d.body["tenant_id"] == tenant]


def test_critical_group_reaches_email_and_low_group_does_not(
    notifications: LocalNotifications, tenant: str
) -> None:
    alerts = stored(
        [
            alert(tenant, 1, Severity.LOW, "G-crit"),
            alert(tenant, 2, Severity.CRITICAL, "G-crit"),  # makes its group critical
            alert(tenant, 3, Severity.LOW, "G-low"),
            alert(tenant, 4, Severity.HIGH, "G-high"),
        ]
    )
    assert publish_new_groups(alerts) == 3
    mails = email_for(notifications, tenant)
    assert [(m["group_id"], m["severity"]) for m in mails] == [("G-crit", "critical")]
    assert len(slack_for(notifications, tenant)) == 3  # Slack takes every severity


def test_slack_gets_one_message_per_group_however_often_offered(
    notifications: LocalNotifications, tenant: str
) -> None:
    alerts = stored([alert(tenant, n, Severity.MEDIUM, f"G-{n % 2}") for n in range(6)])
    assert publish_new_groups(alerts) == 2
    assert publish_new_groups(alerts) == 0  # a redelivered scan message
    workers = [threading.Thread(target=publish_new_groups, args=(alerts,)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    messages = slack_for(notifications, tenant)
    assert len(messages) == 2
    assert all("3 alerts" in json.dumps(m) for m in messages)


def test_block_kit_carries_what_where_how_bad_cause_explanation_and_link(
    notifications: LocalNotifications, local_stack: LocalStack, tenant: str
) -> None:
    publish_new_groups(stored([alert(tenant, 1, Severity.HIGH, "G-1", entity="K-77")]))
    (message,) = slack_for(notifications, tenant)
    blocks = message["blocks"]
    assert (
        blocks[0]["text"]["text"]
        == ":large_orange_circle: impressions below normal on keyword K-77"
    )
    fields = [f["text"] for f in blocks[1]["fields"]]
    assert fields == [
        "*Where*\nprofile A1 · keyword K-77 · 2026-03-14",
        "*How bad*\nhigh · score 0.999990 · 1 alert",
    ]
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    assert f"*Root cause*\n{SENTENCE}" in texts
    assert "*Top explanation*\nimpressions was 35.00 against an expected 1,200" in texts[1]
    (button,) = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert button["url"] == f"{local_stack.api_url}/app/#/alerts/al-1"  # the dashboard's view


def test_webhook_url_never_appears_in_logs(
    notifications: LocalNotifications,
    tenant: str,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = notifications.webhook_path.rsplit("/", 1)[-1]
    publish_new_groups(stored([alert(tenant, 1, Severity.CRITICAL, "G-ok")]))
    assert len(slack_for(notifications, tenant)) == 1
    # A failing webhook is where URLs leak (exception texts): point the secret at a wrong path.
    manager = notifications.client("secretsmanager")
    arn = notifications.exported["TRIPWIRE_SLACK_SECRET"]
    try:
        manager.put_secret_value(SecretId=arn, SecretString=notifications.webhook_url + "-revoked")
        WEBHOOK.forget()
        publish_new_groups(stored([alert(tenant, 2, Severity.CRITICAL, "G-fails")]))
        assert any("HTTP 404" in e for e in notifications.notifier_errors)
    finally:
        manager.put_secret_value(SecretId=arn, SecretString=notifications.webhook_url)
        WEBHOOK.forget()
    out = capfd.readouterr()
    logged = out.out + out.err + caplog.text
    assert "delivered" in logged  # the notifier did log; just never the URL
    assert secret not in logged


class FlakySNS:
    """SNS that is down for the first ``failures`` publishes."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.real = boto3.client("sns")

    def publish(self, **request: Any) -> dict[str, Any]:
        if self.failures > 0:
            self.failures -= 1
            error = {"Error": {"Code": "InternalError", "Message": "SNS is down"}}
            raise ClientError(error, "Publish")  # type: ignore[arg-type]
        response: dict[str, Any] = self.real.publish(**request)
        return response


def test_failed_publish_raises_and_the_retry_announces_the_group(
    notifications: LocalNotifications, tenant: str
) -> None:
    alerts = stored(
        [alert(tenant, 1, Severity.CRITICAL, "G-first"), alert(tenant, 2, Severity.LOW, "G-second")]
    )
    with pytest.raises(NotificationFailed) as failed:
        publish_new_groups(alerts, sns=FlakySNS(failures=1))
    assert list(failed.value.failed) == ["G-first"]  # worst first; the other still went out
    store = NotificationStore()
    assert store.status(tenant, "G-first") is NotificationStatus.FAILED
    assert AlertStore().get(tenant, "al-1") is not None  # the alert itself is safe
    assert publish_new_groups(alerts) == 1  # the caller's retry
    groups = sorted(
        m["blocks"][-1]["elements"][0]["text"] for m in slack_for(notifications, tenant)
    )
    assert groups == [f"tenant {tenant} · group G-first", f"tenant {tenant} · group G-second"]
    assert store.status(tenant, "G-first") is NotificationStatus.SENT


def test_a_claim_left_by_a_crashed_publisher_is_taken_over_after_its_lease(
    notifications: LocalNotifications, tenant: str
) -> None:
    alerts = stored([alert(tenant, 1, Severity.MEDIUM, "G-crash")])
    store = NotificationStore()
    assert store.claim(tenant, "A1", "G-crash", now=1_000.0)  # then the process died
    assert publish_new_groups(alerts, clock=lambda: 1_060.0) == 0  # still within the lease
    assert publish_new_groups(alerts, clock=lambda: 1_200.0) == 1  # lease over: taken over
    assert len(slack_for(notifications, tenant)) == 1
