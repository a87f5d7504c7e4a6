"""Logs, metrics and traces: one Powertools Logger, Metrics (CloudWatch EMF) and Tracer for
every function. A handler flushes the metrics (``@metrics.log_metrics``) and opens the trace
(``@tracer.capture_lambda_handler``); the use cases below it count what happened.

Locally (the local stack, tests) the environment turns EMF output and X-Ray off
(``LOCAL_ENVIRONMENT``); a test that checks the metrics turns them back on.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

SERVICE = "tripwire"
NAMESPACE = "Tripwire"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)

# What the local stack's in-process functions run with: no EMF on stdout, no X-Ray daemon.
LOCAL_ENVIRONMENT = {"POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_TRACE_DISABLED": "true"}

# Metric names, declared once: the CloudWatch dashboard graphs these.
SLICES_SCANNED = "SlicesScanned"
ENTITIES_SCORED = "EntitiesScored"
ALERTS_RAISED = "AlertsRaised"  # per severity
SCAN_FAILURES = "ScanFailures"  # slices that failed for good (logged with run and slice)
NOTIFICATIONS_SENT = "NotificationsSent"  # per channel
NOTIFICATION_FAILURES = "NotificationFailures"  # per channel
FILES_IMPORTED = "FilesImported"  # landing bucket drops imported (service/landing.py)
FILES_REFUSED = "FilesRefused"  # … refused with a report saying why
RUNS_SWEPT = "RunsSwept"  # queued runs failed for making no progress by their deadline
PROFILES_DELETED = "ProfilesDeleted"  # DELETE /profiles/{id} (service/profiles.py)
CONNECTIONS_LOST = "ConnectionsLost"  # Amazon Ads connections disconnected (service/ads_sync.py)
SYNC_FAILURES = "SyncFailures"  # Amazon Ads syncs refused, or failed for good (to the DLQ)
STREAM_RECORDS = "StreamRecords"  # Marketing Stream records received (service/ads_stream.py)
STREAM_DUPLICATES = "StreamDuplicates"  # … already seen (redeliveries): nothing changed
STREAM_DROPPED = "StreamRecordsDropped"  # … unreadable or unrouted, consumed with a log line
SEVERITIES = ("low", "medium", "high", "critical")
CHANNELS = ("sns", "slack", "line", "sms", "email")


def count(name: str, value: float = 1.0) -> None:
    """Add to a metric flushed with the handler's other metrics."""
    if value:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def count_by(name: str, dimension: str, values: dict[str, int]) -> None:
    """One metric per value of a dimension (alerts per severity, deliveries per channel):
    each is its own EMF document, since a dimension applies to a whole document."""
    if is_metrics_disabled():  # single_metric prints at once, whatever the environment
        return
    for key, value in values.items():
        if not value:
            continue
        with single_metric(
            name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE
        ) as metric:
            metric.add_dimension(name="service", value=SERVICE)
            metric.add_dimension(name=dimension, value=key)
