"""SMS for enterprise profiles: SNS SMS subscriptions of the alerts topic, one per opted-in
number, each with a subscription filter policy, so SNS itself decides who gets a text.

A number's filter policy (``filter_policy``) takes a message only if all hold:
- ``sms_route`` is one of the number's routes, ``{tenant}#{profile}#{severity}`` for each
  profile that opted the number in and each severity it asked for (critical only by
  default) — one subscription per number and topic (SNS returns the existing one when the
  same number is subscribed again), so its routes are the union over profiles, and a
  number opted in by one tenant never gets another tenant's alerts;
- ``plan`` is ``enterprise`` (the publisher writes the profile's plan *now*: a profile moved
  off enterprise stops texting at once, whatever subscriptions remain);
- ``sms`` is ``allowed``: the publisher's rate limit — at most ``SMS_PER_HOUR`` SMS notices
  per profile per clock hour (a conditional counter); past it, ``rate_limited``.
The publisher sets these attributes (``sms_attributes``); ``sync_subscriptions`` keeps the
subscriptions in step with the profile's settings.
"""

from __future__ import annotations

import json
from typing import Any

from tripwire.domain.alerts import Severity
from tripwire.domain.deliveries import ChannelSettings, Plan
from tripwire.notify.messages import GroupMessage, subject
from tripwire.store import keys

SMS_PER_HOUR = 5  # SMS notices per profile per clock hour (each goes to all its numbers)
ALLOWED, RATE_LIMITED = "allowed", "rate_limited"
MAX_SMS = 300  # characters: two concatenated segments at most


def route(tenant: str, profile: str, severity: Severity | str) -> str:
    return keys.SEP.join((tenant, profile, Severity(severity).value))


def routes(tenant: str, profile: str, settings: ChannelSettings) -> set[str]:
    if settings.plan is not Plan.ENTERPRISE:
        return set()
    return {route(tenant, profile, s) for s in settings.sms_severities}


def filter_policy(number_routes: set[str]) -> dict[str, list[str]]:
    return {
        "sms_route": sorted(number_routes),
        "plan": [Plan.ENTERPRISE.value],
        "sms": [ALLOWED],
    }


def wants_sms(message: GroupMessage, settings: ChannelSettings) -> bool:
    """Would any of the profile's numbers take this group (before the rate limit)?"""
    return (
        settings.plan is Plan.ENTERPRISE
        and bool(settings.sms_numbers)
        and message.severity in settings.sms_severities
    )


def sms_attributes(
    message: GroupMessage, settings: ChannelSettings, verdict: str
) -> dict[str, str]:
    return {
        "sms_route": route(message.tenant_id, message.profile_id, message.severity),
        "plan": settings.plan.value,
        "sms": verdict,
    }


def sms_text(message: GroupMessage) -> str:
    """What a phone shows: the subject (cost and names first) and the link."""
    return f"{subject(message)}\n{message.link}"[:MAX_SMS]


def sync_subscriptions(
    sns: Any,
    topic: str,
    tenant: str,
    profile: str,
    before: ChannelSettings,
    after: ChannelSettings,
) -> dict[str, str]:
    """Subscribe ``after``'s numbers with this profile's routes added to their filter policy,
    take the routes off numbers it dropped (unsubscribing a number nobody routes to);
    returns number → subscription ARN of the numbers still subscribed."""
    mine = routes(tenant, profile, after)
    prefix = keys.SEP.join((tenant, profile)) + keys.SEP
    existing = _sms_subscriptions(sns, topic)
    kept = {}
    for number in sorted(set(before.sms_numbers) | set(after.sms_numbers)):
        arn = existing.get(number)
        current = _routes_of(sns, arn) if arn else set()
        wanted = {r for r in current if not r.startswith(prefix)}  # other profiles' routes
        if number in after.sms_numbers:
            wanted |= mine
        if not wanted:
            if arn:
                sns.unsubscribe(SubscriptionArn=arn)
            continue
        if arn is None:
            arn = sns.subscribe(
                TopicArn=topic,
                Protocol="sms",
                Endpoint=number,
                Attributes={"FilterPolicy": json.dumps(filter_policy(wanted))},
                ReturnSubscriptionArn=True,
            )["SubscriptionArn"]
        elif wanted != current:
            sns.set_subscription_attributes(
                SubscriptionArn=arn,
                AttributeName="FilterPolicy",
                AttributeValue=json.dumps(filter_policy(wanted)),
            )
        kept[number] = str(arn)
    return kept


def _sms_subscriptions(sns: Any, topic: str) -> dict[str, str]:
    found = {}
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic):
        for sub in page.get("Subscriptions", []):
            if sub.get("Protocol") == "sms":
                found[sub["Endpoint"]] = sub["SubscriptionArn"]
    return found


def _routes_of(sns: Any, arn: str) -> set[str]:
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    policy = json.loads(attributes.get("FilterPolicy") or "{}")
    return set(policy.get("sms_route", []))
