"""Amazon Marketing Stream: the stream queue (+DLQ) Amazon delivers the subscribed hourly
datasets to, and the stream_ingest function consuming it (service/ads_stream.py).

Amazon's stream publishers are SNS topics in Amazon's accounts, one per dataset and region;
the queue's policy lets the topics named in the CDK context ``tripwire:streamTopicArns``
(from the Marketing Stream onboarding documentation) send to it. The queue's ARN is the
``destinationArn`` a subscription names (output ``StreamQueueArn``; the scan worker gets it
as ``TRIPWIRE_STREAM_QUEUE_ARN`` and subscribes a connected profile after its first sync).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from infra.components.functions import Functions
from infra.components.queues import dead_lettered
from tripwire.store.queues import STREAM, STREAM_ARN_ENV

FUNCTION = "stream_ingest"
BATCH_SIZE = 100  # records are small; a batch is merged keyword-hour by keyword-hour
BATCHING_WINDOW = Duration.seconds(10)  # an hour's records arrive together: fewer imports


class Stream(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, functions: Functions) -> None:
        super().__init__(scope, construct_id)
        function = functions.functions[FUNCTION]
        self.queue, self.dlq = dead_lettered(self, "Stream", STREAM, function)
        topics = self.node.try_get_context("tripwire:streamTopicArns") or []
        if topics:
            self.queue.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal("sns.amazonaws.com")],
                    actions=["sqs:SendMessage"],
                    resources=[self.queue.queue_arn],
                    conditions={"ArnEquals": {"aws:SourceArn": list(topics)}},
                )
            )
        function.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=BATCH_SIZE,
                max_batching_window=BATCHING_WINDOW,
                report_batch_item_failures=True,
            )
        )
        functions.functions["scan_worker"].add_environment(STREAM_ARN_ENV, self.queue.queue_arn)
