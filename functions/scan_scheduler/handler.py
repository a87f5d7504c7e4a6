"""EventBridge schedule → one scan run per active profile, its slices on the scan queue;
a connected Amazon Ads profile gets one sync message instead (its scan follows its sync).

The event's ``time`` is the schedule's date: each slice detects up to the latest period
loaded by then. ``detail.interval`` (default ``1d``) picks the profiles scanned.
"""

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from tripwire.domain.metrics import Interval
from tripwire.service.fanout import schedule
from tripwire.telemetry import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    as_of = datetime.fromisoformat(event.time.replace("Z", "+00:00")).date()
    interval = Interval((event.detail or {}).get("interval", "1d"))
    done = schedule(as_of, interval)
    extra = {"as_of": as_of.isoformat(), "runs": len(done.runs), "syncs": len(done.syncs)}
    logger.info("scans scheduled", extra=extra)
    ids = lambda r: {"run_id": r.run_id, "tenant_id": r.tenant_id, "profile_id": r.profile_id}  # noqa: E731
    return {
        "as_of": as_of.isoformat(),
        "runs": [ids(r) for r in done.runs],
        "syncs": [ids(m) for m in done.syncs],  # each run_id: the scan after the sync
    }
