"""The runs table: detection runs by id and a profile's runs, newest first (TTL 30 days)."""

from __future__ import annotations

from tripwire.domain.runs import DetectionRun
from tripwire.store import keys
from tripwire.store.batch import query_all
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
