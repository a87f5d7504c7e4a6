"""Scan pipeline, notifications and archival: the wiring between the worker functions.

- Scan: EventBridge schedule → scan_scheduler → scan queue (+DLQ) → scan_worker. detect
  (asynchronous requests) and runs (backfill) put slices on the same queue.
- Learning: the worker completing a scheduled run → learn queue (FIFO, one message group
  per tenant and profile, +DLQ) → learner (the half-space trees learn; river's layer).
- Notifications: scan_worker and digest publish on the KMS-encrypted alerts topic; the
  notifier (Slack, LINE) gets every message, e-mail only ``severity = critical``, each SMS
  number what its filter policy lets through (notify/sms.py; the profiles function
  subscribes the numbers profiles opt in).
- Archival: the alerts table's stream, filtered to TTL removals, feeds the archiver.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, SecretValue, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.components.functions import Functions
from infra.components.permissions import FUNCTIONS
from tripwire.domain.alerts import Severity
from tripwire.notify.digest import WEEKLY
from tripwire.notify.line import SECRET_ENV as LINE_SECRET_ENV
from tripwire.notify.messages import EMAIL_ENV, EMAIL_FILTER, LINK_ENV
from tripwire.notify.publisher import TOPIC_ENV
from tripwire.notify.slack import SECRET_ENV
from tripwire.notify.sms import filter_policy as sms_filter_policy
from tripwire.notify.sms import route as sms_route
from tripwire.store.queues import LEARN, MAX_RECEIVES_ENV, SCAN, Queue

SCAN_BATCH_SIZE = 5
LEARN_BATCH_SIZE = 10  # a FIFO queue's maximum; a batch is mostly one message per profile
DIGEST_SCHEDULE = "cron(0 6 * * ? *)"  # 06:00 UTC: yesterday's digest, before office hours
WEEKLY_DIGEST_SCHEDULE = "cron(0 6 ? * MON *)"  # Mondays 06:00 UTC: the week that ended
SMS_ACTIONS = (
    "sns:Subscribe",
    "sns:Unsubscribe",
    "sns:GetSubscriptionAttributes",
    "sns:SetSubscriptionAttributes",
    "sns:ListSubscriptionsByTopic",
)
SWEEP_SCHEDULE = "rate(15 minutes)"  # overdue runs: deadlines are hours, 15 min is prompt
DEFAULT_SCAN_SCHEDULE = "rate(1 hour)"  # daily profiles: hourly picks up restated sales
DEFAULT_HOURLY_SCAN_SCHEDULE = "rate(1 hour)"  # profiles with hourly bars


class ScanPipeline(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Functions,
        scan_schedules: dict[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.queue, self.dlq = self._queue_with_dlq(
            SCAN, "Scan", functions, "scan_worker", SCAN_BATCH_SIZE, "send_scans"
        )
        functions.functions["scan_worker"].add_environment(MAX_RECEIVES_ENV, str(SCAN.max_receives))
        # FIFO, grouped by tenant and profile: one learner at a time learns a profile (two
        # racing learners could each publish a state the other never saw), in run order.
        self.learn_queue, self.learn_dlq = self._queue_with_dlq(
            LEARN, "Learn", functions, "learner", LEARN_BATCH_SIZE, "send_learning"
        )

        scheduler = functions.functions["scan_scheduler"]
        # One rule per bar interval: the scheduler scans the profiles scheduled at
        # ``detail.interval``. A target input replaces the event, so the schedule's time
        # (the scan's as-of date) is passed through explicitly.
        self.scan_rules = {
            interval: events.Rule(
                self,
                f"ScanSchedule{interval.upper()}",
                schedule=events.Schedule.expression(expression),
                description=f"tripwire: scan every profile scheduled at {interval}",
                targets=[
                    targets.LambdaFunction(
                        scheduler,
                        event=events.RuleTargetInput.from_object(
                            {
                                "id": events.EventField.event_id,
                                "time": events.EventField.time,
                                "source": "aws.events",
                                "detail-type": "Scheduled Event",
                                "detail": {"interval": interval},
                            }
                        ),
                        retry_attempts=2,
                    )
                ],
            )
            for interval, expression in scan_schedules.items()
        }
        # Queued runs still in progress past their deadline are failed (service/sweep.py).
        self.sweep_rule = events.Rule(
            self,
            "RunSweep",
            schedule=events.Schedule.expression(SWEEP_SCHEDULE),
            description="tripwire: fail queued runs that made no progress by their deadline",
            targets=[targets.LambdaFunction(functions.functions["sweeper"], retry_attempts=2)],
        )

    def _queue_with_dlq(
        self,
        declared: Queue,
        label: str,
        functions: Functions,
        consumer: str,
        batch_size: int,
        senders: str,
    ) -> tuple[sqs.Queue, sqs.Queue]:
        """The declared queue and its dead-letter queue, consumed by ``consumer`` with
        partial batch failures; the functions whose access has ``senders`` get its URL."""
        function = functions.functions[consumer]
        fifo = declared.fifo or None  # unset for a standard queue
        dlq = sqs.Queue(
            self,
            f"{label}DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            fifo=fifo,
        )
        assert dlq.node.default_child is not None
        Validations.of(dlq.node.default_child).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SQS3",
                reason=f"This is the dead-letter queue of the {declared.name} queue; a DLQ of "
                "a DLQ would only move the same failed messages further from the alarm "
                "watching them.",
            )
        )
        assert function.timeout is not None
        queue = sqs.Queue(
            self,
            f"{label}Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(
                declared.visibility_seconds(function.timeout.to_seconds())
            ),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=dlq, max_receive_count=declared.max_receives
            ),
            fifo=fifo,
        )
        function.add_event_source(
            sources.SqsEventSource(queue, batch_size=batch_size, report_batch_item_failures=True)
        )
        for name, access in FUNCTIONS.items():
            if getattr(access, senders):
                queue.grant_send_messages(functions.roles[name])
                functions.functions[name].add_environment(declared.url_env, queue.queue_url)
        return queue, dlq


class Notifications(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Functions,
        alert_email: str,
        dashboard_url: str,
        sms_subscriptions: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        # A customer key (not aws/sns) so CloudWatch alarms may publish to topics under it.
        self.key = kms.Key(
            self,
            "TopicKey",
            enable_key_rotation=True,
            description="tripwire: SNS topics (alerts, operations)",
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.key.grant_encrypt_decrypt(iam.ServicePrincipal("cloudwatch.amazonaws.com"))
        self.topic = sns.Topic(
            self, "AlertsTopic", master_key=self.key, enforce_ssl=True, display_name="Tripwire"
        )
        for name, access in FUNCTIONS.items():
            if access.publish_alerts:
                self.topic.grant_publish(functions.roles[name])
                functions.functions[name].add_environment(TOPIC_ENV, self.topic.topic_arn)
            if access.manage_sms:
                functions.roles[name].add_to_principal_policy(
                    iam.PolicyStatement(actions=list(SMS_ACTIONS), resources=[self.topic.topic_arn])
                )
                functions.functions[name].add_environment(TOPIC_ENV, self.topic.topic_arn)
        # Links in Slack and e-mail open the alert in the dashboard.
        functions.functions["scan_worker"].add_environment(LINK_ENV, dashboard_url)

        notifier = functions.functions["notifier"]
        self.topic.add_subscription(subscriptions.LambdaSubscription(notifier))
        # SNS invokes the notifier asynchronously: Lambda retries a failed Slack post twice,
        # then parks the event here (alarmed) instead of dropping it.
        self.notifier_failures = sqs.Queue(
            self,
            "NotifierFailures",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        assert self.notifier_failures.node.default_child is not None
        Validations.of(self.notifier_failures.node.default_child).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SQS3",
                reason="This queue is itself the notifier's on-failure destination (a dead "
                "letter store); nothing consumes it, so it needs no DLQ of its own.",
            )
        )
        notifier.configure_async_invoke(
            on_failure=destinations.SqsDestination(self.notifier_failures), retry_attempts=2
        )
        if alert_email:
            self.topic.add_subscription(
                subscriptions.EmailSubscription(
                    alert_email,
                    filter_policy={
                        name: sns.SubscriptionFilter.string_filter(allowlist=allowed)
                        for name, allowed in EMAIL_FILTER.items()
                    },
                )
            )
            # The publishers record the e-mail delivery of the groups the filter lets through.
            for name, access in FUNCTIONS.items():
                if access.publish_alerts:
                    functions.functions[name].add_environment(EMAIL_ENV, "1")
        # Created with an empty webhook; the operator sets the real URL (README, Deploy).
        self.slack_secret = secretsmanager.Secret(
            self,
            "SlackWebhook",
            description='tripwire: Slack incoming-webhook URL, as {"webhook_url": "..."}',
            secret_string_value=SecretValue.unsafe_plain_text('{"webhook_url": ""}'),
        )
        assert self.slack_secret.node.default_child is not None
        Validations.of(self.slack_secret.node.default_child).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SMG4",
                reason="A Slack incoming-webhook URL cannot be rotated by a Lambda: Slack issues "
                "it in its own console, so the operator replaces it by hand when needed.",
            )
        )
        self.slack_secret.grant_read(functions.roles["notifier"])
        notifier.add_environment(SECRET_ENV, self.slack_secret.secret_arn)
        # The LINE Messaging API's channel access token (long-lived, issued in the LINE
        # Developers console): empty until the operator sets it; a profile without a LINE
        # recipient never reads it.
        self.line_secret = secretsmanager.Secret(
            self,
            "LineChannelToken",
            description='tripwire: LINE channel access token, as {"channel_access_token": "..."}',
            secret_string_value=SecretValue.unsafe_plain_text('{"channel_access_token": ""}'),
        )
        assert self.line_secret.node.default_child is not None
        Validations.of(self.line_secret.node.default_child).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SMG4",
                reason="A long-lived LINE channel access token is issued in the LINE Developers "
                "console; the operator reissues and replaces it by hand.",
            )
        )
        for name, access in FUNCTIONS.items():
            if access.read_line_secret:
                self.line_secret.grant_read(functions.roles[name])
                functions.functions[name].add_environment(
                    LINE_SECRET_ENV, self.line_secret.secret_arn
                )
        # SMS numbers fixed at deploy time (context tripwire:smsSubscriptions, number → the
        # "tenant/profile" pairs it serves): the same filter policy the API gives the numbers
        # it subscribes — the profile's routes (critical), the enterprise plan, the rate limit.
        for number, profiles in (sms_subscriptions or {}).items():
            routes = set()
            for pair in profiles:
                tenant, profile = pair.split("/", 1)
                routes.add(sms_route(tenant, profile, Severity.CRITICAL))
            self.topic.add_subscription(
                subscriptions.SmsSubscription(
                    number,
                    filter_policy={
                        name: sns.SubscriptionFilter.string_filter(allowlist=values)
                        for name, values in sms_filter_policy(routes).items()
                    },
                )
            )

        self.digest_rule = events.Rule(
            self,
            "DigestSchedule",
            schedule=events.Schedule.expression(DIGEST_SCHEDULE),
            description="tripwire: yesterday's digest per profile",
            targets=[targets.LambdaFunction(functions.functions["digest"])],
        )
        # The weekly digest: the same function, told by the event's detail (its time kept,
        # so the week is the one before the rule fired).
        weekly = events.RuleTargetInput.from_object(
            {
                "source": "aws.events",
                "detail-type": "Scheduled Event",
                "time": events.EventField.time,
                "detail": {"digest": WEEKLY},
            }
        )
        self.weekly_digest_rule = events.Rule(
            self,
            "WeeklyDigestSchedule",
            schedule=events.Schedule.expression(WEEKLY_DIGEST_SCHEDULE),
            description="tripwire: last week's digest per profile",
            targets=[targets.LambdaFunction(functions.functions["digest"], event=weekly)],
        )


class Archival(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        archiver: lambda_.Function,
        alerts_table: dynamodb.ITableV2,
    ) -> None:
        super().__init__(scope, construct_id)
        # Only TTL expiries: the service principal's REMOVE, never a user's delete.
        self.filter = lambda_.FilterCriteria.filter(
            {
                "eventName": lambda_.FilterRule.is_equal("REMOVE"),
                "userIdentity": {
                    "type": ["Service"],
                    "principalId": ["dynamodb.amazonaws.com"],
                },
            }
        )
        archiver.add_event_source(
            sources.DynamoEventSource(
                alerts_table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=100,
                retry_attempts=10,
                bisect_batch_on_error=True,
                report_batch_item_failures=True,
                filters=[self.filter],
            )
        )
