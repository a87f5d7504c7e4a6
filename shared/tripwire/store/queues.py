"""Every SQS queue Tripwire uses, declared once — like ``tables.py`` for tables.

The CDK app, the local stack and the code that sends or consumes read this module: a queue's
environment variables, FIFO-ness, receives before its dead-letter queue and visibility rule
can only be changed here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Queue:
    name: str  # the logical name: the local stack's queue is ``{prefix}-{name}``
    url_env: str  # the variable that holds its URL in a function's environment
    dlq_env: str  # … and its dead-letter queue's
    fifo: bool = False
    # Receives before a failing message moves to the dead-letter queue; the consumer reads
    # it from ``MAX_RECEIVES_ENV`` to know a message's last attempt.
    max_receives: int = 3
    # AWS: at least six times the consuming function's timeout (plus a margin).
    visibility_factor: int = 6
    # Locally short, so a failed message is retried (and reaches its DLQ) within seconds;
    # each local poller is one thread, so a long batch is never received twice while it runs.
    local_visibility_seconds: int = 2
    # The consuming function's timeout (the CDK app sizes the scan worker from it).
    consumer_timeout_seconds: int = 300

    def visibility_seconds(self, consumer_timeout_seconds: float) -> int:
        return int(consumer_timeout_seconds * self.visibility_factor + 30)

    def retry_seconds(self) -> int:
        """How long a message can go on being retried once first received: every receive
        may hold it for a whole visibility timeout before it moves to the DLQ."""
        return self.max_receives * self.visibility_seconds(self.consumer_timeout_seconds)

    def url(self) -> str:
        """This queue's URL from the environment; a clear error where it is not configured."""
        url = os.environ.get(self.url_env)
        if not url:
            raise QueueNotConfigured(f"{self.url_env} is not set: no {self.name} queue to use")
        return url


class QueueNotConfigured(RuntimeError):
    """A queue's URL is missing from the environment."""


MAX_RECEIVES_ENV = "TRIPWIRE_SCAN_MAX_RECEIVES"

# Scan slices: scheduler, backfill and large detections send; the worker consumes.
SCAN = Queue("scan", "TRIPWIRE_SCAN_QUEUE_URL", "TRIPWIRE_SCAN_DLQ_URL")
# Learning: FIFO, one message group per tenant and profile, so one learner at a time
# learns a profile. The worker completing a scheduled run sends; the learner consumes.
LEARN = Queue("learn", "TRIPWIRE_LEARN_QUEUE_URL", "TRIPWIRE_LEARN_DLQ_URL", fifo=True)

# Landing: the landing bucket's object-created notifications; the landing function imports
# each file (service/landing.py). A file that keeps failing (not a refused file: that is a
# report) moves to the DLQ after ``max_receives``.
LANDING = Queue("landing", "TRIPWIRE_LANDING_QUEUE_URL", "TRIPWIRE_LANDING_DLQ_URL")

# Amazon Marketing Stream: Amazon delivers the subscribed hourly datasets here (the queue's
# policy lets Amazon's stream publishers send); the stream_ingest function consumes.
STREAM = Queue("stream", "TRIPWIRE_STREAM_QUEUE_URL", "TRIPWIRE_STREAM_DLQ_URL")
# The stream queue's ARN: the ``destinationArn`` a profile's subscriptions name.
STREAM_ARN_ENV = "TRIPWIRE_STREAM_QUEUE_ARN"

QUEUES = (SCAN, LEARN, LANDING, STREAM)
