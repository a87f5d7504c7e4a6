"""The training job in the template: its schedule, the state machine fanning out over
SageMaker training jobs, the job's definition and the roles (least privilege)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

from infra.components.permissions import TRAINING_JOB
from infra.components.training import (
    DEFAULT_TRAINING_SCHEDULE,
    DLC_REPOSITORY,
    ENTRY,
    INSTANCE_TYPE,
    MAX_CONCURRENT_JOBS,
    code_archive,
)

from tests.infra.conftest import Synth
from tests.infra.test_app_stack import _as_list, _id, _of_type
from tripwire.service.training_runs import STATE_MACHINE_ENV
from tripwire.store.tables import TABLES


def _definition(synth: Synth) -> dict[str, Any]:
    """The state machine's ASL with every CloudFormation token replaced by a marker."""
    machine = synth.resources[_id(synth, synth.stack.training.state_machine)]
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "TOKEN" for p in parts)
    definition: dict[str, Any] = json.loads(text)
    return definition


def _policy_statements(synth: Synth, role: Any) -> list[dict[str, Any]]:
    ref = {"Ref": _id(synth, role)}
    return [
        s
        for p in _of_type(synth, "AWS::IAM::Policy").values()
        if ref in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_a_daily_rule_starts_the_state_machine(synth: Synth) -> None:
    machine = _id(synth, synth.stack.training.state_machine)
    rules = [
        r["Properties"]
        for r in _of_type(synth, "AWS::Events::Rule").values()
        if r["Properties"]["Targets"][0]["Arn"] == {"Ref": machine}
    ]
    assert [r["ScheduleExpression"] for r in rules] == [DEFAULT_TRAINING_SCHEDULE]
    # the whole event goes in: the scheduler reads its time
    assert (
        "Input" not in rules[0]["Targets"][0] and "InputTransformer" not in rules[0]["Targets"][0]
    )


def test_requested_jobs_skip_the_planner_and_every_job_runs_in_a_map(synth: Synth) -> None:
    definition = _definition(synth)
    start = definition["States"][definition["StartAt"]]
    assert start["Type"] == "Choice"
    assert start["Choices"][0]["Variable"] == "$.jobs" and start["Choices"][0]["IsPresent"]
    plan = definition["States"][start["Default"]]
    assert plan["Type"] == "Task" and plan["Next"] == start["Choices"][0]["Next"]
    fan_out = definition["States"][start["Choices"][0]["Next"]]
    assert fan_out["Type"] == "Map" and fan_out["ItemsPath"] == "$.jobs"
    assert fan_out["MaxConcurrency"] == MAX_CONCURRENT_JOBS
    processor = fan_out["ItemProcessor"]
    job = processor["States"][processor["StartAt"]]
    assert job["Resource"].endswith(":sagemaker:createTrainingJob.sync")
    # a failed job ends its run failed, with the error, and the other items go on
    (catch,) = job["Catch"]
    assert catch["ErrorEquals"] == ["States.ALL"] and catch["ResultPath"] == "$.error"
    recorder = processor["States"][catch["Next"]]
    assert recorder["Parameters"]["error.$"] == "$.error"
    assert recorder["Parameters"]["job"]["run_id.$"] == "$.run_id"


def test_the_job_runs_the_tripwire_code_on_the_managed_pytorch_image(synth: Synth) -> None:
    definition = _definition(synth)
    fan_out = next(s for s in definition["States"].values() if s["Type"] == "Map")
    job = fan_out["ItemProcessor"]["States"][fan_out["ItemProcessor"]["StartAt"]]
    params = job["Parameters"]
    assert DLC_REPOSITORY in json.dumps(
        synth.resources[_id(synth, synth.stack.training.state_machine)]
    )
    assert params["AlgorithmSpecification"]["TrainingInputMode"] == "File"
    assert params["ResourceConfig"]["InstanceType"] == INSTANCE_TYPE
    assert params["ResourceConfig"]["InstanceCount"] == 1
    assert params["StoppingCondition"]["MaxRuntimeInSeconds"] == 2 * 3600
    hyper = params["HyperParameters"]
    assert hyper["sagemaker_program"] == json.dumps(ENTRY)
    assert {hyper[f"{k}.$"] for k in ("tenant_id", "profile_id", "run_id", "end")} == {
        "$.tenant_id",
        "$.profile_id",
        "$.run_id",
        "$.end",
    }
    wanted = {t.table.env_var for t in TRAINING_JOB.tables} | {"TRIPWIRE_BUCKET_MODELS"}
    assert wanted <= set(params["Environment"])
    others = {t.env_var for t in TABLES} - wanted
    assert not others & set(params["Environment"])


def test_the_job_role_reaches_only_its_tables_and_the_models(synth: Synth) -> None:
    role = synth.resources[_id(synth, synth.stack.training.job_role)]
    principal = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    assert principal == {"Service": "sagemaker.amazonaws.com"}
    statements = _policy_statements(synth, synth.stack.training.job_role)
    by_id = {_id(synth, synth.stack.storage.tables[t.logical]): t.logical for t in TABLES}
    grants: dict[str, set[str]] = {}
    for s in statements:
        for action in _as_list(s["Action"]):
            for logical_id, table in by_id.items():
                if action.startswith("dynamodb:") and logical_id in json.dumps(s["Resource"]):
                    grants.setdefault(table, set()).add(action)
    assert grants == {t.table.logical: set(t.actions()) for t in TRAINING_JOB.tables}
    assert "dynamodb:PutItem" not in grants["metrics"]  # it reads the metrics, never writes
    models = _id(synth, synth.stack.storage.buckets["models"])
    on_models = {
        a
        for s in statements
        if models in json.dumps(s["Resource"]) and "_training-output" not in json.dumps(s)
        for a in _as_list(s["Action"])
    }
    assert on_models == {"s3:GetObject", "s3:PutObject", "s3:ListBucket"}


def test_only_the_runs_function_starts_trainings(synth: Synth) -> None:
    machine = _id(synth, synth.stack.training.state_machine)
    functions = synth.stack.functions
    starters = {
        name
        for name, role in functions.roles.items()
        for s in _policy_statements(synth, role)
        if "states:StartExecution" in _as_list(s["Action"])
    }
    assert starters == {"runs"}
    env = synth.resources[_id(synth, functions.functions["runs"])]["Properties"]
    assert env["Environment"]["Variables"][STATE_MACHINE_ENV] == {"Ref": machine}


def test_the_state_machine_is_traced_and_logged(synth: Synth) -> None:
    machine = synth.resources[_id(synth, synth.stack.training.state_machine)]["Properties"]
    assert machine["TracingConfiguration"] == {"Enabled": True}
    assert machine["LoggingConfiguration"]["Level"] == "ALL"


def test_the_code_archive_is_the_package_the_entry_and_its_requirements(tmp_path: Path) -> None:
    first = code_archive(tmp_path)
    data = first.read_bytes()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = set(tar.getnames())
        entry = tar.extractfile(ENTRY)
        assert entry is not None and b"train_job import main" in entry.read()
    assert {
        "tripwire/service/train_job.py",
        "tripwire/service/train.py",
        "requirements.txt",
    } <= names
    assert not any("__pycache__" in n for n in names)
    again = tmp_path / "again"
    again.mkdir()
    assert code_archive(again).read_bytes() == data  # same code, same asset hash
