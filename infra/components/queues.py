"""A consumed queue with its dead-letter queue, as the landing and stream queues are built."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from tripwire.store.queues import Queue


def dead_lettered(
    scope: Construct, name: str, declared: Queue, consumer: lambda_.Function
) -> tuple[sqs.Queue, sqs.Queue]:
    """(queue, DLQ) named ``{name}Queue`` / ``{name}DeadLetterQueue``: SSE-SQS (S3 and SNS
    may send to it), TLS only, a visibility timeout sized from the consumer's timeout, and
    ``declared.max_receives`` receives before a message moves to the DLQ."""
    dlq = sqs.Queue(
        scope,
        f"{name}DeadLetterQueue",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
    )
    assert dlq.node.default_child is not None
    Validations.of(dlq.node.default_child).acknowledge(
        Acknowledgment(
            id="AwsSolutions-SQS3",
            reason=f"This is the dead-letter queue of the {declared.name} queue; a DLQ of a "
            "DLQ would only move the same failed messages further from their alarm.",
        )
    )
    assert consumer.timeout is not None
    queue = sqs.Queue(
        scope,
        f"{name}Queue",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        visibility_timeout=Duration.seconds(
            declared.visibility_seconds(consumer.timeout.to_seconds())
        ),
        dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=declared.max_receives),
    )
    return queue, dlq
