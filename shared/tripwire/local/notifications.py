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
  show and keeps every message (``slack_messages``);
- the LINE Messaging API stand-in (``local/line_provider.py``) and a secret holding its
  channel access token; the notifier's real LINE client talks to it over HTTP;
- SMS: moto keeps ``sms`` subscriptions and applies their filter policies, but its
  delivery has no branch for them (nobody is texted). ``_text_sms_subscriptions`` adds that
  branch to the in-process moto server: a message that passes a number's filter policy is
  recorded as ``Publish PhoneNumber=`` records it (the ``sms`` text of the message
  structure), read back from that in-process SNS backend (``sms_messages``);
- the notifier's on-failure queue: Lambda retries a failed asynchronous invocation twice
  (``ASYNC_RETRIES``), then sends the event to its on-failure destination — here, at once
  rather than after Lambda's minutes of back-off, into an SQS queue in moto server.

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
from tripwire.local.line_provider import LocalLineProvider
from tripwire.local.serving import serve, shut_down
from tripwire.notify.line import BASE_URL_ENV as LINE_URL_ENV
from tripwire.notify.line import SECRET_ENV as LINE_SECRET_ENV
from tripwire.notify.messages import EMAIL_ENV, EMAIL_FILTER, LINK_ENV
from tripwire.notify.notifier import LINE, WEBHOOK
from tripwire.notify.publisher import TOPIC_ENV
from tripwire.notify.slack import SECRET_ENV, render_text

HOST = "127.0.0.1"
ASYNC_RETRIES = 2  # Lambda's retries of an asynchronous invocation (as configured in infra)


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
        self.line = LocalLineProvider()
        self.failures_queue_url = ""
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
        self._thread = serve(self._server)
        try:
            sns = self.client("sns")
            self.topic_arn = sns.create_topic(Name=f"{self.prefix}-alerts")["TopicArn"]
            # moto keeps one in-memory backend per process: two stacks in one process (tests)
            # would share a secret of one name, so each receiver gets its own.
            token = self.webhook_path.rsplit("/", 1)[-1][:8]
            secret = self._put_secret(f"{self.prefix}-slack-webhook-{token}", self.webhook_url)
            line_url = self.line.start()
            line_secret = self._put_secret(f"{self.prefix}-line-token-{token}", self.line.token)
            self.failures_queue_url = self.client("sqs").create_queue(
                QueueName=f"{self.prefix}-notifier-failures"
            )["QueueUrl"]
            _text_sms_subscriptions()
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
            self.exported = {
                TOPIC_ENV: self.topic_arn,
                SECRET_ENV: secret,
                LINE_SECRET_ENV: line_secret,
                LINE_URL_ENV: line_url,
                EMAIL_ENV: "1",
            }
            if self.api_url:
                self.exported[LINK_ENV] = f"{self.api_url}/app/"
            export(self.exported, self._saved_env)  # the in-process handlers read these
            WEBHOOK.forget()  # a warm notifier must not keep a previous stack's webhook
            LINE.forget_token()  # … nor its LINE token
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
            shut_down(self._server, self._thread)
        self._server = self._thread = None
        self.line.stop()
        restore(self._saved_env)

    def __enter__(self) -> LocalNotifications:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def dead_letters(self) -> list[dict[str, Any]]:
        """The events in the notifier's on-failure queue (Lambda's destination record)."""
        sqs = self.client("sqs")
        found = sqs.receive_message(
            QueueUrl=self.failures_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        )
        return [json.loads(m["Body"]) for m in found.get("Messages", [])]

    def sms_messages(self) -> list[tuple[str, str]]:
        """(number, text) of every SMS the in-process moto server recorded, oldest first.

        Read from its SNS backend, where ``_text_sms_subscriptions`` records them: moto's
        ``/moto-api/data.json`` serialises every model instance the process ever made and
        fails (500) on one that won't serialise, which a long-running stack soon has."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sns.models import sns_backends

        backend = sns_backends[DEFAULT_ACCOUNT_ID][self.env["AWS_REGION"]]
        return [(number, text) for number, text in backend.sms_messages.values()]

    def _put_secret(self, name: str, value: str) -> str:
        manager = self.client("secretsmanager")
        try:
            return str(manager.create_secret(Name=name, SecretString=value)["ARN"])
        except manager.exceptions.ResourceExistsException:
            manager.put_secret_value(SecretId=name, SecretString=value)
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
        event = lambda_event(notification, self.topic_arn)
        last: Exception | None = None
        for attempt in range(1 + ASYNC_RETRIES):
            try:
                invoke("notifier", event)
                return
            except Exception as failure:
                with self._lock:
                    self.notifier_errors.append(traceback.format_exc(limit=3))
                sys.stderr.write(f"[notifications] notifier attempt {attempt + 1} failed:\n")
                sys.stderr.write(traceback.format_exc(limit=3))
                last = failure
        assert last is not None
        self._dead_letter(event, last)

    def _dead_letter(self, event: dict[str, Any], error: Exception) -> None:
        """Lambda's on-failure destination record for an exhausted asynchronous event."""
        record = {
            "version": "1.0",
            "requestContext": {
                "functionArn": "arn:aws:lambda:local:000000000000:function:notifier",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 1 + ASYNC_RETRIES,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
            "responsePayload": {"errorType": type(error).__name__, "errorMessage": str(error)},
        }
        self.client("sqs").send_message(
            QueueUrl=self.failures_queue_url, MessageBody=json.dumps(record)
        )


def _text_sms_subscriptions() -> None:
    """Make the in-process moto server deliver topic messages to ``sms`` subscriptions (once
    per process): after the subscription's own filter policy, as SNS does, the message's
    ``sms`` text is recorded as a direct SMS publish to the number."""
    from moto.sns import models  # dev-only dependency, as moto server itself

    deliver: Any = models.Subscription.publish
    if getattr(deliver, "texts_sms", False):
        return

    def publish(self: Any, message: str, message_id: str, **options: Any) -> None:
        if self.protocol != "sms":
            return deliver(self, message, message_id, **options)
        matcher = self._filter_policy_matcher
        if matcher is not None and not matcher.matches(options["message_attributes"], message):
            return None
        if options.get("message_structure") == "json":
            message = self._parse_message_structure(message, "sms")
        self.topic.sns_backend.publish(message, arn=None, phone_number=self.endpoint)
        return None

    publish.texts_sms = True  # type: ignore[attr-defined]
    setattr(models.Subscription, "publish", publish)  # noqa: B010 (moto's class, patched)


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
