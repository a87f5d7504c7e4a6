"""Profiles' connections to the Amazon Ads API: metadata in DynamoDB, credentials in
Secrets Manager.

``ConnectionStore`` keeps one item per connected profile in the metadata table under the
partition ``#CONNECTION#amazon-ads``, sort key ``{tenant}#{profile}`` — like the schedule's,
the one cross-tenant list the scheduler reads (a tenant id cannot start with ``#``). The
item's ``status`` attribute mirrors the body's so that disconnecting is conditional: of all
the syncs that find a token revoked, exactly one flips it (and notifies).

``SecretStore`` keeps one secret per tenant and profile, named
``{TRIPWIRE_ADS_SECRET_PREFIX}/{tenant}/{profile}`` (characters a secret name cannot hold
written ``=XX``); the CDK app grants the functions that prefix only.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from typing import Any

from botocore.exceptions import ClientError

from tripwire.domain.connections import AMAZON_ADS, Connection, ConnectionStatus
from tripwire.store import keys
from tripwire.store.batch import query_all
from tripwire.store.dynamo import DynamoStore
from tripwire.store.items import from_item, to_item
from tripwire.store.provision import aws_client
from tripwire.store.tables import METADATA

SECRET_PREFIX_ENV = "TRIPWIRE_ADS_SECRET_PREFIX"
DEFAULT_SECRET_PREFIX = "tripwire/amazon-ads"
_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]")


def _pk(provider: str = AMAZON_ADS) -> str:
    return f"{keys.SEP}CONNECTION{keys.SEP}{provider}"


def _conditional_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def connection_key(tenant: str, profile: str) -> dict[str, Any]:
    return {"pk": {"S": _pk()}, "sk": {"S": keys.profile_pk(tenant, profile)}}


class ConnectionStore(DynamoStore):
    def _key(self, tenant: str, profile: str) -> dict[str, Any]:
        return connection_key(tenant, profile)

    def put(self, connection: Connection) -> None:
        item = to_item(connection, status=connection.status.value)
        item.update(self._key(connection.tenant_id, connection.profile_id))
        self._client.put_item(TableName=METADATA.name, Item=item)

    def get(self, tenant: str, profile: str) -> Connection | None:
        item = self._client.get_item(
            TableName=METADATA.name, Key=self._key(tenant, profile), ConsistentRead=True
        ).get("Item")
        return from_item(Connection, item) if item else None

    def connected(self) -> list[Connection]:
        """Every connected profile, across tenants (the scheduler's list)."""
        items = query_all(
            self._client,
            TableName=METADATA.name,
            KeyConditionExpression="pk = :pk",
            FilterExpression="#s = :on",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":pk": {"S": _pk()},
                ":on": {"S": ConnectionStatus.CONNECTED.value},
            },
        )
        return [from_item(Connection, item) for item in items]

    def update(self, connection: Connection, *, only_if: ConnectionStatus | None = None) -> bool:
        """Store ``connection`` over the existing item (it must exist, and have status
        ``only_if`` when given); False when the condition did not hold."""
        item = to_item(connection, status=connection.status.value)
        item.update(self._key(connection.tenant_id, connection.profile_id))
        condition = "attribute_exists(pk)" + (" AND #s = :was" if only_if else "")
        extra: dict[str, Any] = {}
        if only_if is not None:
            extra = {
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":was": {"S": only_if.value}},
            }
        try:
            self._client.put_item(
                TableName=METADATA.name, Item=item, ConditionExpression=condition, **extra
            )
        except ClientError as error:
            if _conditional_failed(error):
                return False
            raise
        return True

    def delete(self, tenant: str, profile: str) -> bool:
        answer = self._client.delete_item(
            TableName=METADATA.name, Key=self._key(tenant, profile), ReturnValues="ALL_OLD"
        )
        return bool(answer.get("Attributes"))


def secret_name(tenant: str, profile: str) -> str:
    prefix = os.environ.get(SECRET_PREFIX_ENV, DEFAULT_SECRET_PREFIX).rstrip("/")
    safe = [_UNSAFE.sub(lambda m: f"={ord(m.group()):02X}", part) for part in (tenant, profile)]
    return f"{prefix}/{safe[0]}/{safe[1]}"


class SecretStore:
    """The credentials of a connection: one JSON secret per tenant and profile."""

    def __init__(self, client: Any | None = None) -> None:
        self._client = client if client is not None else aws_client("secretsmanager")

    def put(self, tenant: str, profile: str, values: dict[str, str], *, at: dt.datetime) -> str:
        """Create or replace the secret; returns its name."""
        name = secret_name(tenant, profile)
        payload = json.dumps(values)
        try:
            self._client.put_secret_value(SecretId=name, SecretString=payload)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code != "ResourceNotFoundException":
                raise
            self._client.create_secret(
                Name=name,
                SecretString=payload,
                Description=f"tripwire: Amazon Ads credentials of {tenant}/{profile}",
                Tags=[
                    {"Key": "tripwire:tenant", "Value": tenant},
                    {"Key": "tripwire:connected-at", "Value": at.isoformat()},
                ],
            )
        return name

    def get(self, name: str) -> dict[str, str] | None:
        try:
            raw = self._client.get_secret_value(SecretId=name)["SecretString"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise
        found = json.loads(raw)
        return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else None

    def delete(self, name: str) -> None:
        try:
            self._client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
