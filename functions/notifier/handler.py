"""SNS alerts topic → Slack incoming webhook (Block Kit) and LINE push, each recorded.

A failed delivery raises: Lambda retries the asynchronous SNS invocation (twice, then the
function's on-failure destination queue keeps it), and a retry skips channels already sent.
"""

from typing import Any

from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from tripwire.notify.notifier import deliver
from tripwire.telemetry import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=SNSEvent)
def handler(event: SNSEvent, context: LambdaContext) -> dict[str, Any]:
    outcomes = [deliver(record.sns.message) for record in event.records]
    return {"posted": len(outcomes), "channels": outcomes}
