"""The runs table: detection runs by id and a profile's runs, newest first (TTL 30 days).

Every run item carries its ``status`` at the top level (conditions need it) and, while a
queued run is in progress, the sparse ``open`` index's keys (its deadline first): the
sweeper reads the overdue runs from that index and fails them only while they are still
in progress; a swept run (``swept_at``) is never rewritten by a late slice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from tripwire.domain.runs import DetectionRun, RunStatus
from tripwire.store import keys
from tripwire.store.batch import batch_get, query_all
from tripwire.store.dynamo import DynamoStore
from tripwire.store.items import from_item, to_item
from tripwire.store.tables import RUNS

OPEN = "OPEN"  # the open index's one partition: few runs are in progress at a time
_OPEN_KEYS = ("open_pk", "open_sk")


class RunSwept(Exception):
    """The sweeper failed the run meanwhile: its outcome stays as the sweeper wrote it."""


def moment(at: datetime) -> str:
    """A UTC time as a fixed-width ISO string, so such strings sort as the times do."""
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def _run_item(run: DetectionRun, **extra: str | int | None) -> dict[str, Any]:
    queued_open = run.status is RunStatus.IN_PROGRESS and run.deadline is not None
    return to_item(
        run,
        pk=f"{run.tenant_id}{keys.SEP}{run.run_id}",
        profile_pk=keys.profile_pk(run.tenant_id, run.profile_id),
        started_at=run.started_at.isoformat(),
        expires_at=run.expires_at,
        status=run.status.value,
        open_pk=OPEN if queued_open else None,
        open_sk=f"{moment(run.deadline)}{keys.SEP}{run.tenant_id}{keys.SEP}{run.run_id}"
        if queued_open and run.deadline
        else None,
        **extra,
    )


def _failed_condition(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class RunStore(DynamoStore):
    def put(self, run: DetectionRun) -> None:
        self._client.put_item(TableName=RUNS.name, Item=_run_item(run))

    def overdue(self, now: datetime) -> list[tuple[str, str]]:
        """(tenant, run id) of every queued run still in progress past its deadline
        (strictly: a run due at ``now`` is not overdue yet), across tenants."""
        items = query_all(
            self._client,
            TableName=RUNS.name,
            IndexName="open",
            KeyConditionExpression="open_pk = :open AND open_sk < :now",
            ExpressionAttributeValues={":open": {"S": OPEN}, ":now": {"S": moment(now)}},
        )
        found = []
        for item in items:
            tenant, _, run_id = item["pk"]["S"].partition(keys.SEP)
            found.append((tenant, run_id))
        return found

    def sweep(self, run: DetectionRun) -> bool:
        """Store ``run`` (failed by the sweeper) only if the stored run is still in
        progress and unswept; False when it finished (or was swept) meanwhile."""
        assert run.swept_at is not None and run.status is RunStatus.FAILED
        try:
            self._client.update_item(
                TableName=RUNS.name,
                Key={"pk": {"S": f"{run.tenant_id}{keys.SEP}{run.run_id}"}},
                UpdateExpression="SET body = :b, #s = :failed, swept_at = :at REMOVE "
                + ", ".join(_OPEN_KEYS),
                ConditionExpression="#s = :open AND attribute_not_exists(swept_at)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":b": {"S": run.model_dump_json()},
                    ":failed": {"S": RunStatus.FAILED.value},
                    ":open": {"S": RunStatus.IN_PROGRESS.value},
                    ":at": {"S": moment(run.swept_at)},
                },
            )
        except ClientError as error:
            if _failed_condition(error):
                return False
            raise
        return True

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
        self._client.put_item(TableName=RUNS.name, Item=_run_item(run, slice_count=slices))

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
        """Replace the run's body, keeping its slice bookkeeping; a finished run leaves the
        open index. ``RunSwept`` if the sweeper failed it first (its outcome stands)."""
        finished = run.status is not RunStatus.IN_PROGRESS
        try:
            self._client.update_item(
                TableName=RUNS.name,
                Key={"pk": {"S": f"{run.tenant_id}{keys.SEP}{run.run_id}"}},
                UpdateExpression="SET body = :b, #s = :s"
                + (" REMOVE " + ", ".join(_OPEN_KEYS) if finished else ""),
                ConditionExpression="attribute_not_exists(swept_at)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":b": {"S": run.model_dump_json()},
                    ":s": {"S": run.status.value},
                },
            )
        except ClientError as error:
            if _failed_condition(error):
                raise RunSwept(run.run_id) from error
            raise

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
