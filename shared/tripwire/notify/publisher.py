"""Announcing new alert groups on the SNS alerts topic — once per group.

Contract for callers (the scan worker): **store the alerts first, then call
``publish_new_groups`` with every alert the scan found** — new ones and ones an earlier
attempt already stored — and let a raised ``NotificationFailed`` fail the message so it
is retried. Why: the alerts table is the record; the notifications table says which
groups were announced. A retried message re-offers its groups, the ones announced are
skipped (one batched read), the rest are published. Nothing is lost when SNS is down,
and nothing is announced twice when a message is redelivered.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from tripwire.domain.alerts import Alert
from tripwire.domain.deliveries import Channel, ChannelSettings, DeliveryStatus
from tripwire.notify.messages import (
    ConnectionLost,
    GroupMessage,
    TopicMessage,
    attributes,
    group_messages,
    mailed,
    subject,
)
from tripwire.notify.sms import (
    ALLOWED,
    RATE_LIMITED,
    SMS_PER_HOUR,
    sms_attributes,
    sms_text,
    wants_sms,
)
from tripwire.store.deliveries import DeliveryStore
from tripwire.store.notifications import NotificationStore
from tripwire.store.provision import aws_client
from tripwire.telemetry import NOTIFICATION_FAILURES, NOTIFICATIONS_SENT, count_by, logger

TOPIC_ENV = "TRIPWIRE_ALERTS_TOPIC_ARN"


class NotificationFailed(Exception):
    """Some groups could not be published; they stay unannounced and are retried."""

    def __init__(self, failed: dict[str, str]) -> None:
        self.failed = failed  # group id → error
        super().__init__(f"{len(failed)} alert group(s) not published: {sorted(failed)}")


def topic_arn() -> str:
    arn = os.environ.get(TOPIC_ENV)
    if not arn:
        raise RuntimeError(f"{TOPIC_ENV} is not set: no topic to publish alert groups to")
    return arn


def publish(
    message: TopicMessage,
    *,
    sns: Any = None,
    topic: str = "",
    extra: dict[str, str] | None = None,
) -> str:
    """Publish one message; returns the SNS message id. Every protocol gets the JSON body
    except SMS subscriptions, which get ``sms_text`` (SNS's per-protocol message structure)."""
    body = message.model_dump_json()
    structure = {"default": body}
    if isinstance(message, GroupMessage):
        structure["sms"] = sms_text(message)
    values = {k: {"DataType": "String", "StringValue": v} for k, v in (extra or {}).items()}
    response = (sns or aws_client("sns")).publish(
        TopicArn=topic or topic_arn(),
        Message=json.dumps(structure),
        MessageStructure="json",
        Subject=subject(message),
        MessageAttributes={**attributes(message), **values},
    )
    return str(response["MessageId"])


def sms_verdict(
    message: GroupMessage, settings: ChannelSettings, deliveries: DeliveryStore, now: datetime
) -> str | None:
    """None when no number of the profile wants this group; else whether the hour's SMS
    budget had room (taking one from it)."""
    if not wants_sms(message, settings):
        return None
    allowed = deliveries.take_sms(message.tenant_id, message.profile_id, now, SMS_PER_HOUR)
    return ALLOWED if allowed else RATE_LIMITED


def publish_new_groups(
    alerts: Iterable[Alert],
    *,
    sns: Any = None,
    store: NotificationStore | None = None,
    deliveries: DeliveryStore | None = None,
    clock: Callable[[], float] = time.time,
) -> int:
    """Publish one message per alert group not announced yet; returns how many were sent.

    Groups are announced at most once (claimed in the notifications table before the
    publish, marked sent after). A group whose publish fails is released and the others
    still go out; then ``NotificationFailed`` is raised so the caller's message is retried.
    """
    messages = group_messages(alerts)
    if not messages:
        return 0
    topic = topic_arn()
    store = store or NotificationStore()
    sns = sns or aws_client("sns")
    deliveries = deliveries or DeliveryStore()
    settings = {
        (t, p): deliveries.settings(t, p)
        for t, p in {(m.tenant_id, m.profile_id) for m in messages}
    }
    announced: set[tuple[str, str]] = set()
    for tenant in {m.tenant_id for m in messages}:
        ids = [m.group_id for m in messages if m.tenant_id == tenant]
        announced |= {(tenant, g) for g in store.sent(tenant, ids)}
    sent, failed = 0, {}
    for message in messages:
        tenant, group = message.tenant_id, message.group_id
        if (tenant, group) in announced:
            continue
        if not store.claim(tenant, message.profile_id, group, clock()):
            continue  # sent meanwhile, or another publisher holds it
        profile = settings[(tenant, message.profile_id)]
        now = datetime.fromtimestamp(clock(), UTC)
        verdict = sms_verdict(message, profile, deliveries, now)
        extra = sms_attributes(message, profile, verdict or "none")
        try:
            message_id = publish(message, sns=sns, topic=topic, extra=extra)
        except Exception as error:  # any failure: release the claim, keep going, then raise
            store.release(tenant, group, repr(error), clock())
            failed[group] = repr(error)
            continue
        store.mark_sent(tenant, group, message_id, clock())
        sent += 1
        if mailed(message):  # SNS mails it itself: what we know is that SNS took it
            detail = "the e-mail subscription via SNS"
            deliveries.record(
                tenant,
                message.profile_id,
                group,
                Channel.EMAIL,
                DeliveryStatus.SENT,
                now,
                detail=detail,
            )
        if verdict is not None:  # SNS texts the numbers itself: what we know is what it took
            status = DeliveryStatus.SENT if verdict == ALLOWED else DeliveryStatus.RATE_LIMITED
            n = len(profile.sms_numbers)
            detail = f"{n} number{'s' if n != 1 else ''} via SNS"
            if verdict != ALLOWED:
                detail = f"over {SMS_PER_HOUR} SMS notices this hour; not texted"
            deliveries.record(
                tenant, message.profile_id, group, Channel.SMS, status, now, detail=detail
            )
    logger.info("alert groups published", extra={"published": sent, "failed": len(failed)})
    count_by(NOTIFICATIONS_SENT, "channel", {"sns": sent})
    count_by(NOTIFICATION_FAILURES, "channel", {"sns": len(failed)})
    if failed:
        raise NotificationFailed(failed)
    return sent


def publish_connection_lost(tenant: str, profile: str, reason: str, *, sns: Any = None) -> None:
    """Tell the topic's subscribers a profile's Amazon Ads connection is lost (the caller
    sends it once: the sync that disconnected it). Without a topic, the log says it."""
    if not os.environ.get(TOPIC_ENV):
        return
    message = ConnectionLost(
        tenant_id=tenant,
        profile_id=profile,
        provider="Amazon Ads",
        reason=reason,
        action=f"connect it again: `tripwire connect amazon-ads --profile {profile} …` or "
        f"PUT /profiles/{profile}/connection with a fresh refresh token",
    )
    try:
        publish(message, sns=sns)
    except Exception:  # the connection is marked already: a lost notice must not undo it
        logger.exception("connection-lost notice not published", extra={"profile_id": profile})
        count_by(NOTIFICATION_FAILURES, "channel", {"sns": 1})
    else:
        count_by(NOTIFICATIONS_SENT, "channel", {"sns": 1})
