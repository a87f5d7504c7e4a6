"""The training job's entry point: the same call in a SageMaker training container and in
the local stack's stand-in for it.

SageMaker's framework containers hand a job its hyperparameters as JSON in ``SM_HPS``
(each value a string); the state machine passes the Map item (``TrainingJob``) as the
hyperparameters, so a job needs nothing else but the stack's table and bucket names in its
environment. ``options`` (a JSON object, also read from ``TRIPWIRE_TRAINING_OPTIONS``)
overrides ``PipelineConfig`` fields, e.g. ``{"detector_options": {"lstm": {"epochs": 2}}}``.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
from collections.abc import Mapping
from typing import Any

from tripwire.detection.pipeline import PipelineConfig
from tripwire.domain.runs import DetectionRun
from tripwire.service.train import run_training

OPTIONS_ENV = "TRIPWIRE_TRAINING_OPTIONS"


def config_of(options: Mapping[str, Any]) -> PipelineConfig | None:
    if not options:
        return None
    defaults = PipelineConfig().to_dict()
    unknown = set(options) - set(defaults)
    if unknown:
        raise ValueError(f"unknown training options: {sorted(unknown)}")
    return PipelineConfig.from_dict({**defaults, **options})


def run_job(job: Mapping[str, Any]) -> DetectionRun:
    """Train the job's run (``tenant_id``, ``run_id``, ``end``; optional ``options``)."""
    options = job.get("options") or os.environ.get(OPTIONS_ENV) or "{}"
    parsed = json.loads(options) if isinstance(options, str) else dict(options)
    return run_training(
        str(job["tenant_id"]),
        str(job["run_id"]),
        datetime.date.fromisoformat(str(job["end"])),
        config=config_of(parsed),
    )


def main() -> int:
    """SageMaker: the job's hyperparameters from ``SM_HPS``; a failure exits non-zero,
    so the training job (and the Map item) fails too."""
    job = json.loads(os.environ.get("SM_HPS", "{}"))
    run = run_job(job)
    print(json.dumps({"run_id": run.run_id, "status": run.status.value}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
