"""Landing queue → each file dropped in the landing bucket imported, its report beside it.

The queue carries the bucket's object-created notifications. Powertools batch processing
reports partial failures: a message whose import hit an AWS error is retried alone (after
the queue's maxReceiveCount it lands in the DLQ); a refused file is not a failure — its
report says why.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from tripwire.service.landing import handle_record
from tripwire.telemetry import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
