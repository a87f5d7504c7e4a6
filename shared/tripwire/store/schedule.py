"""Which profiles the scheduler scans: one small item per profile, switched on and off.

Kept in the metadata table under the partition ``#SCHEDULE#{interval}``, sort key
``{tenant}#{profile}``. It is the one partition not led by a tenant: the scheduler lists
every tenant's profiles in one Query, and nothing else reads it. (A tenant id cannot
start with ``#``, so it can never collide with a tenant's partition.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from tripwire.domain.metrics import Interval
from tripwire.store import keys
from tripwire.store.batch import query_all
from tripwire.store.dynamo import DynamoStore
from tripwire.store.tables import METADATA


def _pk(interval: Interval) -> str:
    return f"{keys.SEP}SCHEDULE{keys.SEP}{interval.value}"


@dataclass(frozen=True)
class ScheduleEntry:
    tenant_id: str
    profile_id: str
    interval: Interval
    enabled: bool
    updated_at: str
    updated_by: str


class ScheduleStore(DynamoStore):
    def set(
        self,
        tenant: str,
        profile: str,
        enabled: bool,
        *,
        interval: Interval = Interval.D1,
        by: str = "system",
    ) -> ScheduleEntry:
        entry = ScheduleEntry(tenant, profile, interval, enabled, datetime.now(UTC).isoformat(), by)
        self._client.put_item(
            TableName=METADATA.name,
            Item={
                "pk": {"S": _pk(interval)},
                "sk": {"S": keys.profile_pk(tenant, profile)},
                "enabled": {"BOOL": enabled},
                "updated_at": {"S": entry.updated_at},
                "updated_by": {"S": by},
            },
        )
        return entry

    def register(self, tenant: str, profile: str, interval: Interval = Interval.D1) -> bool:
        """Switch scanning on for a profile seen for the first time (after its first
        training); a profile someone switched off stays off. True if it was new."""
        try:
            self._client.put_item(
                TableName=METADATA.name,
                Item={
                    "pk": {"S": _pk(interval)},
                    "sk": {"S": keys.profile_pk(tenant, profile)},
                    "enabled": {"BOOL": True},
                    "updated_at": {"S": datetime.now(UTC).isoformat()},
                    "updated_by": {"S": "system"},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def get(
        self, tenant: str, profile: str, interval: Interval = Interval.D1
    ) -> ScheduleEntry | None:
        item = self._client.get_item(
            TableName=METADATA.name,
            Key={"pk": {"S": _pk(interval)}, "sk": {"S": keys.profile_pk(tenant, profile)}},
        ).get("Item")
        return _entry(item, interval) if item else None

    def active(self, interval: Interval = Interval.D1) -> list[ScheduleEntry]:
        """Every profile with scanning on at ``interval``, across tenants."""
        items = query_all(
            self._client,
            TableName=METADATA.name,
            KeyConditionExpression="pk = :pk",
            FilterExpression="enabled = :on",
            ExpressionAttributeValues={":pk": {"S": _pk(interval)}, ":on": {"BOOL": True}},
        )
        return [_entry(item, interval) for item in items]


def _entry(item: dict[str, dict[str, object]], interval: Interval) -> ScheduleEntry:
    tenant, _, profile = str(item["sk"]["S"]).partition(keys.SEP)
    return ScheduleEntry(
        tenant_id=tenant,
        profile_id=profile,
        interval=interval,
        enabled=bool(item["enabled"]["BOOL"]),
        updated_at=str(item["updated_at"]["S"]),
        updated_by=str(item["updated_by"]["S"]),
    )
