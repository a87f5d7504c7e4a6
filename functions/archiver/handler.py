"""Alerts table stream (TTL removals) → the alert kept forever in the history table.

Powertools batch processing reports partial failures, so one bad record is retried
without holding back the rest of its batch.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tripwire.store.archive import archive_record
from tripwire.telemetry import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    alert = archive_record(record.raw_event)
    if alert is not None:
        logger.info("alert archived", extra={"alert_id": alert.alert_id})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event, record_handler, processor, context)
