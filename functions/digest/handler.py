"""EventBridge (daily) → one digest per profile for yesterday (UTC) on the alerts topic.

``detail.day`` (an ISO date) in a hand-sent event digests that day instead; profiles with
nothing to report that day are skipped.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tripwire.notify.digest import day_to_digest, send_digests
from tripwire.telemetry import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    day = day_to_digest(event)
    sent = send_digests(day)
    logger.info("digests published", extra={"day": day.isoformat(), "profiles": len(sent)})
    return {"day": day.isoformat(), "profiles": len(sent)}
