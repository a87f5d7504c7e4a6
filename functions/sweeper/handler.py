"""EventBridge (every 15 minutes) → queued runs still in progress past their deadline are
failed, with the reason (``service/sweep.py``)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tripwire.service.sweep import sweep_runs
from tripwire.telemetry import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    swept = sweep_runs()
    logger.info("runs swept", extra={"runs": len(swept)})
    return {"swept": [{"tenant_id": r.tenant_id, "run_id": r.run_id} for r in swept]}
