"""The catalog table: a tenant's profiles and each profile's entity hierarchy.

The hierarchy is stored as a few fat chunks plus a head item carrying a content hash,
written in one transaction: readers get all of it or the previous version, never half,
and the hash tells caches (the entity graph) when to rebuild.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from tripwire.domain.entities import Entity, Profile
from tripwire.store import keys
from tripwire.store.batch import batch_get, query_all
from tripwire.store.dynamo import DynamoStore
from tripwire.store.tables import CATALOG

CHUNK = 2000  # entities per item: ~100 bytes each keeps a chunk far below 400 KB
MAX_TRANSACTION = 100  # DynamoDB's TransactWriteItems limit


KEPT_HIERARCHIES = 4  # hierarchies kept in memory, by profile and version (oldest dropped)

# Hierarchies read, by profile key and version: a worker scanning a profile's slices, or
# the scheduler and a worker in one process, reads only the head item again (a 10,000-
# keyword hierarchy is ~0.2 s of chunks and validation). Entities are immutable.
_read: OrderedDict[tuple[str, str], tuple[Entity, ...]] = OrderedDict()
_lock = threading.Lock()


def hierarchy_version(entities: Iterable[Entity]) -> str:
    rows = sorted((e.entity_id, e.entity_type.value, e.parent_id or "", e.name) for e in entities)
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


class CatalogStore(DynamoStore):
    # -- profiles -------------------------------------------------------------------
    def put_profile(self, profile: Profile) -> None:
        self._client.put_item(
            TableName=CATALOG.name,
            Item={
                "pk": {"S": profile.tenant_id},
                "sk": {"S": keys.profile_item_sk(profile.profile_id)},
                "body": {"S": profile.model_dump_json()},
            },
        )

    def get_profile(self, tenant: str, profile_id: str) -> Profile | None:
        item = self._client.get_item(
            TableName=CATALOG.name,
            Key={"pk": {"S": tenant}, "sk": {"S": keys.profile_item_sk(profile_id)}},
        ).get("Item")
        return Profile.model_validate_json(item["body"]["S"]) if item else None

    def list_profiles(self, tenant: str) -> list[Profile]:
        items = query_all(
            self._client,
            TableName=CATALOG.name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
            ExpressionAttributeValues={":pk": {"S": tenant}, ":p": {"S": "PROFILE#"}},
        )
        return [Profile.model_validate_json(i["body"]["S"]) for i in items]

    # -- hierarchy ------------------------------------------------------------------
    def get_hierarchy(self, tenant: str, profile: str) -> tuple[str | None, list[Entity]]:
        """(version, entities) of a profile; (None, []) when it has none yet."""
        pk = keys.profile_pk(tenant, profile)
        head = self._client.get_item(
            TableName=CATALOG.name, Key={"pk": {"S": pk}, "sk": {"S": keys.hierarchy_sk()}}
        ).get("Item")
        if not head:
            return None, []
        version = head["version"]["S"]
        with _lock:
            kept = _read.get((pk, version))
            if kept is not None:
                _read.move_to_end((pk, version))
        if kept is not None:  # the version hashes the content: the chunks are what we hold
            return version, list(kept)
        chunks = int(head["chunks"]["N"])
        request = [{"pk": {"S": pk}, "sk": {"S": keys.hierarchy_sk(i)}} for i in range(chunks)]
        items = sorted(batch_get(self._client, CATALOG.name, request), key=lambda i: i["sk"]["S"])
        rows = [row for item in items for row in json.loads(item["entities"]["S"])]
        entities = [
            Entity(entity_id=r[0], entity_type=r[1], parent_id=r[2], name=r[3]) for r in rows
        ]
        with _lock:
            _read[(pk, version)] = tuple(entities)
            while len(_read) > KEPT_HIERARCHIES:
                _read.popitem(last=False)
        return version, entities

    def put_hierarchy(
        self, tenant: str, profile: str, entities: list[Entity], expected: str | None
    ) -> str:
        """Replace the hierarchy in one transaction, if it is still at version ``expected``.

        Returns the new version. Raises ``ConcurrentChange`` when someone else wrote first.
        """
        version = hierarchy_version(entities)
        if version == expected:
            return version
        pk = keys.profile_pk(tenant, profile)
        rows = sorted((e.entity_id, e.entity_type.value, e.parent_id, e.name) for e in entities)
        chunks = [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)] or [[]]
        if len(chunks) + 1 > MAX_TRANSACTION:
            raise ValueError(f"a profile may hold at most {CHUNK * (MAX_TRANSACTION - 1)} entities")
        condition = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if expected is None
            else {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": {"S": expected}},
            }
        )
        head = {
            "pk": {"S": pk},
            "sk": {"S": keys.hierarchy_sk()},
            "version": {"S": version},
            "chunks": {"N": str(len(chunks))},
            "count": {"N": str(len(rows))},
        }
        writes: list[dict[str, Any]] = [
            {"Put": {"TableName": CATALOG.name, "Item": head, **condition}}
        ]
        for i, chunk in enumerate(chunks):
            item = {
                "pk": {"S": pk},
                "sk": {"S": keys.hierarchy_sk(i)},
                "entities": {"S": json.dumps(chunk, separators=(",", ":"))},
            }
            writes.append({"Put": {"TableName": CATALOG.name, "Item": item}})
        try:
            self._client.transact_write_items(TransactItems=writes)
        except self._client.exceptions.TransactionCanceledException as error:
            raise ConcurrentChange(f"the hierarchy of {profile} changed meanwhile") from error
        return version


class ConcurrentChange(Exception):
    """A conditional write lost to a concurrent writer; re-read and retry."""
