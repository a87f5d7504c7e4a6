"""Stream queue → Amazon Marketing Stream records (sp-traffic, sp-conversion) merged into
hourly keyword points (service/ads_stream.py).

A batch is handled whole: records are idempotent by their ``idempotency_id``, so when an
AWS error fails the invocation, the retried batch (after the queue's maxReceiveCount, the
DLQ) changes only what the first attempt did not. An unreadable record is counted and
consumed: retrying it cannot help.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tripwire.service.ads_stream import ingest_messages
from tripwire.telemetry import (
    STREAM_DROPPED,
    STREAM_DUPLICATES,
    STREAM_RECORDS,
    logger,
    metrics,
    tracer,
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = ingest_messages(record["body"] for record in event.get("Records", []))
    metrics.add_metric(STREAM_RECORDS, MetricUnit.Count, report.records)
    metrics.add_metric(STREAM_DUPLICATES, MetricUnit.Count, report.duplicates)
    metrics.add_metric(STREAM_DROPPED, MetricUnit.Count, len(report.refused))
    return {"batchItemFailures": []}
