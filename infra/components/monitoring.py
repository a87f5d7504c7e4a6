"""Alarms (errors, throttles, DLQ depths, scan age, swept runs) to an operations topic, and a
dashboard."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from tripwire import telemetry

# A slice waiting longer than this means the worker is down, throttled or far behind.
SCAN_AGE_LIMIT = Duration.minutes(30)
_PERIOD = Duration.minutes(5)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: dict[str, lambda_.Function],
        queue: sqs.IQueue,
        dlq: sqs.IQueue,
        learn_queue: sqs.IQueue,
        learn_dlq: sqs.IQueue,
        notifier_failures: sqs.IQueue,
        key: kms.IKey,
        alert_email: str,
        landing_dlq: sqs.IQueue | None = None,
        stream_dlq: sqs.IQueue | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "OperationsTopic", master_key=key, enforce_ssl=True)
        if alert_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alert_email))
        notify = actions.SnsAction(self.topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        for name, function in functions.items():
            self._alarm(f"{name}-errors", function.metric_errors(period=_PERIOD), notify)
            self._alarm(f"{name}-throttles", function.metric_throttles(period=_PERIOD), notify)
        self._alarm(
            "scan-dlq-depth",
            dlq.metric_approximate_number_of_messages_visible(period=_PERIOD, statistic="Maximum"),
            notify,
            description="Scan slices failed every retry and wait in the DLQ",
        )
        self._alarm(
            "learn-dlq-depth",
            learn_dlq.metric_approximate_number_of_messages_visible(
                period=_PERIOD, statistic="Maximum"
            ),
            notify,
            description="Learn messages failed every retry: the half-space trees stopped learning",
        )
        for name, dead, why in (
            ("landing", landing_dlq, "Dropped files whose import failed every retry (no report)"),
            ("stream", stream_dlq, "Marketing Stream records whose ingest failed every retry"),
        ):
            if dead is not None:
                self._alarm(
                    f"{name}-dlq-depth",
                    dead.metric_approximate_number_of_messages_visible(
                        period=_PERIOD, statistic="Maximum"
                    ),
                    notify,
                    description=why,
                )
        self._alarm(
            "notifier-failures",
            notifier_failures.metric_approximate_number_of_messages_visible(
                period=_PERIOD, statistic="Maximum"
            ),
            notify,
            description="Alert messages Slack never received (after the notifier's retries)",
        )
        self._alarm(
            "scan-age",
            queue.metric_approximate_age_of_oldest_message(period=_PERIOD, statistic="Maximum"),
            notify,
            threshold=SCAN_AGE_LIMIT.to_seconds(),
            description="The oldest scan slice has waited too long: the worker is behind",
        )
        self._alarm(
            "runs-swept",
            cloudwatch.Metric(  # no label: a labelled metric becomes a metric-math alarm
                namespace=telemetry.NAMESPACE,
                metric_name=telemetry.RUNS_SWEPT,
                dimensions_map={"service": telemetry.SERVICE},
                statistic="Sum",
                period=_PERIOD,
            ),
            notify,
            description="Queued runs made no progress by their deadline and were failed (the "
            "sweeper's log names each run)",
        )
        self.dashboard = self._dashboard(functions, (queue, dlq), (learn_queue, learn_dlq))

    def _alarm(
        self,
        name: str,
        metric: cloudwatch.Metric,
        notify: actions.SnsAction,
        *,
        threshold: float = 0,
        description: str = "",
    ) -> None:
        alarm = metric.create_alarm(
            self,
            "".join(part.capitalize() for part in name.replace("_", "-").split("-")) + "Alarm",
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description or f"tripwire {name} above {threshold}",
        )
        alarm.add_alarm_action(notify)
        self.alarms[name] = alarm

    def _dashboard(
        self,
        functions: dict[str, lambda_.Function],
        scan: tuple[sqs.IQueue, sqs.IQueue],
        learn: tuple[sqs.IQueue, sqs.IQueue],
    ) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name="Tripwire")
        fns = list(functions.values())
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Invocations", left=[f.metric_invocations() for f in fns], width=12
            ),
            cloudwatch.GraphWidget(title="Errors", left=[f.metric_errors() for f in fns], width=12),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Duration p95",
                left=[f.metric_duration(statistic="p95") for f in fns],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Throttles", left=[f.metric_throttles() for f in fns], width=12
            ),
        )
        dashboard.add_widgets(
            _queue_widget("Scan queue", *scan),
            _queue_widget("Learn queue (half-space trees)", *learn),
        )
        # What the functions count (tripwire.telemetry, Powertools EMF).
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Scans: slices, entities scored, failures, runs swept",
                left=[
                    _count(telemetry.SLICES_SCANNED),
                    _count(telemetry.SCAN_FAILURES),
                    _count(telemetry.RUNS_SWEPT),
                ],
                right=[_count(telemetry.ENTITIES_SCORED)],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Alerts raised by severity",
                left=[_count(telemetry.ALERTS_RAISED, severity=s) for s in telemetry.SEVERITIES],
                width=12,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Notifications by channel: sent (left), failed (right)",
                left=[_count(telemetry.NOTIFICATIONS_SENT, channel=c) for c in telemetry.CHANNELS],
                right=[
                    _count(telemetry.NOTIFICATION_FAILURES, channel=c) for c in telemetry.CHANNELS
                ],
                width=24,
            ),
        )
        return dashboard


def _count(name: str, **dimensions: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=telemetry.NAMESPACE,
        metric_name=name,
        dimensions_map={"service": telemetry.SERVICE, **dimensions},
        statistic="Sum",
        period=_PERIOD,
        label=" ".join([name, *dimensions.values()]),
    )


def _queue_widget(title: str, queue: sqs.IQueue, dlq: sqs.IQueue) -> cloudwatch.GraphWidget:
    """Messages waiting and failed (left), the oldest one's age (right)."""
    return cloudwatch.GraphWidget(
        title=title,
        left=[
            queue.metric_approximate_number_of_messages_visible(),
            dlq.metric_approximate_number_of_messages_visible(),
        ],
        right=[queue.metric_approximate_age_of_oldest_message()],
        width=12,
    )
