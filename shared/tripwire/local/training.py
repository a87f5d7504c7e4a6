"""The training state machine, locally: the same executions, the same job code.

The local stack creates the state machine in moto (so ``POST /profiles/{id}/train``'s
StartExecution call is the deployed one) and this runner stands in for Step Functions and
SageMaker: each new execution is read back from moto and interpreted as the deployed
definition is (``infra/components/training.py``) — no ``jobs`` in its input: the real
``train_scheduler`` handler plans them; each job: ``service.train_job.run_job``, the code a
SageMaker training job runs; a job that raises: the real ``train_recorder`` handler with
the error as Step Functions' Catch passes it. The execution is then stopped in moto, so it
is run once. ``fire_training_schedule`` is the deployed EventBridge rule (daily).
"""

from __future__ import annotations

import datetime
import json
import sys
import threading
import time
import traceback
from typing import Any

from tripwire.local.functions import invoke
from tripwire.local.poller import Invoke, _Background, _Ticker, schedule_event
from tripwire.service.training_runs import STATE_MACHINE_ENV
from tripwire.store.provision import aws_client

SCHEDULER = "train_scheduler"
RECORDER = "train_recorder"
MACHINE_NAME = "training"
TRAIN_EVERY = 86_400.0  # seconds: the deployed rule's daily cron
POLL_SECONDS = 0.5
# The stand-in's placeholder definition (moto stores it; this runner interprets it).
_DEFINITION = {
    "Comment": "tripwire local: run by tripwire.local.training",
    "StartAt": "Train",
    "States": {"Train": {"Type": "Pass", "End": True}},
}


def create_state_machine(prefix: str) -> dict[str, str]:
    """The training state machine in moto; its ARN as the API and the runner read it."""
    arn = aws_client("stepfunctions").create_state_machine(
        name=f"{prefix}-{MACHINE_NAME}",
        definition=json.dumps(_DEFINITION),
        roleArn="arn:aws:iam::123456789012:role/tripwire-local-training",
    )["stateMachineArn"]
    return {STATE_MACHINE_ENV: arn}


def fire_training_schedule(machine_arn: str, as_of: datetime.date | None = None) -> str:
    """One tick of the training rule: an execution with the schedule's event."""
    now = datetime.datetime.now(datetime.UTC)
    at = now if as_of is None else datetime.datetime.combine(as_of, now.time())
    event = schedule_event(at)
    return str(
        aws_client("stepfunctions").start_execution(
            stateMachineArn=machine_arn, name=f"schedule-{event['id']}", input=json.dumps(event)
        )["executionArn"]
    )


class TrainingRunner(_Background):
    """Runs every execution of the training state machine once, on a thread."""

    thread_name = "training"

    def __init__(self, machine_arn: str, *, invoke_function: Invoke = invoke) -> None:
        super().__init__()
        self.machine_arn = machine_arn
        self._invoke = invoke_function
        self._busy = threading.Lock()
        self.jobs_run = 0

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                self.run_pending()
            except Exception:  # printed; the next poll goes on
                traceback.print_exc(file=sys.stderr)

    def pending(self) -> list[str]:
        executions = aws_client("stepfunctions").list_executions(
            stateMachineArn=self.machine_arn, statusFilter="RUNNING"
        )["executions"]
        return [e["executionArn"] for e in executions]

    def run_pending(self) -> int:
        with self._busy:
            arns = self.pending()
            for arn in arns:
                self._execute(arn)
            return len(arns)

    def drain(self, timeout: float = 1800.0) -> None:
        """Wait until every execution started so far has run."""
        deadline = time.monotonic() + timeout
        while self.pending():
            if time.monotonic() > deadline:
                raise TimeoutError("training executions still running")
            time.sleep(POLL_SECONDS)
        with self._busy:  # the last one may still be finishing
            pass

    def _execute(self, arn: str) -> None:
        client = aws_client("stepfunctions")
        state = json.loads(client.describe_execution(executionArn=arn)["input"])
        try:
            jobs = state["jobs"] if "jobs" in state else self._invoke(SCHEDULER, state)["jobs"]
            for job in jobs:
                self._job(job)
        finally:
            client.stop_execution(executionArn=arn)

    def _job(self, job: dict[str, Any]) -> None:
        from tripwire.service.train_job import run_job  # torch and scikit-learn: on demand

        self.jobs_run += 1
        try:
            run_job(job)
        except Exception as error:  # Step Functions' Catch: States.ALL
            print(f"[training] {job['run_id']} failed: {error}", file=sys.stderr)
            failure = {"Error": type(error).__name__, "Cause": str(error)}
            self._invoke(RECORDER, {"job": job, "error": failure})


class TrainingTicker(_Ticker):
    """``tripwire local up``'s training rule: an execution every ``seconds``."""

    thread_name = "training-schedule"

    def __init__(self, machine_arn: str, seconds: float = TRAIN_EVERY) -> None:
        super().__init__(seconds)
        self.machine_arn = machine_arn

    def tick(self) -> None:
        fire_training_schedule(self.machine_arn)
