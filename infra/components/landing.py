"""The landing bucket's imports: object-created notifications → landing queue (+DLQ) →
the landing function (service/landing.py).

Through a queue rather than S3 invoking the function directly: S3 delivers notifications
at least once and invokes asynchronously with two retries, after which a failed file is
only a log line. The queue keeps every notification until the function has handled it,
retries an import that hit a throttle or a concurrent write (``Queue.max_receives``), and
parks one that keeps failing in a dead-letter queue that is alarmed and can be redriven.
A refused file is not a failure: its report says why, and the message is consumed.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as notifications
from constructs import Construct

from infra.components.functions import Functions
from infra.components.queues import dead_lettered
from tripwire.store.queues import LANDING
from tripwire.store.tables import LANDING as LANDING_BUCKET

FUNCTION = "landing"
BATCH_SIZE = 1  # one file per invocation: a big report gets the whole timeout


class Landing(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, functions: Functions) -> None:
        super().__init__(scope, construct_id)
        function = functions.functions[FUNCTION]
        bucket = functions.storage.buckets[LANDING_BUCKET.logical]
        self.queue, self.dlq = dead_lettered(self, "Landing", LANDING, function)
        function.add_event_source(
            sources.SqsEventSource(
                self.queue, batch_size=BATCH_SIZE, report_batch_item_failures=True
            )
        )
        # Every created object: a report written beside a file notifies too, and the
        # function ignores it (S3 filters cannot exclude a suffix).
        assert isinstance(bucket, s3.Bucket)
        bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED, notifications.SqsDestination(self.queue)
        )
        self._acknowledge_notifications_handler()

    def _acknowledge_notifications_handler(self) -> None:
        """CDK's own singleton that puts the bucket's notification configuration."""
        stack = Stack.of(self)
        for child in stack.node.children:
            if child.node.id.startswith("BucketNotificationsHandler"):
                for finding, reason in (
                    (
                        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                        "service-role/AWSLambdaBasicExecutionRole]",
                        "CDK's BucketNotificationsHandler custom resource (it only writes the "
                        "landing bucket's notification configuration at deploy time) is built "
                        "by CDK with the basic execution role; its code is not ours to change.",
                    ),
                    (
                        "AwsSolutions-IAM5[Resource::*]",
                        "CDK's BucketNotificationsHandler needs s3:PutBucketNotification, which "
                        "CDK grants on '*'; it runs only during deployments, never on data.",
                    ),
                ):
                    Validations.of(child).acknowledge(Acknowledgment(id=finding, reason=reason))
