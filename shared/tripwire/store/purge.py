"""Everything one profile stores, found and deleted table by table and bucket by bucket.

Where a profile's data lives (keys in tables.py):

- partitions led by ``{tenant}#{profile}`` — metrics, metadata (detection state), feedback,
  statistics, incidents, the catalog's hierarchy: Queried and deleted page by page;
- the schedule items (metadata, ``#SCHEDULE#{interval}`` / ``{tenant}#{profile}``) and the
  profile item (catalog, ``{tenant}`` / ``PROFILE#{profile}``): deleted by key;
- items keyed ``{tenant}#{id}`` — alerts (the ``by_profile`` index names them), history (an
  alert's changes, and the archived alert carrying ``profile_pk``), runs (``profile_pk``; their
  slices ``{tenant}#{run}#slice#{i}``; backfill slots ``{tenant}#backfill#{profile}#{scope}``)
  and notifications (``profile_id``): history, runs and notifications have no index by
  profile, so a Scan of the tenant's keys finds them. Deleting a profile is rare; a Scan
  then is cheaper than an index kept for it on every write;
- S3 objects under ``{tenant}/{profile}/`` in the models and landing buckets, every version;
- the profile's Amazon Ads connection: its item (metadata, ``#CONNECTION#amazon-ads`` /
  ``{tenant}#{profile}``) and its credentials' secret, named by ``store/connections.py``
  (none may exist, which is fine);
- its Marketing Stream routes (metadata, ``#STREAM#amazon-ads`` / ``{advertiser}#{market}``,
  naming the tenant and profile): Queried from that one partition (one item per subscribed
  advertiser, of every tenant) — every route to the profile, also one a later subscription
  with another advertiser left behind. Its stream cells and markers and its hourly points
  live in its metrics partition (``store/stream.py``, ``store/metrics.py``).

Not here: the idempotency table, whose keys are hashes of whole requests — its records
expire by TTL within the hour (api/idempotency.py) and hold responses only.

Every delete is idempotent (a key already gone is no error), so an interrupted purge is
finished by running it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from tripwire.domain.metrics import Interval
from tripwire.store import keys
from tripwire.store.batch import Item, batch_delete, query_all
from tripwire.store.connections import connection_key, secret_name
from tripwire.store.dynamo import DynamoStore
from tripwire.store.provision import aws_client
from tripwire.store.stream import ROUTES
from tripwire.store.tables import (
    ALERTS,
    CATALOG,
    FEEDBACK,
    HISTORY,
    INCIDENTS,
    LANDING,
    METADATA,
    METRICS,
    MODELS,
    NOTIFICATIONS,
    RUNS,
    STATISTICS,
    Bucket,
    Table,
)
from tripwire.store.training import PK as TRAINING_PK

# Partitions ``{tenant}#{profile}``: the profile's own data, whole.
PROFILE_PARTITIONS: tuple[Table, ...] = (METRICS, METADATA, FEEDBACK, STATISTICS, INCIDENTS)
PROFILE_BUCKETS: tuple[Bucket, ...] = (MODELS, LANDING)
S3_DELETE_LIMIT = 1000  # keys per DeleteObjects


def object_prefix(tenant: str, profile: str) -> str:
    return f"{tenant}/{profile}/"


def _key(table: Table, item: Item) -> Item:
    names = [table.partition.name, *([table.sort.name] if table.sort else [])]
    return {name: item[name] for name in names}


def _projection(table: Table, *extra: str) -> str:
    return ", ".join([table.partition.name, *([table.sort.name] if table.sort else []), *extra])


class ProfilePurge(DynamoStore):
    """Deletes one profile's items and objects; each method returns how many it deleted."""

    def __init__(self, tenant: str, profile: str, client: Any | None = None) -> None:
        super().__init__(client)
        self.tenant, self.profile = tenant, profile
        self.pk = keys.profile_pk(tenant, profile)

    # -- DynamoDB ---------------------------------------------------------------------------

    def partition(self, table: Table) -> int:
        """Every item of the profile's partition in ``table``."""
        items = query_all(
            self._client,
            TableName=table.name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": self.pk}},
            ProjectionExpression=_projection(table),
        )
        return self._delete(table, (_key(table, i) for i in items))

    def hierarchy(self) -> int:
        return self.partition(CATALOG)

    def schedules(self) -> int:
        """The profile's schedule entries (every interval, and its training schedule):
        first, so no scan or training starts."""
        sks = [{"pk": {"S": f"{keys.SEP}SCHEDULE{keys.SEP}{i.value}"}} for i in Interval]
        sks.append({"pk": {"S": TRAINING_PK}})
        present = [
            key
            for key in ({**k, "sk": {"S": self.pk}} for k in sks)
            if "Item" in self._client.get_item(TableName=METADATA.name, Key=key)
        ]
        return self._delete(METADATA, present)

    def connection(self) -> int:
        """The profile's Amazon Ads connection item: with the schedule, so no sync starts."""
        key = connection_key(self.tenant, self.profile)
        found = "Item" in self._client.get_item(TableName=METADATA.name, Key=key)
        return self._delete(METADATA, [key]) if found else 0

    def stream_routes(self) -> int:
        """The Marketing Stream routes to the profile: before its metrics partition (which
        holds its ``S#SUBSCRIBED`` record), so no record is routed to a half-deleted
        profile."""
        items = query_all(
            self._client,
            TableName=METADATA.name,
            KeyConditionExpression="pk = :pk",
            FilterExpression="#t = :t AND #p = :p",
            ExpressionAttributeNames={"#t": "tenant", "#p": "profile"},
            ExpressionAttributeValues={
                ":pk": {"S": ROUTES},
                ":t": {"S": self.tenant},
                ":p": {"S": self.profile},
            },
            ProjectionExpression=_projection(METADATA),
        )
        return self._delete(METADATA, (_key(METADATA, i) for i in items))

    def profile_item(self) -> int:
        """The catalog's profile item: last, so an interrupted purge can be run again."""
        key = {"pk": {"S": self.tenant}, "sk": {"S": keys.profile_item_sk(self.profile)}}
        found = "Item" in self._client.get_item(TableName=CATALOG.name, Key=key)
        return self._delete(CATALOG, [key]) if found else 0

    def alert_ids(self) -> set[str]:
        """The ids of the profile's alerts (the by_profile index)."""
        items = query_all(
            self._client,
            TableName=ALERTS.name,
            IndexName="by_profile",
            KeyConditionExpression="profile_pk = :pk",
            ExpressionAttributeValues={":pk": {"S": self.pk}},
            ProjectionExpression="pk",
        )
        return {i["pk"]["S"].partition(keys.SEP)[2] for i in items}

    def alerts(self, alert_ids: Iterable[str]) -> int:
        """The alerts — after their history, whose records name no profile: a purge cut
        short in between finds the alerts, and so their history, again."""
        prefix = f"{self.tenant}{keys.SEP}"
        return self._delete(ALERTS, ({"pk": {"S": prefix + a}} for a in alert_ids))

    def history(self, alert_ids: Iterable[str]) -> int:
        """The history of ``alert_ids`` and of the profile's archived (expired) alerts."""
        by_alert: dict[str, list[Item]] = {}
        archived: set[str] = set()
        for item in self._tenant_items(HISTORY, "profile_pk"):
            by_alert.setdefault(item["pk"]["S"], []).append(_key(HISTORY, item))
            if item.get("profile_pk", {}).get("S") == self.pk:
                archived.add(item["pk"]["S"])
        wanted = archived | {f"{self.tenant}{keys.SEP}{a}" for a in alert_ids}
        return self._delete(HISTORY, (k for pk in wanted for k in by_alert.get(pk, [])))

    def runs(self) -> int:
        """The profile's runs, their slices and the profile's backfill slots."""
        slot = f"{self.tenant}{keys.SEP}backfill{keys.SEP}{self.profile}{keys.SEP}"
        runs: set[str] = set()
        slices: dict[str, list[Item]] = {}
        doomed: list[Item] = []
        for item in self._tenant_items(RUNS, "profile_pk"):
            pk = item["pk"]["S"]
            if item.get("profile_pk", {}).get("S") == self.pk:
                runs.add(pk)
                doomed.append({"pk": item["pk"]})
            elif pk.startswith(slot):
                doomed.append({"pk": item["pk"]})
            elif f"{keys.SEP}slice{keys.SEP}" in pk:
                run_pk = pk.rsplit(keys.SEP, 2)[0]
                slices.setdefault(run_pk, []).append({"pk": item["pk"]})
        # slices before their runs: a purge cut short finds them again through the run
        doomed = [k for run in runs for k in slices.get(run, [])] + doomed
        return self._delete(RUNS, doomed)

    def notifications(self) -> int:
        items = self._tenant_items(
            NOTIFICATIONS, "profile_id", where=("profile_id = :p", {":p": {"S": self.profile}})
        )
        return self._delete(NOTIFICATIONS, ({"pk": i["pk"]} for i in items))

    def _tenant_items(
        self, table: Table, *extra: str, where: tuple[str, dict[str, Any]] | None = None
    ) -> Iterator[Item]:
        """Keys (and ``extra`` attributes) of the tenant's items in a table keyed
        ``{tenant}#{id}``: a Scan, filtered by DynamoDB, page by page."""
        condition, values = "begins_with(pk, :tenant)", {":tenant": {"S": self.tenant + keys.SEP}}
        if where is not None:
            condition, values = f"{condition} AND {where[0]}", {**values, **where[1]}
        params: dict[str, Any] = {
            "TableName": table.name,
            "FilterExpression": condition,
            "ExpressionAttributeValues": values,
            "ProjectionExpression": _projection(table, *extra),
        }
        while True:
            page = self._client.scan(**params)
            yield from page.get("Items", [])
            if not page.get("LastEvaluatedKey"):
                return
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _delete(self, table: Table, item_keys: Iterable[Item]) -> int:
        return batch_delete(self._client, table.name, item_keys)

    # -- S3 and Secrets Manager ------------------------------------------------------------

    def objects(self, bucket: Bucket, s3: Any | None = None) -> int:
        """Every object under the profile's prefix, every version and delete marker."""
        s3 = s3 or aws_client("s3")
        prefix, deleted = object_prefix(self.tenant, self.profile), 0
        pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket.name, Prefix=prefix)
        for page in pages:
            versions = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions]
            for start in range(0, len(doomed), S3_DELETE_LIMIT):
                chunk = doomed[start : start + S3_DELETE_LIMIT]
                answer = s3.delete_objects(
                    Bucket=bucket.name, Delete={"Objects": chunk, "Quiet": True}
                )
                if answer.get("Errors"):
                    raise RuntimeError(f"S3 refused deletes in {bucket.name}: {answer['Errors']}")
                deleted += len(chunk)
        return deleted

    def secrets(self, manager: Any | None = None) -> int:
        """The connection's credentials, deleted without a recovery window."""
        manager = manager or aws_client("secretsmanager")
        try:
            name = secret_name(self.tenant, self.profile)
            manager.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return 0
            raise
        return 1
