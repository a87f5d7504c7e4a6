"""When each profile is trained: one small item per profile in the metadata table.

Partition ``#TRAINING`` (like the scan schedule's, not led by a tenant: the training
scheduler lists every tenant's profiles in one Query), sort key ``{tenant}#{profile}``:
``every_days`` (how often it is retrained) and ``last_started`` (the day its last
scheduled training started). ``claim`` moves ``last_started`` forward conditionally, so a
schedule event delivered twice starts one training, not two.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from botocore.exceptions import ClientError

from tripwire.store import keys
from tripwire.store.dynamo import DynamoStore
from tripwire.store.tables import METADATA

PK = f"{keys.SEP}TRAINING"
DEFAULT_EVERY_DAYS = 7  # weekly: a week of new traffic, seasonality and catalogue changes


@dataclass(frozen=True)
class TrainingEntry:
    tenant_id: str
    profile_id: str
    every_days: int = DEFAULT_EVERY_DAYS
    last_started: date | None = None

    def due(self, today: date) -> bool:
        return self.last_started is None or (today - self.last_started).days >= self.every_days


def _key(tenant: str, profile: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": PK}, "sk": {"S": keys.profile_pk(tenant, profile)}}


class TrainingScheduleStore(DynamoStore):
    def get(self, tenant: str, profile: str) -> TrainingEntry:
        item = self._client.get_item(TableName=METADATA.name, Key=_key(tenant, profile)).get("Item")
        return _entry(item) if item else TrainingEntry(tenant, profile)

    def set_every(self, tenant: str, profile: str, every_days: int, *, by: str) -> TrainingEntry:
        self._client.update_item(
            TableName=METADATA.name,
            Key=_key(tenant, profile),
            UpdateExpression="SET every_days = :n, updated_by = :by, updated_at = :at",
            ExpressionAttributeValues={
                ":n": {"N": str(every_days)},
                ":by": {"S": by},
                ":at": {"S": datetime.now(UTC).isoformat()},
            },
        )
        return self.get(tenant, profile)

    def claim(self, entry: TrainingEntry, today: date) -> bool:
        """Record that ``entry``'s profile starts training ``today``, if no one did since
        it was read; False when another delivery of the same schedule claimed it."""
        seen = entry.last_started.isoformat() if entry.last_started else None
        condition = "attribute_not_exists(last_started)" if seen is None else "last_started = :seen"
        values = {":today": {"S": today.isoformat()}}
        if seen is not None:
            values[":seen"] = {"S": seen}
        try:
            self._client.update_item(
                TableName=METADATA.name,
                Key=_key(entry.tenant_id, entry.profile_id),
                UpdateExpression="SET last_started = :today",
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def remove(self, tenant: str, profile: str) -> int:
        self._client.delete_item(TableName=METADATA.name, Key=_key(tenant, profile))
        return 1


def _entry(item: dict[str, dict[str, str]]) -> TrainingEntry:
    tenant, _, profile = item["sk"]["S"].partition(keys.SEP)
    last = item.get("last_started", {}).get("S")
    return TrainingEntry(
        tenant,
        profile,
        int(item.get("every_days", {}).get("N", DEFAULT_EVERY_DAYS)),
        date.fromisoformat(last) if last else None,
    )
