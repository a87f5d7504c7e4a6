"""LINE Messaging API: push a text message to the profile's LINE user or group.

Contract (developers.line.biz, "Send push message" and "Retry failed API requests"):
``POST {base}/v2/bot/message/push`` with ``Authorization: Bearer {channel access token}``
and ``{"to": id, "messages": [{"type": "text", "text": ...}]}`` (text ≤ 5,000 characters).
``X-Line-Retry-Key`` (a UUID) makes a retried push execute once: a request already accepted
answers 409 with ``x-line-accepted-request-id`` — for us, sent. 429 is a rate or quota
limit: we wait ``Retry-After`` (if short) and try once more with the same key, else fail
so the notifier's retry takes it later. The token lives in Secrets Manager, never in logs.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from tripwire.notify.messages import (
    ConnectionLost,
    DigestCounts,
    GroupMessage,
    TopicMessage,
    WeeklyDigest,
    trend,
)
from tripwire.notify.secrets import CachedSecret

SECRET_ENV = "TRIPWIRE_LINE_SECRET"  # the secret holding the channel access token
BASE_URL_ENV = "TRIPWIRE_LINE_API_URL"  # the local stand-in; unset: LINE itself
BASE_URL = "https://api.line.me"
MAX_TEXT = 5000
MAX_WAIT = 5.0  # seconds of Retry-After worth waiting inside one invocation
TIMEOUT = 10.0


class LineError(Exception):
    """LINE did not take the push (the text never contains the token)."""

    def __init__(self, status: int, text: str, retry_after: float | None = None) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(text)


@dataclass(frozen=True)
class Pushed:
    request_id: str
    duplicate: bool  # 409: an earlier attempt with this retry key was accepted


def retry_key(*parts: str) -> str:
    """The same key for every attempt at one notice (a UUID, as LINE asks)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "tripwire:line:" + "/".join(parts)))


def text(message: TopicMessage) -> str:
    """Plain text a phone shows: the cost and the names first."""
    if isinstance(message, GroupMessage):
        lines = [f"[Tripwire {message.severity.value}] {message.what}"]
        if message.impact_text:
            lines.append(message.impact_text)
        if message.root_cause:
            lines.append(message.root_cause)
        lines += [message.where, message.link]
    elif isinstance(message, DigestCounts):
        lines = [
            f"[Tripwire] digest {message.profile_id} {message.day}: "
            f"{message.raised_total} alerts, {message.unresolved_critical} critical open",
            *message.top_incidents[:3],
        ]
    elif isinstance(message, WeeklyDigest):
        lines = [
            f"[Tripwire] week of {message.week}, profile {message.profile_id}: "
            f"{trend(message.raised, message.raised_before)} alerts, "
            f"MTTR {trend(message.mttr_minutes, message.mttr_before)} min",
            *message.top_incidents[:3],
        ]
    else:
        assert isinstance(message, ConnectionLost)
        lines = [f"[Tripwire] {message.provider} disconnected: {message.reason}", message.action]
    return "\n".join(lines)[:MAX_TEXT]


class LineClient:
    def __init__(
        self,
        token: CachedSecret | None = None,
        base_url: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._token = token or CachedSecret(SECRET_ENV, "channel_access_token")
        self._base_url = base_url
        self._sleep = sleep

    def forget_token(self) -> None:
        """Read the token again on the next push (reissued, or another local stack's)."""
        self._token.forget()

    def push(self, to: str, message: str, key: str) -> Pushed:
        """Push one text message; raises LineError unless LINE accepted it (now or before)."""
        try:
            return self._push(to, message, key)
        except LineError as error:
            if error.status == 401:
                self._token.forget()  # a reissued token: read it again, once
            elif not (error.status == 429 and (error.retry_after or MAX_WAIT + 1) <= MAX_WAIT):
                raise
            else:
                self._sleep(error.retry_after or 0.0)
            return self._push(to, message, key)

    def _push(self, to: str, message: str, key: str) -> Pushed:
        base = (self._base_url or os.environ.get(BASE_URL_ENV) or BASE_URL).rstrip("/")
        request = urllib.request.Request(
            f"{base}/v2/bot/message/push",
            data=json.dumps({"to": to, "messages": [{"type": "text", "text": message}]}).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self._token.value()}",
                "X-Line-Retry-Key": key,
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return Pushed(response.headers.get("x-line-request-id", ""), duplicate=False)
        except urllib.error.HTTPError as error:
            if error.code == 409 and error.headers.get("x-line-accepted-request-id"):
                return Pushed(error.headers["x-line-accepted-request-id"], duplicate=True)
            raise LineError(
                error.code, f"LINE answered HTTP {error.code}: {_reason(error)}", _seconds(error)
            ) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise LineError(0, f"LINE unreachable: {type(reason).__name__}") from None


def _reason(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(error.read() or b"{}").get("message", ""))[:200]
    except (ValueError, OSError):
        return ""


def _seconds(error: urllib.error.HTTPError) -> float | None:
    value = error.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
