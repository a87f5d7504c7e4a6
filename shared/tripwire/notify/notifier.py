"""What the notifier Lambda does with one message from the alerts topic: post it to Slack and,
when the profile named a LINE recipient, push it to LINE — recording each delivery.

For an alert group each channel's outcome is stored (store/deliveries.py) and shown with
the alert. A channel that failed makes the whole invocation fail, so Lambda retries it
(twice, then the on-failure queue keeps the event); a retry skips the channels already
``sent``, so nobody gets the same notice twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from tripwire.domain.deliveries import Channel, DeliveryStatus
from tripwire.notify.line import LineClient, retry_key, text
from tripwire.notify.messages import DigestCounts, GroupMessage, TopicMessage, WeeklyDigest, parse
from tripwire.notify.slack import SlackError, WebhookSecret, payload, post
from tripwire.store.deliveries import DeliveryStore
from tripwire.telemetry import NOTIFICATION_FAILURES, NOTIFICATIONS_SENT, count_by, logger

# One per process: warm invocations reuse the webhook URL and LINE token.
WEBHOOK = WebhookSecret()
LINE = LineClient()


class DeliveryFailed(Exception):
    """Some channels did not take the message; the invocation fails so Lambda retries it."""

    def __init__(self, failed: dict[Channel, str]) -> None:
        self.failed = failed
        super().__init__("not delivered: " + "; ".join(f"{c}: {e}" for c, e in failed.items()))


def post_to_slack(message: TopicMessage, webhook: WebhookSecret = WEBHOOK) -> None:
    try:
        post(webhook.url(), payload(message))
    except SlackError:
        # The cached URL may be stale (the operator rotated the webhook): re-read it once.
        webhook.forget()
        post(webhook.url(), payload(message))


def notice_key(message: TopicMessage) -> str:
    """One key per notice, whichever attempt delivers it (LINE's X-Line-Retry-Key)."""
    if isinstance(message, GroupMessage):
        return retry_key(message.tenant_id, message.group_id)
    if isinstance(message, DigestCounts):
        return retry_key(message.tenant_id, message.profile_id, "digest", message.day)
    if isinstance(message, WeeklyDigest):
        return retry_key(message.tenant_id, message.profile_id, "weekly", message.week)
    return retry_key(message.tenant_id, message.profile_id, message.kind, message.reason)


def deliver(
    body: str,
    *,
    webhook: WebhookSecret = WEBHOOK,
    line: LineClient = LINE,
    store: DeliveryStore | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, str]:
    """Send one topic message to its channels; returns each channel's outcome."""
    message = parse(body)
    store = store or DeliveryStore()
    settings = store.settings(message.tenant_id, message.profile_id)
    group = message.group_id if isinstance(message, GroupMessage) else None
    done = store.sent(message.tenant_id, group) if group else set()
    sends: dict[Channel, tuple[Callable[[], object], str]] = {
        Channel.SLACK: (lambda: post_to_slack(message, webhook), "webhook"),
    }
    if settings.line_to:
        to = settings.line_to
        sends[Channel.LINE] = (
            lambda: line.push(to, text(message), notice_key(message)),
            f"LINE {to[:5]}…",
        )
    outcomes: dict[str, str] = {}
    failed: dict[Channel, str] = {}
    for channel, (send, detail) in sends.items():
        if channel in done:
            outcomes[channel] = "sent before"  # a retry: this channel has it already
            continue
        try:
            send()
        except Exception as error:  # any failure: record it, try the other channels, raise
            failed[channel] = str(error) or type(error).__name__
            outcomes[channel] = DeliveryStatus.FAILED
        else:
            outcomes[channel] = DeliveryStatus.SENT
        if group:
            status = DeliveryStatus.FAILED if channel in failed else DeliveryStatus.SENT
            store.record(
                message.tenant_id,
                message.profile_id,
                group,
                channel,
                status,
                clock(),
                error=failed.get(channel),
                detail=detail,
            )
    count_by(NOTIFICATIONS_SENT, "channel", {c: 1 for c, o in outcomes.items() if o == "sent"})
    count_by(NOTIFICATION_FAILURES, "channel", {c: 1 for c in failed})
    logger.info("delivered", extra={"kind": message.kind, "outcomes": outcomes})
    if failed:
        raise DeliveryFailed(failed)
    return outcomes
