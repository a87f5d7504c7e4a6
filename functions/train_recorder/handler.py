"""Step Functions (a training job's Catch) → its run ends failed with the job's error
(``service/training_runs.py``)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tripwire.service.training_runs import record_failure
from tripwire.telemetry import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    run = record_failure(event["job"], event["error"])
    status = run.status.value if run else "unknown"
    logger.warning("training failed", extra={"run_id": event["job"]["run_id"], "status": status})
    return {"run_id": event["job"]["run_id"], "status": status}
