"""The demo's channels: the demo profile on the enterprise plan with a LINE recipient and an
SMS number (PUT /profiles/{id}/channels), then what each channel received — Slack through its
local webhook, e-mail through the critical-only subscription, SMS as moto server's SNS
recorded it, LINE as the Messaging API stand-in took it — and the delivery records."""

from __future__ import annotations

import json
import urllib.request
from collections import Counter

from tripwire.domain import Alert
from tripwire.local.stack import LocalStack
from tripwire.notify.sms import SMS_PER_HOUR
from tripwire.store.deliveries import DeliveryStore

LINE_RECIPIENT = "U" + "de30" * 8  # a LINE user id: U and 32 hex digits
SMS_NUMBER = "+819000000000"
SHOWN = 2


def set_demo_channels(api_url: str, token: str, profile: str) -> None:
    body = {"plan": "enterprise", "line_to": LINE_RECIPIENT, "sms_numbers": [SMS_NUMBER]}
    request = urllib.request.Request(
        f"{api_url}/profiles/{profile}/channels",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        print(f"PUT /profiles/{profile}/channels → {response.status} {json.loads(response.read())}")


def show_deliveries(stack: LocalStack, alerts: list[Alert]) -> None:
    local = stack.notifications
    if local is None or not alerts:
        return
    texts = [text for number, text in local.sms_messages() if number == SMS_NUMBER]
    pushes = local.line.pushes_to(LINE_RECIPIENT)
    print("\ndeliveries per channel:")
    print(f"  Slack   {len(local.slack_messages)} messages (local incoming webhook)")
    print(f"  e-mail  {len(local.email_messages)} (the critical-only subscription)")
    print(
        f"  SMS     {len(texts)} to {SMS_NUMBER} (moto server's SNS; critical only,"
        f" at most {SMS_PER_HOUR} an hour)"
    )
    for text in texts[:SHOWN]:
        print("          " + text.replace("\n", "\n          "))
    print(f"  LINE    {len(pushes)} pushes to {LINE_RECIPIENT[:9]}… (Messaging API stand-in)")
    for push in pushes[:SHOWN]:
        print("          " + push.texts[0].replace("\n", "\n          "))
    tenant = alerts[0].tenant_id
    store = DeliveryStore()
    records = Counter(
        (d.channel.value, d.status.value)
        for group in sorted({a.group_id or a.alert_id for a in alerts})
        for d in store.of_group(tenant, group)
    )
    summary = ", ".join(f"{c} {s}: {n}" for (c, s), n in sorted(records.items()))
    print(f"  delivery records on the alerts (GET /alerts/{{id}} → deliveries): {summary}")
