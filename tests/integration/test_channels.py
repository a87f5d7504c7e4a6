"""Channels through the local stack over real HTTP: a profile's channels set through the API,
alert groups published on the SNS topic in moto server, Slack and LINE (the Messaging API
stand-in) reached by the real notifier, SMS texted by SNS subscriptions whose filter
policies decide — and every delivery recorded and shown with the alert."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.test_alerts_api import Client
from tests.integration.test_notifications import alert, stored
from tripwire.cli import main as cli
from tripwire.domain.alerts import Severity
from tripwire.domain.entities import Profile
from tripwire.local.notifications import ASYNC_RETRIES, LocalNotifications
from tripwire.local.stack import LocalStack
from tripwire.notify import publish_new_groups
from tripwire.notify.sms import SMS_PER_HOUR
from tripwire.store.catalog import CatalogStore

LINE_USER = "U" + "0123456789abcdef" * 2


@pytest.fixture
def api(local_stack: LocalStack, tenant: str) -> Client:
    CatalogStore().put_profile(Profile(tenant_id=tenant, profile_id="A1"))
    return Client(local_stack, tenant)


@pytest.fixture
def number() -> Callable[[], str]:
    """A fresh E.164 number per call: moto's SMS log is shared by every test."""
    return lambda: f"+8190{random.randrange(10**7, 10**8)}"


def deliveries(api: Client, alert_id: str) -> dict[str, dict[str, Any]]:
    status, body = api("GET", f"/alerts/{alert_id}")
    assert status == 200
    return {d["channel"]: d for d in body["deliveries"]}


def texts_to(notifications: LocalNotifications, phone: str) -> list[str]:
    return [text for to, text in notifications.sms_messages() if to == phone]


# -- delivery records, retries, the dead-letter queue --------------------------------------
def test_slack_and_line_deliveries_are_recorded_on_the_alert(
    api: Client, notifications: LocalNotifications, tenant: str
) -> None:
    assert api("PUT", "/profiles/A1/channels", {"line_to": LINE_USER})[0] == 200
    publish_new_groups(stored([alert(tenant, 1, Severity.HIGH, f"G-{tenant}")]))
    (push,) = notifications.line.pushes_to(LINE_USER)
    assert push.texts[0].startswith("[Tripwire high] impressions below normal on keyword K1")
    shown = deliveries(api, "al-1")
    assert set(shown) == {"slack", "line"}
    assert [shown[c]["status"] for c in ("slack", "line")] == ["sent", "sent"]
    assert [shown[c]["attempts"] for c in ("slack", "line")] == [1, 1]
    assert shown["line"]["error"] is None


def test_a_failed_line_push_is_retried_and_slack_is_not_posted_twice(
    api: Client, notifications: LocalNotifications, tenant: str
) -> None:
    api("PUT", "/profiles/A1/channels", {"line_to": LINE_USER})
    notifications.line.fail(1, 500)  # the first attempt meets an outage
    publish_new_groups(stored([alert(tenant, 1, Severity.HIGH, f"G-{tenant}")]))
    shown = deliveries(api, "al-1")
    assert (shown["line"]["status"], shown["line"]["attempts"]) == ("sent", 2)
    assert shown["slack"]["attempts"] == 1  # the retry skipped the channel that had it
    assert len([m for m in notifications.slack_messages if f"tenant {tenant} " in str(m)]) <= 1
    assert len([p for p in notifications.line.pushes if tenant in p.texts[0]]) <= 1


def test_a_delivery_failing_every_attempt_is_kept_in_the_dead_letter_queue(
    api: Client, notifications: LocalNotifications, tenant: str
) -> None:
    api("PUT", "/profiles/A1/channels", {"line_to": LINE_USER})
    notifications.line.fail(1 + ASYNC_RETRIES, 503)
    publish_new_groups(stored([alert(tenant, 1, Severity.HIGH, f"G-{tenant}")]))
    shown = deliveries(api, "al-1")
    assert (shown["line"]["status"], shown["line"]["attempts"]) == ("failed", 1 + ASYNC_RETRIES)
    assert "HTTP 503" in shown["line"]["error"]
    assert (shown["slack"]["status"], shown["slack"]["attempts"]) == ("sent", 1)
    kept = [d for d in notifications.dead_letters() if tenant in str(d["requestPayload"])]
    (record,) = kept
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert "line" in record["responsePayload"]["errorMessage"]
    # Redriving the kept event delivers what failed, and only that.
    from tripwire.local.functions import invoke

    invoke("notifier", record["requestPayload"])
    shown = deliveries(api, "al-1")
    assert (shown["line"]["status"], shown["line"]["attempts"]) == ("sent", 2 + ASYNC_RETRIES)
    assert shown["slack"]["attempts"] == 1


# -- SMS: opt-in, the filter policy, the rate limit -------------------------------------
def test_critical_enterprise_alert_is_texted_and_a_high_one_is_not(
    api: Client, notifications: LocalNotifications, tenant: str, number: Callable[[], str]
) -> None:
    phone = number()
    body = {"plan": "enterprise", "sms_numbers": [phone]}
    status, stored_channels = api("PUT", "/profiles/A1/channels", body)
    assert status == 200
    assert stored_channels["sms_severities"] == ["critical"]  # critical only by default
    publish_new_groups(stored([alert(tenant, 1, Severity.HIGH, f"G1-{tenant}")]))
    assert texts_to(notifications, phone) == []
    publish_new_groups(stored([alert(tenant, 2, Severity.CRITICAL, f"G2-{tenant}")]))
    (text,) = texts_to(notifications, phone)
    assert text.startswith("[Tripwire critical] impressions below normal on keyword K2")
    assert "#/alerts/al-2" in text
    critical, high = deliveries(api, "al-2"), deliveries(api, "al-1")
    assert (critical["sms"]["status"], critical["email"]["status"]) == ("sent", "sent")
    assert set(high) == {"slack"}  # neither the SMS nor the e-mail filter takes a high one


def test_a_standard_profile_is_never_texted(
    api: Client, notifications: LocalNotifications, tenant: str, number: Callable[[], str]
) -> None:
    phone = number()
    api("PUT", "/profiles/A1/channels", {"plan": "standard", "sms_numbers": [phone]})
    publish_new_groups(stored([alert(tenant, 1, Severity.CRITICAL, f"G-{tenant}")]))
    assert texts_to(notifications, phone) == []


def test_a_number_gets_only_the_profiles_that_opted_it_in(
    local_stack: LocalStack,
    notifications: LocalNotifications,
    new_tenant: Callable[[], str],
    number: Callable[[], str],
) -> None:
    phone = number()
    mine, other = new_tenant(), new_tenant()
    for tenant in (mine, other):
        CatalogStore().put_profile(Profile(tenant_id=tenant, profile_id="A1"))
    Client(local_stack, mine)(
        "PUT", "/profiles/A1/channels", {"plan": "enterprise", "sms_numbers": [phone]}
    )
    Client(local_stack, other)("PUT", "/profiles/A1/channels", {"plan": "enterprise"})
    publish_new_groups(stored([alert(other, 1, Severity.CRITICAL, f"G-{other}")]))
    assert texts_to(notifications, phone) == []  # another tenant's critical alert
    publish_new_groups(stored([alert(mine, 1, Severity.CRITICAL, f"G-{mine}")]))
    assert len(texts_to(notifications, phone)) == 1


def test_a_number_shared_by_two_profiles_keeps_the_other_when_one_opts_out(
    api: Client, notifications: LocalNotifications, tenant: str, number: Callable[[], str]
) -> None:
    phone = number()
    CatalogStore().put_profile(Profile(tenant_id=tenant, profile_id="B2"))
    for profile in ("A1", "B2"):
        body = {"plan": "enterprise", "sms_numbers": [phone]}
        assert api("PUT", f"/profiles/{profile}/channels", body)[0] == 200
    api("PUT", "/profiles/A1/channels", {"plan": "enterprise", "sms_numbers": []})
    publish_new_groups(stored([alert(tenant, 1, Severity.CRITICAL, f"GA-{tenant}")]))  # A1's
    assert texts_to(notifications, phone) == []
    b2 = alert(tenant, 2, Severity.CRITICAL, f"GB-{tenant}").model_copy(update={"profile_id": "B2"})
    publish_new_groups(stored([b2]))
    assert len(texts_to(notifications, phone)) == 1


def test_opting_a_number_out_stops_its_texts(
    api: Client, notifications: LocalNotifications, tenant: str, number: Callable[[], str]
) -> None:
    phone = number()
    api("PUT", "/profiles/A1/channels", {"plan": "enterprise", "sms_numbers": [phone]})
    api("PUT", "/profiles/A1/channels", {"plan": "enterprise", "sms_numbers": []})
    publish_new_groups(stored([alert(tenant, 1, Severity.CRITICAL, f"G-{tenant}")]))
    assert texts_to(notifications, phone) == []


def test_sms_stop_at_the_hourly_limit_and_the_rest_are_recorded_rate_limited(
    api: Client, notifications: LocalNotifications, tenant: str, number: Callable[[], str]
) -> None:
    phone = number()
    api("PUT", "/profiles/A1/channels", {"plan": "enterprise", "sms_numbers": [phone]})
    alerts = [
        alert(tenant, n, Severity.CRITICAL, f"G{n}-{tenant}") for n in range(SMS_PER_HOUR + 1)
    ]
    publish_new_groups(stored(alerts))
    assert len(texts_to(notifications, phone)) == SMS_PER_HOUR
    statuses = [deliveries(api, f"al-{n}")["sms"]["status"] for n in range(SMS_PER_HOUR + 1)]
    assert sorted(statuses) == ["rate_limited"] + ["sent"] * SMS_PER_HOUR


def test_deleting_the_profile_unsubscribes_its_numbers(
    api: Client, notifications: LocalNotifications, number: Callable[[], str]
) -> None:
    phone = number()
    api("PUT", "/profiles/A1/channels", {"plan": "enterprise", "sms_numbers": [phone]})
    sns = notifications.client("sns")

    def subscribed() -> list[str]:
        found = sns.list_subscriptions_by_topic(TopicArn=notifications.topic_arn)
        return [s["Endpoint"] for s in found["Subscriptions"] if s["Protocol"] == "sms"]

    assert phone in subscribed()
    assert api("DELETE", "/profiles/A1")[0] == 200
    assert phone not in subscribed()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sms_numbers": ["090-1234-5678"]}, "sms_numbers"),
        ({"sms_numbers": ["+0123456789"]}, "sms_numbers"),
        ({"line_to": "someone"}, "line_to"),
        ({"plan": "gold"}, "plan"),
        ({"sms_severities": []}, "sms_severities"),
    ],
)
def test_bad_channels_are_a_422_naming_the_field_and_change_nothing(
    api: Client, body: dict[str, Any], field: str
) -> None:
    api("PUT", "/profiles/A1/channels", {"line_to": LINE_USER})
    status, answer = api("PUT", "/profiles/A1/channels", body)
    assert status == 422
    assert field in str(answer)
    assert api("GET", "/profiles/A1/channels")[1]["line_to"] == LINE_USER


def test_channels_of_an_unknown_profile_are_a_404(api: Client) -> None:
    assert api("PUT", "/profiles/NOPE/channels", {"plan": "enterprise"})[0] == 404
    assert api("GET", "/profiles/NOPE/channels")[0] == 404


def test_the_cli_opts_a_number_in_and_names_a_bad_field(
    api: Client,
    tenant: str,
    number: Callable[[], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    phone = number()
    args = ["profile", "channels", "--tenant", tenant, "--profile", "A1"]
    assert cli([*args, "--plan", "enterprise", "--sms", phone]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["plan"], shown["sms_numbers"], shown["sms_severities"]) == (
        "enterprise",
        [phone],
        ["critical"],
    )
    assert api("GET", "/profiles/A1/channels")[1]["sms_numbers"] == [phone]
    assert cli([*args, "--sms", "0312345678"]) == 2
    assert "invalid sms_numbers.0" in capsys.readouterr().err
    assert api("GET", "/profiles/A1/channels")[1]["sms_numbers"] == [phone]  # unchanged
