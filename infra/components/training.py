"""Training in the cloud: a schedule, a Step Functions Map over SageMaker training jobs.

Why not Lambda: training imports torch and scikit-learn. Their wheels unpacked
(``bench/train.py`` measures them) are several times Lambda's 250 MB function-plus-layers
limit, and a 10k-keyword profile trains for longer than a function would want to hold a
vCPU. A SageMaker training job on AWS's managed PyTorch framework image (torch, numpy,
scikit-learn installed) runs the same ``tripwire`` code as the local stack's stand-in: the
code goes up as an S3 asset (a tar.gz written at synth time, no Docker), the framework's
script mode installs the few pure runtime requirements and calls ``train_entry.py``.

- EventBridge, daily (``tripwire:trainingSchedule``) → the state machine with the event;
  the first state sees no ``jobs`` → ``train_scheduler`` plans the runs due (weekly by
  default, ``PUT /profiles/{id}/training`` per profile; a profile never trained, the first
  day it has enough history) → Map (at most ``MAX_CONCURRENT_JOBS`` at a time) → one
  training job per run, ``.sync``.
- ``POST /profiles/{id}/train`` (the runs function) starts an execution with its one
  job: the Map runs it alike.
- A job that fails is caught per item: ``train_recorder`` ends its run failed with the
  job's FailureReason; the other items go on.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import tempfile
from pathlib import Path

from aws_cdk import (
    Acknowledgment,
    ArnFormat,
    CfnResource,
    Duration,
    RemovalPolicy,
    Size,
    Stack,
    Validations,
)
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as assets
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct, IConstruct

from infra.components.functions import Functions
from infra.components.permissions import FUNCTIONS, TRAINING_JOB
from infra.components.storage import Storage
from tripwire import telemetry
from tripwire.service.training_runs import STATE_MACHINE_ENV

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TRAINING_SCHEDULE = "cron(0 3 * * ? *)"  # 03:00 UTC daily; each profile when due
# AWS Deep Learning Containers: PyTorch training, CPU, Python 3.12 (account 763104351884
# serves most regions; ``tripwire:trainingImage`` overrides the whole URI).
DLC_ACCOUNT = "763104351884"
DLC_REPOSITORY = "pytorch-training"
DLC_TAG = "2.6.0-cpu-py312-ubuntu22.04-sagemaker"
INSTANCE_TYPE = "ml.m5.large"  # 2 vCPU, 8 GiB: bench/train.py's 10k-keyword peak fits
VOLUME_GB = 10
MAX_RUNTIME = Duration.hours(2)
MAX_CONCURRENT_JOBS = 4  # default SageMaker quota for ml.m5.large training is small
ENTRY = "train_entry.py"
SAGEMAKER_NAMESPACE = "/aws/sagemaker/TrainingJobs"
OUTPUT_PREFIX = "_training-output/"  # SageMaker's own output (empty: models go to the registry)
# What the framework image lacks (it has torch, numpy, scipy, scikit-learn, boto3).
REQUIREMENTS = (
    "pydantic>=2.7",
    "aws-lambda-powertools>=3",
    "onnx>=1.16",
    "onnxruntime>=1.18",
    "river>=0.21",
    "networkx>=3",
)
_ENTRY_CODE = b'''"""SageMaker script mode entry: the training job (service/train_job.py)."""
import sys

from tripwire.service.train_job import main

sys.exit(main())
'''


def code_archive(directory: Path) -> Path:
    """The training code as script mode wants it (``sagemaker_submit_directory``): a
    tar.gz of the ``tripwire`` package, the entry script and requirements.txt. Written
    byte for byte the same from the same sources (sorted, zero times), so the asset's
    hash changes only with the code."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        package = ROOT / "shared" / "tripwire"
        files = sorted(
            p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts
        )
        members = [(p.relative_to(package.parent).as_posix(), p.read_bytes()) for p in files]
        members += [(ENTRY, _ENTRY_CODE), ("requirements.txt", "\n".join(REQUIREMENTS).encode())]
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    path = directory / "training-code.tar.gz"
    with path.open("wb") as out, gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as zipped:
        zipped.write(raw.getvalue())
    return path


class Training(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, functions: Functions, schedule: str
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        storage = functions.storage
        self._functions = functions
        self.code = assets.Asset(
            self, "Code", path=str(code_archive(Path(tempfile.mkdtemp(prefix="tripwire-"))))
        )
        image = str(self.node.try_get_context("tripwire:trainingImage") or "") or (
            f"{DLC_ACCOUNT}.dkr.ecr.{stack.region}.{stack.url_suffix}/{DLC_REPOSITORY}:{DLC_TAG}"
        )
        self.job_role = self._job_role(storage)
        # The one code object (grant_read would grant s3:GetObject* on the assets bucket).
        self.job_role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[
                    f"arn:{stack.partition}:s3:::{self.code.s3_bucket_name}/{self.code.s3_object_key}"
                ],
            )
        )
        models = storage.buckets["models"]
        wanted = {grant.table.env_var for grant in TRAINING_JOB.tables}
        environment = {
            k: v
            for k, v in storage.environment().items()
            if k in wanted or k == "TRIPWIRE_BUCKET_MODELS"
        }
        environment |= {
            "POWERTOOLS_SERVICE_NAME": telemetry.SERVICE,
            "POWERTOOLS_METRICS_NAMESPACE": telemetry.NAMESPACE,
        }
        job = tasks.SageMakerCreateTrainingJob(
            self,
            "TrainProfile",
            training_job_name=sfn.JsonPath.format(
                "tripwire-{}", sfn.JsonPath.string_at("$.run_id")
            ),
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            role=self.job_role,
            algorithm_specification=tasks.AlgorithmSpecification(
                training_image=tasks.DockerImage.from_registry(image),
                training_input_mode=tasks.InputMode.FILE,
            ),
            hyperparameters={
                # script mode (the values JSON-encoded, as the SageMaker SDK writes them)
                "sagemaker_program": f'"{ENTRY}"',
                "sagemaker_submit_directory": f'"{self.code.s3_object_url}"',
                "sagemaker_region": f'"{stack.region}"',
                # the job (service/train_job.py reads them from SM_HPS)
                "tenant_id": sfn.JsonPath.string_at("$.tenant_id"),
                "profile_id": sfn.JsonPath.string_at("$.profile_id"),
                "run_id": sfn.JsonPath.string_at("$.run_id"),
                "end": sfn.JsonPath.string_at("$.end"),
            },
            environment=environment,
            resource_config=tasks.ResourceConfig(
                instance_count=1,
                instance_type=ec2.InstanceType(INSTANCE_TYPE.removeprefix("ml.")),
                volume_size=Size.gibibytes(VOLUME_GB),
            ),
            stopping_condition=tasks.StoppingCondition(max_runtime=MAX_RUNTIME),
            output_data_config=tasks.OutputDataConfig(
                s3_output_location=tasks.S3Location.from_bucket(models, OUTPUT_PREFIX)
            ),
            result_path=sfn.JsonPath.DISCARD,
        )
        failed = tasks.LambdaInvoke(
            self,
            "RecordFailure",
            lambda_function=functions.functions["train_recorder"],
            payload=sfn.TaskInput.from_object(
                {
                    "job": {
                        "tenant_id": sfn.JsonPath.string_at("$.tenant_id"),
                        "profile_id": sfn.JsonPath.string_at("$.profile_id"),
                        "run_id": sfn.JsonPath.string_at("$.run_id"),
                    },
                    "error": sfn.JsonPath.object_at("$.error"),
                }
            ),
            payload_response_only=True,
            retry_on_service_exceptions=True,
        )
        job.add_catch(failed, result_path="$.error")
        fan_out = sfn.Map(
            self,
            "EachProfile",
            items_path="$.jobs",
            max_concurrency=MAX_CONCURRENT_JOBS,
            result_path=sfn.JsonPath.DISCARD,
        )
        fan_out.item_processor(job)
        plan = tasks.LambdaInvoke(
            self,
            "PlanTrainings",
            lambda_function=functions.functions["train_scheduler"],
            payload_response_only=True,
            retry_on_service_exceptions=True,
        )
        start = (
            sfn.Choice(self, "RequestedOrScheduled")
            .when(sfn.Condition.is_present("$.jobs"), fan_out)
            .otherwise(plan.next(fan_out))
        )
        log_group = logs.LogGroup(
            self,
            "StateMachineLogs",
            retention=logs.RetentionDays.THREE_MONTHS,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(start),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL),
            timeout=Duration.hours(12),
        )
        self.rule = events.Rule(
            self,
            "Schedule",
            description="tripwire: train the profiles whose retraining is due",
            schedule=events.Schedule.expression(schedule),
            targets=[targets.SfnStateMachine(self.state_machine, retry_attempts=2)],
        )
        for name, access in FUNCTIONS.items():
            if access.start_training:
                function = functions.functions[name]
                function.add_environment(STATE_MACHINE_ENV, self.state_machine.state_machine_arn)
                self.state_machine.grant_start_execution(functions.roles[name])
        self._acknowledge()

    def _job_role(self, storage: Storage) -> iam.Role:
        """What the training job may touch: TRAINING_JOB's tables and the models bucket,
        its own log streams and metrics, the framework image."""
        stack = Stack.of(self)
        role = iam.Role(
            self,
            "JobRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="tripwire training job: only what permissions.TRAINING_JOB grants it",
        )
        for grant in TRAINING_JOB.tables:
            table = storage.tables[grant.table.logical]
            role.add_to_policy(
                iam.PolicyStatement(actions=grant.actions(), resources=[table.table_arn])
            )
        models = storage.buckets["models"]
        # ListBucket: a missing MODELSET.json is then a 404 (untrained), not a 403.
        role.add_to_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[models.bucket_arn])
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject"], resources=[models.arn_for_objects("*")]
            )
        )
        log_arn = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws/sagemaker/TrainingJobs:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={
                    "StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/TrainingJobs"}
                },
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"])
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                resources=[
                    f"arn:{stack.partition}:ecr:{stack.region}:{DLC_ACCOUNT}:repository/"
                    f"{DLC_REPOSITORY}"
                ],
            )
        )
        return role

    def _acknowledge(self) -> None:
        """Each wildcard acknowledged on its own, so any new one still fails the synth."""
        stack = Stack.of(self)

        def arn_of(construct: IConstruct) -> str:
            default = construct.node.default_child
            assert isinstance(default, CfnResource)
            return f"<{stack.resolve(stack.get_logical_id(default))}.Arn>"

        models = arn_of(self._functions.storage.buckets["models"])
        job = {
            f"Resource::{models}/*": "Model artifacts are keyed by tenant, profile and version "
            "hash: the job reads the profile's model in use and writes the new (or candidate) "
            "one, whichever tenant's profile the run names.",
            f"Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:"
            f"{SAGEMAKER_NAMESPACE}:*": "SageMaker names a job's log streams after the job; "
            "the grant is SageMaker's training log group only.",
            "Resource::*": "ecr:GetAuthorizationToken and cloudwatch:PutMetricData have no "
            "resource-level permissions (the latter is limited to SageMaker's namespace).",
            f"Resource::{models}/{OUTPUT_PREFIX}*": "CDK's grant for the job's output "
            "location: SageMaker writes its (empty) output archive under this prefix only.",
            **{
                f"Action::s3:{action}*": "CDK's read-write grant on the training job's output "
                f"location (the {OUTPUT_PREFIX} prefix of the models bucket only)."
                for action in ("GetBucket", "GetObject", "List", "Abort", "DeleteObject")
            },
        }
        policy = self.job_role.node.find_child("DefaultPolicy")
        for finding, reason in job.items():
            Validations.of(policy).acknowledge(
                Acknowledgment(id=f"AwsSolutions-IAM5[{finding}]", reason=reason)
            )
        functions = self._functions.functions
        machine = {
            f"Resource::{arn_of(functions[name])}:*": "CDK's invoke grant covers the "
            "function's versions and aliases (ARN:*) of this one function."
            for name in ("train_scheduler", "train_recorder")
        }
        machine[
            "Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:training-job/*"
        ] = (
            "The .sync integration creates, describes and stops training jobs named per run "
            "(tw-<run id>): names are not known at deploy time."
        )
        machine["Resource::*"] = (
            "X-Ray tracing and CloudWatch Logs delivery (logs:*Delivery*, ListLogDeliveries, "
            "DescribeResourcePolicies) have no resource-level permissions."
        )
        role = self.state_machine.role.node.find_child("DefaultPolicy")
        for finding, reason in machine.items():
            Validations.of(role).acknowledge(
                Acknowledgment(id=f"AwsSolutions-IAM5[{finding}]", reason=reason)
            )
