"""Every DynamoDB table and S3 bucket, built from the one declaration in tripwire.store.tables.

Nothing about a table (keys, indexes, TTL, stream) is written here: it is read from
``TABLES`` / ``BUCKETS`` so the stack, the local stack and the store code cannot drift.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from tripwire.store.tables import BUCKETS, TABLES, Bucket, Key, Table

_ATTRIBUTE_TYPES: dict[str, dynamodb.AttributeType] = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}
_STREAM_VIEWS: dict[str, dynamodb.StreamViewType] = {
    "NEW_IMAGE": dynamodb.StreamViewType.NEW_IMAGE,
    "OLD_IMAGE": dynamodb.StreamViewType.OLD_IMAGE,
    "NEW_AND_OLD_IMAGES": dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    "KEYS_ONLY": dynamodb.StreamViewType.KEYS_ONLY,
}
# Server access logs are for incident forensics, not an archive: a year is plenty.
_ACCESS_LOG_RETENTION = Duration.days(365)


def _attribute(key: Key) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])


def _construct_id(logical: str) -> str:
    # "by_profile" -> "ByProfile": stable, readable ids; CloudFormation picks the names.
    return "".join(part.capitalize() for part in logical.split("_"))


class Storage(Construct):
    """The tables and buckets, plus the environment that tells Lambdas their physical names."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.tables: dict[str, dynamodb.ITableV2] = {
            table.logical: self._table(table) for table in TABLES
        }
        self.access_logs = self._access_logs_bucket()
        self.buckets: dict[str, s3.IBucket] = {
            bucket.logical: self._bucket(bucket) for bucket in BUCKETS
        }

    def environment(self) -> dict[str, str]:
        """``TRIPWIRE_TABLE_*`` / ``TRIPWIRE_BUCKET_*`` -> physical name (what the store reads)."""
        env = {table.env_var: self.tables[table.logical].table_name for table in TABLES}
        env.update({bucket.env_var: self.buckets[bucket.logical].bucket_name for bucket in BUCKETS})
        return env

    def _table(self, table: Table) -> dynamodb.TableV2:
        return dynamodb.TableV2(
            self,
            f"{_construct_id(table.logical)}Table",
            partition_key=_attribute(table.partition),
            sort_key=_attribute(table.sort) if table.sort else None,
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=index.name,
                    partition_key=_attribute(index.partition),
                    sort_key=_attribute(index.sort) if index.sort else None,
                    # Queries on an index must never need a second read of the base table.
                    projection_type=dynamodb.ProjectionType.ALL,
                )
                for index in table.indexes
            ],
            billing=dynamodb.Billing.on_demand(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=table.ttl_attribute,
            dynamo_stream=_STREAM_VIEWS[table.stream] if table.stream else None,
            encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
            # Data tables outlive the stack; scratch tables (idempotency) go with it.
            deletion_protection=table.retain,
            removal_policy=RemovalPolicy.RETAIN if table.retain else RemovalPolicy.DESTROY,
        )

    def _access_logs_bucket(self) -> s3.Bucket:
        logs = s3.Bucket(
            self,
            "AccessLogsBucket",
            # S3 server access logging only delivers to SSE-S3 buckets.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=_ACCESS_LOG_RETENTION)],
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Scoped to the CfnBucket alone, so nothing else under it inherits the acknowledgment.
        assert logs.node.default_child is not None
        Validations.of(logs.node.default_child).acknowledge(
            Acknowledgment(
                id="AwsSolutions-S1",
                reason="This bucket is the access-log target of the data buckets; logging "
                "access to it would need yet another bucket (or a loop) and adds no audit value.",
            )
        )
        return logs

    def _bucket(self, bucket: Bucket) -> s3.Bucket:
        return s3.Bucket(
            self,
            f"{_construct_id(bucket.logical)}Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            versioned=bucket.versioned,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{bucket.logical}/",
            lifecycle_rules=_lifecycle(bucket),
            # Trained models and their state are expensive to rebuild, dropped files are
            # the tenant's own: keep them.
            removal_policy=RemovalPolicy.RETAIN,
        )


def _lifecycle(bucket: Bucket) -> list[s3.LifecycleRule] | None:
    """Objects expire after the declared days; half-finished uploads after a day."""
    if bucket.expire_days is None:
        return None
    return [
        s3.LifecycleRule(
            id="expire",
            expiration=Duration.days(bucket.expire_days),
            abort_incomplete_multipart_upload_after=Duration.days(1),
        )
    ]
