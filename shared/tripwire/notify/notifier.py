"""What the notifier Lambda does with one message from the alerts topic: post it to Slack."""

from __future__ import annotations

from tripwire.notify.messages import parse
from tripwire.notify.slack import SlackError, WebhookSecret, payload, post
from tripwire.telemetry import NOTIFICATION_FAILURES, NOTIFICATIONS_SENT, count_by

# One per process: warm invocations reuse the webhook URL instead of re-reading the secret.
WEBHOOK = WebhookSecret()


def post_to_slack(body: str, webhook: WebhookSecret = WEBHOOK) -> str:
    """Render a topic message as Block Kit and post it; returns what was posted (kind)."""
    message = parse(body)
    try:
        try:
            post(webhook.url(), payload(message))
        except SlackError:
            # The cached URL may be stale (the operator rotated the webhook): re-read it once.
            webhook.forget()
            post(webhook.url(), payload(message))
    except Exception:
        count_by(NOTIFICATION_FAILURES, "channel", {"slack": 1})
        raise
    count_by(NOTIFICATIONS_SENT, "channel", {"slack": 1})
    return message.kind
