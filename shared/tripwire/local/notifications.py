"""Local notifications: the SNS topic in moto server delivering over real HTTP.

``LocalNotifications(env).start()`` creates, against the stack's moto server:

- the alerts topic, and a Secrets Manager secret holding the local Slack webhook URL;
- one HTTP server on 127.0.0.1 with three paths:
  ``/sns/notifier`` — an HTTP subscription of the topic; each notification becomes the
  SNS event Lambda would get and runs the real ``functions/notifier`` handler;
  ``/sns/mail``     — an HTTP subscription with the e-mail filter policy (severity =
  critical). moto accepts ``email`` subscriptions but delivers nothing to them, so this
  endpoint stands in for the mail relay, with the same filter the real e-mail
  subscription has (``EMAIL_FILTER``);
  ``/services/…``   — a Slack-compatible incoming webhook: it prints what Slack would
  show and keeps every message (``slack_messages``).

moto POSTs to HTTP subscribers synchronously inside Publish, so when ``publish`` returns
the notifier has run and Slack has the message. Subscriptions are confirmed at once by
moto; a ``SubscriptionConfirmation`` is still answered (ConfirmSubscription), as AWS needs.
"""

from __future__ import annotations

import json
import secrets
import sys
import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3

from tripwire.local.environ import export, restore
from tripwire.local.functions import invoke
from tripwire.notify.messages import LINK_ENV
from tripwire.notify.notifier import WEBHOOK
from tripwire.notify.publisher import TOPIC_ENV
from tripwire.notify.slack import SECRET_ENV, render_text

HOST = "127.0.0.1"
EMAIL_FILTER = {"severity": ["critical"]}  # the e-mail subscription's filter policy


@dataclass(frozen=True)
class Delivery:
    """One SNS notification as an HTTP subscriber received it."""

    subject: str | None
    message: str
    attributes: dict[str, str]

    @property
    def body(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.message)
        return parsed


class LocalNotifications:
    def __init__(
        self,
        env: Mapping[str, str],
        *,
        prefix: str = "tripwire-local",
        api_url: str | None = None,
        echo: bool = True,
    ) -> None:
        self.env = dict(env)
        self.api_url = api_url  # alert links open its dashboard, <api>/app/
        self.prefix = prefix
        self.echo = echo  # print what Slack would show
        self.slack_messages: list[dict[str, Any]] = []  # webhook bodies, in arrival order
        self.email_messages: list[Delivery] = []
        self.notifier_errors: list[str] = []
        self.topic_arn = ""
        self.webhook_path = f"/services/T0LOCAL/B0LOCAL/{secrets.token_hex(12)}"
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._subscriptions: list[str] = []
        self._saved_env: dict[str, str | None] = {}
        self.exported: dict[str, str] = {}

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("local notifications are not started")
        return f"http://{HOST}:{self._server.server_address[1]}"

    @property
    def webhook_url(self) -> str:
        return self.url + self.webhook_path

    def client(self, service: str) -> Any:
        session = boto3.session.Session(
            aws_access_key_id=self.env.get("AWS_ACCESS_KEY_ID", "testing"),
            aws_secret_access_key=self.env.get("AWS_SECRET_ACCESS_KEY", "testing"),
            aws_session_token=self.env.get("AWS_SESSION_TOKEN", "testing"),
            region_name=self.env.get("AWS_REGION", "us-east-1"),
        )
        return session.client(service, endpoint_url=self.env["AWS_ENDPOINT_URL"])  # type: ignore[call-overload]

    def start(self) -> dict[str, str]:
        """Create topic, secret, receivers and subscriptions; export and return the env."""
        self._server = _Server((HOST, 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        try:
            sns = self.client("sns")
            self.topic_arn = sns.create_topic(Name=f"{self.prefix}-alerts")["TopicArn"]
            # moto keeps one in-memory backend per process: two stacks in one process (tests)
            # would share a secret of one name, so each receiver gets its own.
            token = self.webhook_path.rsplit("/", 1)[-1][:8]
            secret = self._put_secret(f"{self.prefix}-slack-webhook-{token}")
            for path, policy in (("/sns/notifier", None), ("/sns/mail", EMAIL_FILTER)):
                attributes = {"FilterPolicy": json.dumps(policy)} if policy else {}
                arn = sns.subscribe(
                    TopicArn=self.topic_arn,
                    Protocol="http",
                    Endpoint=self.url + path,
                    Attributes=attributes,
                    ReturnSubscriptionArn=True,
                )["SubscriptionArn"]
                self._subscriptions.append(arn)
            self.exported = {TOPIC_ENV: self.topic_arn, SECRET_ENV: secret}
            if self.api_url:
                self.exported[LINK_ENV] = f"{self.api_url}/app/"
            export(self.exported, self._saved_env)  # the in-process handlers read these
            WEBHOOK.forget()  # a warm notifier must not keep a previous stack's webhook
        except BaseException:
            self.stop()
            raise
        return dict(self.exported)

    def stop(self) -> None:
        """Unsubscribe (moto would fail Publish on a dead endpoint), stop, restore env."""
        if self._subscriptions:
            sns = self.client("sns")
            for arn in self._subscriptions:
                sns.unsubscribe(SubscriptionArn=arn)
            self._subscriptions = []
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        restore(self._saved_env)

    def __enter__(self) -> LocalNotifications:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _put_secret(self, name: str) -> str:
        manager = self.client("secretsmanager")
        try:
            return str(manager.create_secret(Name=name, SecretString=self.webhook_url)["ARN"])
        except manager.exceptions.ResourceExistsException:
            manager.put_secret_value(SecretId=name, SecretString=self.webhook_url)
            return str(manager.describe_secret(SecretId=name)["ARN"])

    # -- what the endpoints do -------------------------------------------------------
    def received_slack(self, body: dict[str, Any]) -> None:
        with self._lock:
            self.slack_messages.append(body)
        if self.echo:
            print(f"--- Slack ---\n{render_text(body)}\n", flush=True)

    def received_sns(self, path: str, notification: dict[str, Any]) -> None:
        kind = notification.get("Type")
        if kind == "SubscriptionConfirmation":
            self.client("sns").confirm_subscription(
                TopicArn=notification["TopicArn"], Token=notification["Token"]
            )
            return
        if kind != "Notification":
            return
        if path == "/sns/mail":
            delivery = Delivery(
                notification.get("Subject"),
                notification["Message"],
                {
                    k: v.get("Value", "")
                    for k, v in (notification.get("MessageAttributes") or {}).items()
                },
            )
            with self._lock:
                self.email_messages.append(delivery)
            return
        try:
            invoke("notifier", lambda_event(notification, self.topic_arn))
        except Exception:
            # Lambda would retry the async invocation; locally the failure is kept and shown.
            with self._lock:
                self.notifier_errors.append(traceback.format_exc(limit=3))
            sys.stderr.write("[notifications] notifier failed:\n" + traceback.format_exc())
            raise


def lambda_event(notification: dict[str, Any], topic_arn: str) -> dict[str, Any]:
    """The event Lambda receives for an SNS notification (HTTP body → ``Records[0].Sns``)."""
    attributes = {
        name: {"Type": value.get("Type", "String"), "Value": value.get("Value", "")}
        for name, value in (notification.get("MessageAttributes") or {}).items()
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:local-notifier",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": notification.get("MessageId", ""),
                    "TopicArn": notification.get("TopicArn", topic_arn),
                    "Subject": notification.get("Subject"),
                    "Message": notification["Message"],
                    "Timestamp": notification.get("Timestamp", ""),
                    "SignatureVersion": notification.get("SignatureVersion", "1"),
                    "Signature": notification.get("Signature", ""),
                    "SigningCertUrl": notification.get("SigningCertURL", ""),
                    "UnsubscribeUrl": notification.get("UnsubscribeURL", ""),
                    "MessageAttributes": attributes,
                },
            }
        ]
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LocalNotifications


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 30

    def do_POST(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            return self._answer(400, b"invalid_payload")
        if self.path.startswith("/services/"):
            if self.path != owner.webhook_path:
                return self._answer(404, b"no_service")  # what Slack says to a wrong URL
            if not (body.get("text") or body.get("blocks")):
                return self._answer(400, b"no_text")
            owner.received_slack(body)
            return self._answer(200, b"ok")
        if self.path in ("/sns/notifier", "/sns/mail"):
            try:
                owner.received_sns(self.path, body)
            except Exception:
                return self._answer(500, b"error")
            return self._answer(200, b"")
        return self._answer(404, b"not found")

    def _answer(self, status: int, text: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the URL path holds the webhook secret: never log request lines
