"""Step Functions (on the weekly-default training schedule) → the training runs due now;
the state machine's Map runs one training job per run (``service/training_runs.py``)."""

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tripwire.service.training_runs import plan_trainings
from tripwire.telemetry import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    as_of = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00")).date()
    jobs = plan_trainings(as_of)
    logger.info("trainings planned", extra={"as_of": as_of.isoformat(), "jobs": len(jobs)})
    return {"jobs": [job.to_dict() for job in jobs]}
