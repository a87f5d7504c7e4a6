"""Scan queue → detection of one slice per message, alerts written, the run updated.

Powertools batch processing reports partial failures (``ReportBatchItemFailures``): a
failing message is retried alone — after the queue's maxReceiveCount it lands in the DLQ —
while the rest of its batch succeeds.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from tripwire.service.fanout import handle_record
from tripwire.telemetry import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
