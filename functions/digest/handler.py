"""EventBridge → digests on the alerts topic: daily (one per profile for yesterday, UTC) or,
from the weekly rule (``detail.digest = "weekly"``), one per profile for the last full week.

``detail.day`` / ``detail.week`` (ISO dates) in a hand-sent event digest that day or week
instead; profiles with nothing to report are skipped.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tripwire.notify.digest import (
    day_to_digest,
    is_weekly,
    send_digests,
    send_weekly_digests,
    week_to_digest,
)
from tripwire.telemetry import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_weekly(event):
        week = week_to_digest(event)
        sent: list[Any] = send_weekly_digests(week)
        logger.info(
            "weekly digests published", extra={"week": week.isoformat(), "profiles": len(sent)}
        )
        return {"week": week.isoformat(), "profiles": len(sent)}
    day = day_to_digest(event)
    sent = send_digests(day)
    logger.info("digests published", extra={"day": day.isoformat(), "profiles": len(sent)})
    return {"day": day.isoformat(), "profiles": len(sent)}
