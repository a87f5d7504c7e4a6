"""Slack: Block Kit messages for alert groups and digests, and the incoming-webhook post.

The webhook URL is a credential (anyone holding it can post to the channel): it is read
from Secrets Manager, cached in memory, and never logged — errors name the HTTP status,
never the URL.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from tripwire.domain.alerts import Severity
from tripwire.notify.messages import (
    ConnectionLost,
    DigestCounts,
    GroupMessage,
    TopicMessage,
    WeeklyDigest,
    trend,
)
from tripwire.notify.secrets import SECRET_MAX_AGE, CachedSecret

SECRET_ENV = "TRIPWIRE_SLACK_SECRET"  # name or ARN of the secret holding the webhook URL
TIMEOUT = 10.0

ICONS = {
    Severity.CRITICAL: ":red_circle:",
    Severity.HIGH: ":large_orange_circle:",
    Severity.MEDIUM: ":large_yellow_circle:",
    Severity.LOW: ":white_circle:",
}

Blocks = list[dict[str, Any]]


class SlackError(Exception):
    """Slack did not take the message (the text never contains the webhook URL)."""


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: entity names are user data, and ``<!channel>`` in one must
    not ping a channel."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(title: str, text: str) -> dict[str, Any]:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": f"*{title}*\n{escape(text)}"[:3000]},
    }


def group_blocks(message: GroupMessage) -> Blocks:
    icon = ICONS[message.severity]
    blocks: Blocks = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"{icon} {message.what}"[:150], "emoji": True},
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Where*\n{escape(message.where)}"},
                {"type": "mrkdwn", "text": f"*How bad*\n{escape(message.how_bad)}"},
            ],
        },
    ]
    if message.impact_text:
        blocks[1]["fields"].append(
            {"type": "mrkdwn", "text": f"*Impact*\n{escape(message.impact_text)}"}
        )
    if message.root_cause:
        blocks.append(_text("Root cause", message.root_cause))
    if message.top_explanation:
        blocks.append(_text("Top explanation", message.top_explanation))
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Open alert"},
                    "url": message.link,
                    "action_id": "open_alert",
                }
            ],
        }
    )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": escape(f"tenant {message.tenant_id} · group {message.group_id}"),
                }
            ],
        }
    )
    return blocks


def digest_blocks(digest: DigestCounts) -> Blocks:
    by_severity = " · ".join(f"{s}: {n}" for s, n in digest.raised.items())
    mttr = digest.mean_minutes_to_resolve
    return [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": f"Daily digest · profile {digest.profile_id} · {digest.day}"[:150],
            },
        },
        _text("Alerts raised", f"{digest.raised_total} ({by_severity})"),
        _text("Unresolved critical", str(digest.unresolved_critical)),
        *(
            [_text("Top incidents by impact", "\n".join(digest.top_incidents))]
            if digest.top_incidents
            else []
        ),
        _text("Resolved that day", str(digest.resolved)),
        _text(
            "Mean time to resolve",
            f"{mttr:.0f} min (every resolution so far)" if mttr is not None else "—",
        ),
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": escape(f"tenant {digest.tenant_id}")}],
        },
    ]


def weekly_blocks(digest: WeeklyDigest) -> Blocks:
    title = f"Weekly digest · profile {digest.profile_id} · week of {digest.week}"
    blocks: Blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        _text("Alerts raised", trend(digest.raised, digest.raised_before)),
        _text("Incidents started", trend(digest.incidents, digest.incidents_before)),
        _text(
            "Mean time to resolve",
            f"{trend(digest.mttr_minutes, digest.mttr_before)} min"
            f" · {digest.resolved} resolved this week",
        ),
    ]
    if digest.top_incidents:
        blocks.append(_text("Top incidents by impact", "\n".join(digest.top_incidents)))
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": escape(f"tenant {digest.tenant_id}")}],
        }
    )
    return blocks


def connection_blocks(lost: ConnectionLost) -> Blocks:
    title = f"{lost.provider} disconnected · profile {lost.profile_id}"
    return [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        _text("Why", lost.reason),
        _text("What to do", lost.action),
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": escape(f"tenant {lost.tenant_id}")}],
        },
    ]


def payload(message: TopicMessage) -> dict[str, Any]:
    """The webhook body: blocks, and ``text`` as the notification / fallback line."""
    if isinstance(message, GroupMessage):
        fallback = f"[{message.severity.value}] {message.what}"
        return {"text": fallback, "blocks": group_blocks(message)}
    if isinstance(message, ConnectionLost):
        fallback = f"{message.provider} disconnected: profile {message.profile_id}"
        return {"text": fallback, "blocks": connection_blocks(message)}
    if isinstance(message, WeeklyDigest):
        fallback = f"Weekly digest {message.profile_id} week of {message.week}"
        return {"text": fallback, "blocks": weekly_blocks(message)}
    return {
        "text": f"Daily digest {message.profile_id} {message.day}",
        "blocks": digest_blocks(message),
    }


def render_text(body: dict[str, Any]) -> str:
    """What Slack would show for a webhook body, as plain lines (the local receiver)."""
    lines: list[str] = []
    for block in body.get("blocks") or [{"type": "section", "text": {"text": body.get("text")}}]:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"== {block['text']['text']} ==")
        elif kind == "section":
            if block.get("text"):
                lines.append(str(block["text"]["text"]))
            lines.extend(str(f["text"]) for f in block.get("fields", []))
        elif kind == "actions":
            lines.extend(f"[{e['text']['text']}] {e.get('url', '')}" for e in block["elements"])
        elif kind == "context":
            lines.append("  ".join(str(e.get("text", "")) for e in block["elements"]))
    return _unescape("\n".join(lines))


class WebhookSecret(CachedSecret):
    """The webhook URL from Secrets Manager, cached for ``max_age`` seconds."""

    def __init__(self, secret_id: str | None = None, max_age: float = SECRET_MAX_AGE) -> None:
        super().__init__(SECRET_ENV, "webhook_url", secret_id, max_age)

    def url(self) -> str:
        return self.value()


def post(url: str, body: dict[str, Any], timeout: float = TIMEOUT) -> None:
    """POST to an incoming webhook; raises SlackError (without the URL) unless Slack says ok."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise SlackError(f"Slack webhook unreachable: {type(reason).__name__}") from None
    if status != 200:
        raise SlackError(f"Slack webhook answered HTTP {status}") from None
