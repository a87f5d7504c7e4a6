"""The queues' event source mappings, locally: SQS batches to the real function handlers.

Like Lambda's SQS event source mapping with ``ReportBatchItemFailures``: receive up to ten
messages, hand them to ``functions/scan_worker`` (the scan queue) or ``functions/learner``
(the learn queue, FIFO) as an SQS event, delete the ones that succeeded and leave the
failed ones to reappear after the visibility timeout — so moto's redrive policy moves a
message that keeps failing to the dead-letter queue.
"""

from __future__ import annotations

import datetime
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Self

# Imported here, on the thread that starts the stack: the pollers load their handlers on
# their own threads, and two of them importing Powertools' batch utilities at once fail on
# its circular imports ("partially initialized module"), as a restored stack's landing and
# scan pollers did.
import aws_lambda_powertools.utilities.batch  # noqa: F401

from tripwire.domain.metrics import Interval
from tripwire.local.functions import invoke
from tripwire.service.schedule import SCHEDULED
from tripwire.store.provision import aws_client, region

WORKER = "scan_worker"
LEARNER = "learner"
LANDING = "landing"
STREAM_INGEST = "stream_ingest"
SWEEPER = "sweeper"
SWEEP_EVERY = 900.0  # seconds: the deployed rule's rate(15 minutes)
BATCH = 10  # SQS's receive limit and the mapping's default batch size
Invoke = Callable[[str, dict[str, Any]], Any]


def lambda_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """A received SQS message as the record the Lambda SQS event carries."""
    attributes = message.get("Attributes", {})
    # FIFO queues: what Lambda's event carries for them (the FIFO batch processor reads it).
    fifo = {
        name: attributes[name]
        for name in ("MessageGroupId", "MessageDeduplicationId", "SequenceNumber")
        if name in attributes
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", "0"),
            "SenderId": attributes.get("SenderId", "local"),
            "ApproximateFirstReceiveTimestamp": attributes.get(
                "ApproximateFirstReceiveTimestamp", "0"
            ),
            **fifo,
        },
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region(),
    }


class _Background:
    """A daemon thread running ``_run`` until ``stop``: what the poller and ticker share."""

    thread_name = "background"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        raise NotImplementedError


class ScanPoller(_Background):
    """Polls ``queue_url`` on a thread (``start``) or on demand (``poll_once``)."""

    thread_name = "scan-poller"
    function = WORKER  # the handler each batch goes to

    def __init__(self, queue_url: str, *, invoke_function: Invoke = invoke) -> None:
        super().__init__()
        self.queue_url = queue_url
        self._invoke = invoke_function
        self._busy = threading.Lock()  # held while a batch is being handled
        self.batches = 0
        self.failures = 0  # records the worker reported failed
        sqs = aws_client("sqs")
        self._arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.poll_once():
                    self._stop.wait(0.1)
            except Exception:  # keep polling, like the managed mapping does
                traceback.print_exc(file=sys.stderr)
                self._stop.wait(1.0)

    def poll_once(self) -> int:
        """Receive one batch and hand it to the worker; returns how many were received."""
        with self._busy:
            sqs = aws_client("sqs")
            messages = sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=BATCH,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                return 0
            event = {"Records": [lambda_record(m, self._arn) for m in messages]}
            failed = self._handle(event)
            done = [m for m in messages if m["MessageId"] not in failed]
            for start in range(0, len(done), BATCH):
                sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(done[start : start + BATCH])
                    ],
                )
            self.batches += 1
            self.failures += len(failed)
            return len(messages)

    def _handle(self, event: dict[str, Any]) -> set[str]:
        """Message ids the worker failed (all of them when the invocation itself failed)."""
        try:
            result = self._invoke(self.function, event)
        except Exception:  # Powertools raises when every record failed
            traceback.print_exc(file=sys.stderr)
            return {r["messageId"] for r in event["Records"]}
        return {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}

    def drain(self, timeout: float = 900.0) -> None:
        """Wait until the queue holds nothing visible or in flight (failed messages wait
        out their visibility timeout, then retry or move to the DLQ)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._thread is None:
                self.poll_once()
            if queue_depth(self.queue_url) == 0:
                with self._busy:  # a batch received but not yet handled counts
                    if queue_depth(self.queue_url) == 0:
                        return
            time.sleep(0.05)
        raise TimeoutError(f"{self.queue_url} did not drain within {timeout:.0f}s")


class LearnPoller(ScanPoller):
    """The learn queue's mapping: batches to the real learner handler."""

    thread_name = "learn-poller"
    function = LEARNER


class LandingPoller(ScanPoller):
    """The landing queue's mapping: the landing bucket's notifications to the real landing
    function (moto server delivers S3 notifications to SQS, not to Lambda)."""

    thread_name = "landing-poller"
    function = LANDING


class StreamPoller(ScanPoller):
    """The stream queue's mapping: Marketing Stream records (the Amazon Ads stand-in
    delivers them, as Amazon's publishers do) to the real stream_ingest function."""

    thread_name = "stream-poller"
    function = STREAM_INGEST


def queue_depth(queue_url: str) -> int:
    """Messages visible plus in flight (received, not yet deleted)."""
    attributes = aws_client("sqs").get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


# -- the EventBridge schedule, locally ---------------------------------------------------

SCHEDULER = "scan_scheduler"


def schedule_event(at: datetime.datetime, interval: str = "1d") -> dict[str, Any]:
    """The event an EventBridge schedule rule sends the scheduler at ``at`` (UTC)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region(),
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/tripwire-local-scan"],
        "detail": {"interval": interval},
    }


def fire_schedule(
    as_of: datetime.date | None = None,
    *,
    invoke_function: Invoke = invoke,
    intervals: Sequence[Interval] = (Interval.D1,),
) -> list[dict[str, str]]:
    """One tick of the schedule: the real scheduler handler, once per interval's rule as
    EventBridge would; returns the runs it started (``run_id``, ``tenant_id``,
    ``profile_id``)."""
    now = datetime.datetime.now(datetime.UTC)
    at = now if as_of is None else datetime.datetime.combine(as_of, now.time())
    runs: list[dict[str, str]] = []
    for interval in intervals:
        answer = invoke_function(SCHEDULER, schedule_event(at, interval.value))
        runs += answer["runs"]
        # A connected profile's scan run starts once its sync has landed, under this id.
        runs += [{**s, "sync": "amazon-ads"} for s in answer.get("syncs", [])]
    return runs


class _Ticker(_Background):
    """A ``tick`` every ``seconds`` on a thread; a failing tick is printed, the next runs."""

    def __init__(self, seconds: float, *, invoke_function: Invoke = invoke) -> None:
        super().__init__()
        self.seconds = seconds
        self._invoke = invoke_function

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            try:
                self.tick()
            except Exception:
                traceback.print_exc(file=sys.stderr)

    def tick(self) -> None:
        raise NotImplementedError


class ScheduleTicker(_Ticker):
    """``tripwire local up``'s schedule: a tick every ``seconds`` on a thread."""

    thread_name = "scan-schedule"

    def tick(self) -> None:
        # every interval a profile can be scheduled at has its rule, as in AWS
        runs = fire_schedule(invoke_function=self._invoke, intervals=SCHEDULED)
        print(f"[schedule] scan tick: {len(runs)} run(s) queued", file=sys.stderr)
        # DynamoDB expires items by TTL on its own; moto does not: sweep on each tick
        # so expired alerts reach the archiver through the same stream records.
        from tripwire.local.ttl_sweep import sweep

        swept = sweep()
        if swept.expired:
            print(
                f"[ttl] {len(swept.expired)} expired alert(s), {swept.archived} archived",
                file=sys.stderr,
            )


def fire_sweep(*, invoke_function: Invoke = invoke) -> list[dict[str, str]]:
    """One tick of the sweep rule: the real sweeper handler; the runs it failed."""
    event = schedule_event(datetime.datetime.now(datetime.UTC))
    swept: list[dict[str, str]] = invoke_function(SWEEPER, event)["swept"]
    return swept


class SweepTicker(_Ticker):
    """The run sweeper's schedule, locally: a sweep every ``seconds`` on a thread."""

    thread_name = "run-sweep"

    def __init__(self, seconds: float = SWEEP_EVERY, *, invoke_function: Invoke = invoke) -> None:
        super().__init__(seconds, invoke_function=invoke_function)

    def tick(self) -> None:
        swept = fire_sweep(invoke_function=self._invoke)
        if swept:
            print(f"[sweep] {len(swept)} overdue run(s) failed", file=sys.stderr)


DIGESTER = "digest"
DIGEST_HOUR = 6  # UTC, as the deployed rules: daily cron(0 6 * * ? *), weekly on Mondays


def digest_events(now: datetime.datetime, fired: set[str]) -> list[dict[str, Any]]:
    """The events the two digest rules send by ``now`` that ``fired`` does not hold yet
    (their keys are added): the daily one from 06:00 UTC, the weekly one on Mondays."""
    if now.hour < DIGEST_HOUR:
        return []
    due: list[tuple[str, dict[str, str]]] = [(f"daily:{now.date()}", {})]
    if now.weekday() == 0:
        due.append((f"weekly:{now.date()}", {"digest": "weekly"}))
    events = []
    for key, detail in due:
        if key not in fired:
            fired.add(key)
            events.append({**schedule_event(now), "detail": detail})
    return events


class DigestTicker(_Ticker):
    """The digest rules, locally: each minute, whichever of the daily and weekly digests is
    due and not sent yet is sent through the real digest handler. A stack started after
    06:00 does not send that day's (the rule fired before it existed)."""

    thread_name = "digests"

    def __init__(
        self,
        seconds: float = 60.0,
        *,
        invoke_function: Invoke = invoke,
        clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
    ) -> None:
        super().__init__(seconds, invoke_function=invoke_function)
        self._clock = clock
        self.fired: set[str] = set()
        digest_events(clock(), self.fired)  # what was due before the stack started

    def tick(self) -> None:
        for event in digest_events(self._clock(), self.fired):
            result = self._invoke(DIGESTER, event)
            print(f"[digest] {result}", file=sys.stderr)
