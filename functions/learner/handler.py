"""Learn queue → the profile's half-space trees learn a finished scan's settled periods.

FIFO, one message group per tenant and profile: one learner at a time per profile, in
order. Powertools' FIFO processor reports partial failures and, on a failure, fails only
the later messages of the same group (they retry in order; after the queue's
maxReceiveCount a message lands in the DLQ). Layers: base + river (no onnxruntime).
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from tripwire.service.learn import handle_record
from tripwire.telemetry import logger, metrics, tracer

processor = SqsFifoPartialProcessor(skip_group_on_error=True)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
