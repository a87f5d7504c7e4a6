"""One Lambda per folder under functions/, each with its own least-privilege role.

Runtime: python3.12 on **x86_64**. The layers are built on this (x86_64) machine from
manylinux_2_28_x86_64 wheels, so the cold-import figures bench/package.py measures run the
very binaries Lambda loads; arm64 would be ~20% cheaper per GB-second but its wheels could
not be exercised before a deploy. Switching is two constants (here and in layers/build.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import (
    Acknowledgment,
    ArnFormat,
    CfnResource,
    Duration,
    RemovalPolicy,
    Stack,
    Validations,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from layers.build import LAYERS, build_all, layer_dir

from infra.components.permissions import FUNCTIONS, Access
from infra.components.storage import Storage
from tripwire import telemetry
from tripwire.api.routes import ROUTES, WORKERS
from tripwire.ingest import ads_source
from tripwire.ingest.market_source import DEFAULT_URL, URL_ENV
from tripwire.store.connections import SECRET_PREFIX_ENV
from tripwire.store.purge import PROFILE_BUCKETS
from tripwire.store.queues import SCAN
from tripwire.store.tables import LANDING

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = ROOT / "functions"
RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.X86_64
LOG_RETENTION = logs.RetentionDays.THREE_MONTHS


@dataclass(frozen=True)
class Sizing:
    memory_mb: int
    timeout: Duration


# API Gateway waits 30 s at most for an integration; the scan worker gets minutes.
_API = Sizing(512, Duration.seconds(29))
_SIZING: dict[str, Sizing] = {
    "detect": Sizing(1769, Duration.seconds(29)),  # 1769 MB = one full vCPU for scoring
    "verify": Sizing(1769, Duration.seconds(29)),
    "scan_worker": Sizing(1769, Duration.seconds(SCAN.consumer_timeout_seconds)),
    "scan_scheduler": Sizing(512, Duration.minutes(2)),
    "digest": Sizing(512, Duration.minutes(2)),
    "archiver": Sizing(256, Duration.minutes(1)),
    "notifier": Sizing(256, Duration.seconds(30)),
    # One profile's metrics window (~1 item per entity) and ≤1,000 river rows per period.
    "learner": Sizing(1024, Duration.minutes(5)),
    # One dropped report per invocation: a console XLSX of a large account reads for a while.
    "landing": Sizing(1769, Duration.minutes(5)),
}


def function_names() -> list[str]:
    """Every Lambda: the route targets (in ROUTES order) and the workers."""
    return list(dict.fromkeys([route.function for route in ROUTES] + list(WORKERS)))


def sizing(name: str) -> Sizing:
    return _SIZING.get(name, _API)


def layers_of(name: str) -> list[str]:
    """The layers a function gets: only what it imports (see permissions.FUNCTIONS)."""
    access = FUNCTIONS[name]
    if access.numeric and access.river:  # both ship numpy; together they pass 250 MB
        raise ValueError(f"{name}: the numeric and river layers cannot go together")
    chosen = ["base", *(["numeric"] if access.numeric else []), "tripwire"]
    return chosen + (["river"] if access.river else [])


class Functions(Construct):
    """Layers, functions, roles and log groups; grants on storage come from ``FUNCTIONS``.

    ``layer_assets`` is ``"build"`` (the real layers, built by layers/build.py before
    packaging — what ``make synth`` and ``cdk deploy`` use) or ``"recipe"``: each layer's
    asset is its recipe folder, so unit tests synthesise the same template shape in seconds
    without downloading ~230 MB of wheels.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, storage: Storage, layer_assets: str
    ) -> None:
        super().__init__(scope, construct_id)
        missing = set(function_names()) ^ set(FUNCTIONS)
        if missing:
            raise ValueError(f"functions without (or only with) a permissions entry: {missing}")
        self.storage = storage
        # The market data source (Yahoo's chart endpoint); context tripwire:marketDataUrl.
        self.market_url = str(self.node.try_get_context("tripwire:marketDataUrl") or DEFAULT_URL)
        # The Amazon Ads API and Login with Amazon (NA; a connection's region picks its own
        # documented hosts unless these point elsewhere); context tripwire:adsApiUrl and
        # tripwire:adsTokenUrl.
        self.ads_urls = {
            ads_source.URL_ENV: str(
                self.node.try_get_context("tripwire:adsApiUrl") or ads_source.DEFAULT_URL
            ),
            ads_source.TOKEN_URL_ENV: str(
                self.node.try_get_context("tripwire:adsTokenUrl") or ads_source.DEFAULT_TOKEN_URL
            ),
        }
        # Each connection's secret is {prefix}/{tenant}/{profile}: grants name the prefix.
        self.ads_secret_prefix = f"{Stack.of(self).stack_name}/amazon-ads"
        self.layers = self._layers(layer_assets)
        self.roles: dict[str, iam.Role] = {}
        self.functions: dict[str, lambda_.Function] = {}
        for name in function_names():
            self.functions[name] = self._function(name, FUNCTIONS[name])

    def acknowledge_wildcards(self) -> None:
        """Call once every grant is made (the pipeline adds queue, topic and key grants)."""
        for name, function in self.functions.items():
            self._acknowledge(name, function, self.roles[name])

    def _layers(self, mode: str) -> dict[str, lambda_.LayerVersion]:
        if mode == "build":
            paths = build_all()
        elif mode == "recipe":
            paths = {name: layer_dir(name, ROOT / "layers") for name in LAYERS}
            paths["tripwire"] = ROOT / "shared" / "tripwire"
        else:
            raise ValueError(f"tripwire:layerAssets must be 'build' or 'recipe', not {mode!r}")
        # A layer no function uses is not deployed: it would only cost an upload.
        used = {layer for name in function_names() for layer in layers_of(name)}
        return {
            name: lambda_.LayerVersion(
                self,
                f"{name.capitalize()}Layer",
                code=lambda_.Code.from_asset(str(path), exclude=["__pycache__", "*.pyc"]),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[ARCHITECTURE],
                description=f"tripwire {name} (see layers/README.md)",
            )
            for name, path in paths.items()
            if name in used
        }

    def _function(self, name: str, access: Access) -> lambda_.Function:
        construct_id = "".join(part.capitalize() for part in name.split("_"))
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            self,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"tripwire {name}: only what permissions.FUNCTIONS grants it",
        )
        # Instead of AWSLambdaBasicExecutionRole (logs:* on every group): its own group only.
        log_group.grant_write(role)
        for grant in access.tables:
            table = self.storage.tables[grant.table.logical]
            resources = [table.table_arn]
            resources += [f"{table.table_arn}/index/{index}" for index in grant.indexes]
            role.add_to_policy(iam.PolicyStatement(actions=grant.actions(), resources=resources))
        if access.read_models:  # HeadObject is authorised by s3:GetObject too
            models = self.storage.buckets["models"]
            actions = ["s3:GetObject", *(["s3:PutObject"] if access.write_models else [])]
            role.add_to_policy(
                iam.PolicyStatement(actions=actions, resources=[models.arn_for_objects("*")])
            )
        if access.read_landing:
            landing = self.storage.buckets[LANDING.logical]
            actions = ["s3:GetObject", *(["s3:PutObject"] if access.write_reports else [])]
            role.add_to_policy(
                iam.PolicyStatement(actions=["s3:ListBucket"], resources=[landing.bucket_arn])
            )
            role.add_to_policy(
                iam.PolicyStatement(actions=actions, resources=[landing.arn_for_objects("*")])
            )
        if access.purge_profiles:
            self._grant_purge(role)
        if access.ads_secrets is not None:
            actions = ["secretsmanager:GetSecretValue"]
            if access.ads_secrets == "delete":
                actions = ["secretsmanager:DeleteSecret"]
            if access.ads_secrets == "manage":  # TagResource: CreateSecret with tags
                actions = [
                    "secretsmanager:CreateSecret",
                    "secretsmanager:PutSecretValue",
                    "secretsmanager:DeleteSecret",
                    "secretsmanager:TagResource",
                ]
            role.add_to_policy(
                iam.PolicyStatement(actions=actions, resources=[self.ads_secret_arns()])
            )
        size = sizing(name)
        function = lambda_.Function(
            self,
            construct_id,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler="handler.handler",
            code=lambda_.Code.from_asset(
                str(FUNCTIONS_DIR / name), exclude=["__pycache__", "*.pyc"]
            ),
            layers=[self.layers[layer] for layer in layers_of(name)],
            role=role,
            memory_size=size.memory_mb,
            timeout=size.timeout,
            log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                **self._table_environment(access),
                "POWERTOOLS_SERVICE_NAME": telemetry.SERVICE,
                "POWERTOOLS_METRICS_NAMESPACE": telemetry.NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
            description=f"tripwire {name}",
        )
        self.roles[name] = role
        return function

    def _grant_purge(self, role: iam.Role) -> None:
        """Deleting a profile: its objects under ``<tenant>/<profile>/`` in both buckets,
        every version (listing versions needs the bucket); its secret: ``ads_secrets``."""
        for bucket in (self.storage.buckets[b.logical] for b in PROFILE_BUCKETS):
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["s3:ListBucket", "s3:ListBucketVersions"],
                    resources=[bucket.bucket_arn],
                )
            )
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["s3:DeleteObject", "s3:DeleteObjectVersion"],
                    resources=[bucket.arn_for_objects("*")],
                )
            )

    def ads_secret_arns(self) -> str:
        """Every connection secret of this stack (Secrets Manager adds a suffix to names)."""
        return Stack.of(self).format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name=f"{self.ads_secret_prefix}/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )

    def _table_environment(self, access: Access) -> dict[str, str]:
        # Only the names a function may use: a missing variable fails loudly at the call.
        env = self.storage.environment()
        wanted = {grant.table.env_var for grant in access.tables}
        if access.read_models:
            wanted.add("TRIPWIRE_BUCKET_MODELS")
        if access.read_landing:
            wanted.add(LANDING.env_var)
        if access.purge_profiles:
            wanted.update(b.env_var for b in PROFILE_BUCKETS)
        market = {URL_ENV: self.market_url} if access.fetch_market else {}
        ads = {SECRET_PREFIX_ENV: self.ads_secret_prefix} if access.ads_secrets else {}
        if access.ads_secrets == "read":
            ads |= self.ads_urls
        return {key: value for key, value in env.items() if key in wanted} | market | ads

    def _acknowledge(self, name: str, function: lambda_.Function, role: iam.Role) -> None:
        assert function.node.default_child is not None
        Validations.of(function.node.default_child).acknowledge(
            Acknowledgment(
                id="AwsSolutions-L1",
                reason="python3.12 is the runtime the layers' wheels are pinned, built and "
                "import-timed for (layers/build.py); moving to a newer runtime is a deliberate "
                "rebuild of the layers, not a silent default.",
            )
        )
        policy = role.node.find_child("DefaultPolicy")
        access = FUNCTIONS[name]
        # Granular: each acknowledges one wildcard, so any new wildcard still fails the synth.
        reasons = {
            "Resource::*": "X-Ray's PutTraceSegments/PutTelemetryRecords have no resource-level "
            "permissions (and a stream's ListStreams neither); nothing else here is '*'.",
        }
        if access.read_models:
            bucket = self.storage.buckets["models"].node.default_child
            assert isinstance(bucket, CfnResource)
            logical = Stack.of(self).resolve(Stack.of(self).get_logical_id(bucket))
            reasons[f"Resource::<{logical}.Arn>/*"] = (
                "Model artifacts are keyed by tenant, profile and version hash; the function "
                "reads (GetObject) whichever version the registry names"
                + (
                    " and publishes learnt states (PutObject: new content-addressed versions "
                    "and the set pointing at them)."
                    if access.write_models
                    else " (GetObject only)."
                )
            )
        if access.read_landing:
            bucket = self.storage.buckets[LANDING.logical].node.default_child
            assert isinstance(bucket, CfnResource)
            logical = Stack.of(self).resolve(Stack.of(self).get_logical_id(bucket))
            reasons[f"Resource::<{logical}.Arn>/*"] = (
                "Dropped files sit under <tenant>/<profile>/ of the landing bucket, any tenant's: "
                + (
                    "the landing function reads whichever file a notification names and writes "
                    "its report beside it (PutObject)."
                    if access.write_reports
                    else "GET /imports reads the caller's reports under its tenant's prefix only."
                )
            )
        if access.purge_profiles:
            for declared in PROFILE_BUCKETS:
                bucket = self.storage.buckets[declared.logical].node.default_child
                assert isinstance(bucket, CfnResource)
                logical = Stack.of(self).resolve(Stack.of(self).get_logical_id(bucket))
                reasons[f"Resource::<{logical}.Arn>/*"] = (
                    "Deleting a profile deletes every object (every version) under its "
                    "<tenant>/<profile>/ prefix, whichever tenant's: the prefix comes from the "
                    "verified token and the path, so the policy cannot name it in advance."
                )
        if access.ads_secrets is not None:
            arn = Stack.of(self).resolve(self.ads_secret_arns())
            finding = _nag_text(arn)
            reasons[f"Resource::{finding}"] = (
                "One secret per tenant and profile (an Amazon Ads connection's credentials), "
                "created as profiles connect: the grant covers this stack's prefix only"
                + {
                    "read": " (GetSecretValue: the sync reads the profile's own).",
                    "manage": " (the connection routes create, replace and delete them).",
                    "delete": " (DeleteSecret: deleting a profile deletes its connection's).",
                }[access.ads_secrets]
            )
        if access.publish_alerts:
            reasons["Action::kms:GenerateDataKey*"] = (
                "CDK's publish grant on the encrypted alerts topic: data keys of the topic's "
                "own KMS key only (the resource is that key's ARN)."
            )
        for finding, reason in reasons.items():
            Validations.of(policy).acknowledge(
                Acknowledgment(id=f"AwsSolutions-IAM5[{finding}]", reason=reason)
            )


def _nag_text(value: object) -> str:
    """A resolved CloudFormation value as cdk-nag writes it in a finding id
    (``{"Fn::Join": ["", [...]]}`` with ``{"Ref": "AWS::Region"}`` → ``<AWS::Region>``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_nag_text(part) for part in parts)
    return str(value)
