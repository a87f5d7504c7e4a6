"""A local stand-in for the LINE Messaging API's push endpoint, over real HTTP.

``POST /v2/bot/message/push`` as developers.line.biz documents it: ``Authorization: Bearer
{channel access token}`` (another token: 401), a JSON body ``{"to", "messages"}`` with 1–5
messages, text ones of 1–5,000 characters (else 400 with ``details`` naming the property),
``X-Line-Retry-Key`` a UUID (else 400); a key already accepted answers 409 with
``x-line-accepted-request-id`` and pushes nothing. Accepted: 200 ``{"sentMessages": [...]}``
and ``x-line-request-id``. Past ``rate_limit`` pushes per ``rate_window`` seconds: 429 with
``Retry-After`` (LINE counts rate limits per channel; the header is this stand-in's
courtesy — the client copes without it). ``fail(n, status)`` answers the next n pushes
with that status (an outage). ``pushes`` keeps what LINE would have delivered.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tripwire.local.serving import serve, shut_down

HOST = "127.0.0.1"
PATH = "/v2/bot/message/push"
MAX_MESSAGES = 5
MAX_TEXT = 5000


@dataclass(frozen=True)
class Push:
    to: str
    texts: list[str]
    retry_key: str | None
    request_id: str


class LocalLineProvider:
    def __init__(
        self, token: str | None = None, *, rate_limit: int = 100, rate_window: float = 1.0
    ) -> None:
        self.token = token or secrets.token_urlsafe(32)
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.pushes: list[Push] = []
        self.answers: list[int] = []  # every status answered, in order (tests read them)
        self._accepted: dict[str, str] = {}  # retry key → request id
        self._recent: list[float] = []
        self._faults: list[int] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the LINE stand-in is not started")
        return f"http://{HOST}:{self._server.server_address[1]}"

    def start(self) -> str:
        server = ThreadingHTTPServer((HOST, 0), _Handler)
        server.daemon_threads = True
        server.owner = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = serve(server)
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            shut_down(self._server, self._thread)
        self._server = self._thread = None

    def fail(self, times: int, status: int = 500) -> None:
        """Answer the next ``times`` pushes with ``status`` (before any other check)."""
        with self._lock:
            self._faults.extend([status] * times)

    def pushes_to(self, to: str) -> list[Push]:
        with self._lock:
            return [p for p in self.pushes if p.to == to]

    # -- the contract -------------------------------------------------------------------
    def answer(
        self, authorization: str, retry_key: str | None, raw: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            status, body, headers = self._answer(authorization, retry_key, raw)
            self.answers.append(status)
            return status, body, headers

    def _answer(
        self, authorization: str, retry_key: str | None, raw: bytes
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if self._faults:
            return self._faults.pop(0), {"message": "An error occurred in the backend"}, {}
        if authorization != f"Bearer {self.token}":
            message = "Authentication failed. Confirm that the access token is valid."
            return 401, {"message": message}, {}
        if retry_key is not None:
            try:
                uuid.UUID(retry_key)
            except ValueError:
                return 400, {"message": "The value of the X-Line-Retry-Key header is invalid"}, {}
            if retry_key in self._accepted:
                accepted = {"x-line-accepted-request-id": self._accepted[retry_key]}
                return 409, {"message": "The retry key is already accepted"}, accepted
        problems = _problems(raw)
        if problems:
            details = [{"message": m, "property": p} for p, m in problems]
            return (
                400,
                {"message": f"The request body has {len(details)} error(s)", "details": details},
                {},
            )
        now = time.monotonic()
        self._recent = [t for t in self._recent if now - t < self.rate_window]
        if len(self._recent) >= self.rate_limit:
            wait = max(1, int(self.rate_window - (now - self._recent[0]) + 0.999))
            return (
                429,
                {"message": "The API rate limit has been exceeded."},
                {"Retry-After": str(wait)},
            )
        self._recent.append(now)
        body = json.loads(raw)
        request_id = str(uuid.uuid4())
        if retry_key is not None:
            self._accepted[retry_key] = request_id
        texts = [str(m.get("text", "")) for m in body["messages"]]
        self.pushes.append(Push(body["to"], texts, retry_key, request_id))
        sent = [{"id": str(10**17 + len(self.pushes)), "quoteToken": secrets.token_hex(8)}]
        return 200, {"sentMessages": sent}, {"x-line-request-id": request_id}


def _problems(raw: bytes) -> list[tuple[str, str]]:
    """(property, message) for each way the push body breaks the contract."""
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        return [("", "The request body is not valid JSON")]
    if not isinstance(body, dict):
        return [("", "The request body must be an object")]
    problems = []
    if not isinstance(body.get("to"), str) or not body["to"]:
        problems.append(("to", "Must not be empty"))
    messages = body.get("messages")
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        return [*problems, ("messages", f"Size must be between 1 and {MAX_MESSAGES}")]
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("type") != "text":
            problems.append((f"messages[{i}].type", "This stand-in takes text messages"))
            continue
        text = message.get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= MAX_TEXT:
            problems.append((f"messages[{i}].text", f"Length must be between 1 and {MAX_TEXT}"))
    return problems


class _Handler(BaseHTTPRequestHandler):
    timeout = 30

    def do_POST(self) -> None:
        owner: LocalLineProvider = self.server.owner  # type: ignore[attr-defined]
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path != PATH:
            return self._send(404, {"message": "Not found"}, {})
        status, body, headers = owner.answer(
            self.headers.get("Authorization", ""), self.headers.get("X-Line-Retry-Key"), raw
        )
        self._send(status, body, headers)

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # request lines carry nothing useful; the token is in a header, never logged
