"""The runs table: detection runs by id and a profile's runs, newest first (TTL 30 days)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from tripwire.domain.runs import DetectionRun
from tripwire.store import keys
from tripwire.store.batch import batch_get, query_all
from tripwire.store.dynamo import DynamoStore
from tripwire.store.items import from_item, to_item
from tripwire.store.tables import RUNS


class RunStore(DynamoStore):
    def put(self, run: DetectionRun) -> None:
        self._client.put_item(
            TableName=RUNS.name,
            Item=to_item(
                run,
                pk=f"{run.tenant_id}{keys.SEP}{run.run_id}",
                profile_pk=keys.profile_pk(run.tenant_id, run.profile_id),
                started_at=run.started_at.isoformat(),
                expires_at=run.expires_at,
            ),
        )

    def get(self, tenant: str, run_id: str) -> DetectionRun | None:
        item = self._client.get_item(
            TableName=RUNS.name, Key={"pk": {"S": f"{tenant}{keys.SEP}{run_id}"}}
        ).get("Item")
        return from_item(DetectionRun, item) if item else None

    def of_profile(self, tenant: str, profile: str, limit: int = 20) -> list[DetectionRun]:
        items = query_all(
            self._client,
            TableName=RUNS.name,
            IndexName="by_profile",
            KeyConditionExpression="profile_pk = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.profile_pk(tenant, profile)}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [from_item(DetectionRun, i) for _, i in zip(range(limit), items, strict=False)]

    def page_of_profile(
        self, tenant: str, profile: str, limit: int, after: str | None = None
    ) -> tuple[list[DetectionRun], str | None]:
        """A page of the profile's runs, newest first, and the key to continue after.

        Keys are ``{started_at}#{run}`` (what ``api.cursor`` wraps for clients).
        """
        params: dict[str, Any] = {
            "TableName": RUNS.name,
            "IndexName": "by_profile",
            "KeyConditionExpression": "profile_pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": keys.profile_pk(tenant, profile)}},
            "ScanIndexForward": False,
        }
        if after is not None:
            started_at, _, run_id = after.rpartition(keys.SEP)
            params["ExclusiveStartKey"] = {
                "pk": {"S": f"{tenant}{keys.SEP}{run_id}"},
                "profile_pk": {"S": keys.profile_pk(tenant, profile)},
                "started_at": {"S": started_at},
            }
        runs = [
            from_item(DetectionRun, i)
            for _, i in zip(range(limit + 1), query_all(self._client, **params), strict=False)
        ]
        more = len(runs) > limit
        runs = runs[:limit]
        last = f"{runs[-1].started_at.isoformat()}{keys.SEP}{runs[-1].run_id}" if more else None
        return runs, last


# -- runs fanned out over several queue messages (scan slices, backfill chunks) ----------


class SliceRecord(BaseModel):
    """What one slice of a fanned-out run did (its own item: ``{tenant}#{run}#slice#{i}``)."""

    index: int = Field(ge=0)
    status: str  # "complete", "retrying" or "failed"
    attempts: int = 1
    entities: int = 0
    rows_loaded: int = 0
    rows_preprocessed: int = 0
    rows_processed: int = 0
    anomalies_found: int = 0
    alert_ids: list[str] = Field(default_factory=list)
    model_versions: dict[str, str] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    error: str | None = None


class RunSlices(DynamoStore):
    """A run's slices: each slice records itself once (redelivery overwrites it with the
    same content), and the run item collects finished slice indexes in a string set —
    adding an index twice changes nothing, so a redelivered slice is never counted twice."""

    def start(self, run: DetectionRun, slices: int) -> None:
        item = to_item(
            run,
            pk=f"{run.tenant_id}{keys.SEP}{run.run_id}",
            profile_pk=keys.profile_pk(run.tenant_id, run.profile_id),
            started_at=run.started_at.isoformat(),
            expires_at=run.expires_at,
            slice_count=slices,
        )
        self._client.put_item(TableName=RUNS.name, Item=item)

    def record(self, tenant: str, run_id: str, record: SliceRecord, expires_at: int) -> None:
        self._client.put_item(
            TableName=RUNS.name,
            Item=to_item(record, pk=_slice_pk(tenant, run_id, record.index), expires_at=expires_at),
        )

    def finish(self, tenant: str, run_id: str, index: int) -> tuple[int, int]:
        """Mark slice ``index`` finished; returns (slices finished, slice count)."""
        item = self._client.update_item(
            TableName=RUNS.name,
            Key={"pk": {"S": f"{tenant}{keys.SEP}{run_id}"}},
            UpdateExpression="ADD done_slices :i",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":i": {"SS": [str(index)]}},
            ReturnValues="ALL_NEW",
        )["Attributes"]
        return len(item["done_slices"]["SS"]), int(item.get("slice_count", {"N": "1"})["N"])

    def count(self, tenant: str, run_id: str) -> int:
        """How many slices the run was fanned out into (0: no such run, or not fanned out)."""
        item = self._client.get_item(
            TableName=RUNS.name,
            Key={"pk": {"S": f"{tenant}{keys.SEP}{run_id}"}},
            ProjectionExpression="slice_count",
        ).get("Item")
        return int(item["slice_count"]["N"]) if item and "slice_count" in item else 0

    def of_run(self, tenant: str, run_id: str, count: int) -> list[SliceRecord]:
        request = [{"pk": {"S": _slice_pk(tenant, run_id, i)}} for i in range(count)]
        found = [from_item(SliceRecord, i) for i in batch_get(self._client, RUNS.name, request)]
        return sorted(found, key=lambda r: r.index)

    def update(self, run: DetectionRun) -> None:
        """Replace the run's body, keeping its slice bookkeeping."""
        self._client.update_item(
            TableName=RUNS.name,
            Key={"pk": {"S": f"{run.tenant_id}{keys.SEP}{run.run_id}"}},
            UpdateExpression="SET body = :b",
            ExpressionAttributeValues={":b": {"S": run.model_dump_json()}},
        )

    # -- one backfill at a time per profile and scope --------------------------------------

    def claim(
        self, tenant: str, profile: str, scope: str, run_id: str, replacing: str | None = None
    ) -> str:
        """Take the backfill slot of (profile, scope) for ``run_id`` — if it is free, or
        still held by ``replacing`` (a finished run); returns the run id holding the slot."""
        key = {"pk": {"S": _claim_pk(tenant, profile, scope)}}
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if replacing is None
            else {
                "ConditionExpression": "run_id = :old",
                "ExpressionAttributeValues": {":old": {"S": replacing}},
            }
        )
        item = {**key, "run_id": {"S": run_id}, "claimed_at": {"S": datetime.now(UTC).isoformat()}}
        try:
            self._client.put_item(TableName=RUNS.name, Item=item, **condition)
            return run_id
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
        held = self._client.get_item(TableName=RUNS.name, Key=key, ConsistentRead=True)["Item"]
        return str(held["run_id"]["S"])


def _slice_pk(tenant: str, run_id: str, index: int) -> str:
    return f"{tenant}{keys.SEP}{run_id}{keys.SEP}slice{keys.SEP}{index}"


def _claim_pk(tenant: str, profile: str, scope: str) -> str:
    return f"{tenant}{keys.SEP}backfill{keys.SEP}{profile}{keys.SEP}{scope}"
