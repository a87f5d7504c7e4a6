"""boto3 clients for all store code, and creation of every declared table and bucket.

Clients are plain boto3: the endpoint comes from boto3's own ``AWS_ENDPOINT_URL``, which
the local stack points at moto server, so the same code runs in Lambda and on a laptop.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

from tripwire.store.tables import BUCKETS, TABLES, Bucket, Table

_clients: dict[tuple[str, str, str], Any] = {}
_clients_lock = threading.Lock()
# boto3 resources are not thread-safe (the local gateway runs handlers in threads).


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def _cache_key(service: str) -> tuple[str, str, str]:
    service_var = f"AWS_ENDPOINT_URL_{service.upper()}"
    endpoint = os.environ.get(service_var) or os.environ.get("AWS_ENDPOINT_URL", "")
    return service, region(), endpoint


def aws_client(service: str) -> Any:
    """A client cached per (service, region, endpoint), reused across warm invocations."""
    key = _cache_key(service)
    client = _clients.get(key)
    if client is None:
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                # A fresh session picks up the current environment (credentials, endpoint).
                client = boto3.session.Session(region_name=key[1]).client(service)  # type: ignore[call-overload]
                _clients[key] = client
    return client


def reset_clients() -> None:
    """Forget cached clients (tests and the local stack switch endpoints and credentials)."""
    with _clients_lock:
        _clients.clear()


@dataclass(frozen=True)
class Clients:
    dynamodb: Any
    s3: Any


def provision(
    session_or_clients: boto3.session.Session | Clients | None = None,
    *,
    env: Mapping[str, str] | None = None,
) -> None:
    """Create every table and bucket in ``tables`` that does not exist yet.

    Physical names come from ``env`` (falling back to ``os.environ``), as in Lambda.
    """
    if isinstance(session_or_clients, Clients):
        clients = session_or_clients
    elif session_or_clients is None:
        clients = Clients(aws_client("dynamodb"), aws_client("s3"))
    else:
        session = session_or_clients
        clients = Clients(session.client("dynamodb"), session.client("s3"))
    names = env if env is not None else os.environ
    for table in TABLES:
        _create_table(clients.dynamodb, table, names.get(table.env_var, table.name))
    for bucket in BUCKETS:
        _create_bucket(clients.s3, bucket, names.get(bucket.env_var, bucket.name))


def table_spec(table: Table, name: str) -> dict[str, Any]:
    """The CreateTable request for a declared table."""

    def schema(partition: Any, sort: Any) -> list[dict[str, str]]:
        keys = [{"AttributeName": partition.name, "KeyType": "HASH"}]
        return keys + ([{"AttributeName": sort.name, "KeyType": "RANGE"}] if sort else [])

    spec: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": schema(table.partition, table.sort),
        "AttributeDefinitions": [
            {"AttributeName": k.name, "AttributeType": k.type} for k in table.key_attributes()
        ],
    }
    if table.indexes:
        spec["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": schema(index.partition, index.sort),
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in table.indexes
        ]
    if table.stream:
        spec["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
    return spec


def _create_table(dynamodb: Any, table: Table, name: str) -> None:
    try:
        dynamodb.create_table(**table_spec(table, name))
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
    if dynamodb.describe_table(TableName=name)["Table"]["TableStatus"] != "ACTIVE":
        dynamodb.get_waiter("table_exists").wait(TableName=name)
    if table.ttl_attribute:
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        # Enabling an already-enabled TTL is a ValidationException on AWS.
        if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )


def _create_bucket(s3: Any, bucket: Bucket, name: str) -> None:
    request: dict[str, Any] = {"Bucket": name}
    bucket_region = s3.meta.region_name
    if bucket_region != "us-east-1":  # us-east-1 rejects an explicit location constraint
        request["CreateBucketConfiguration"] = {"LocationConstraint": bucket_region}
    try:
        s3.create_bucket(**request)
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou",):
            raise
    if bucket.versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
