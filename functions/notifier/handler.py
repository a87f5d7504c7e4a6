"""SNS alerts topic → Slack incoming webhook (Block Kit); the URL from Secrets Manager.

A failed post raises: Lambda retries the asynchronous SNS invocation (twice, then the
function's on-failure destination), so a Slack outage does not drop the message.
"""

from typing import Any

from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from tripwire.notify.notifier import post_to_slack
from tripwire.telemetry import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=SNSEvent)
def handler(event: SNSEvent, context: LambdaContext) -> dict[str, Any]:
    posted = [post_to_slack(record.sns.message) for record in event.records]
    logger.info("posted to Slack", extra={"messages": posted})  # kinds only, never the URL
    return {"posted": len(posted)}
