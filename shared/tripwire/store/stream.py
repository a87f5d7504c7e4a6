"""Marketing Stream state: each keyword-hour's records, and which profile an advertiser is.

**Cells.** One item per (profile, keyword, hour) in the metrics table (its partition, so
deleting a profile deletes them), sort key ``S#{hour}#{entity}``. The item holds the hour's
cells — one per (dataset, ad, placement) — each with the values of the latest record for it
and every ``idempotency_id`` seen for it. A record whose id was seen changes nothing (a
redelivery); a new record for a cell replaces its values (a restated hour). Writes are
conditional on the item's version, so two consumers of the same hour never lose a record.

**Markers.** ``S#SUBSCRIBED`` records the profile's subscriptions; ``S#LATEST`` holds the
latest hour streamed for the profile: a profile has hourly data once it exists (the hourly
schedule asks).

**Routes.** One item per (advertiser, marketplace) in the metadata table under the partition
``#STREAM#amazon-ads`` (a record names its advertiser, not a Tripwire profile), written when
the profile subscribes; deleting the profile deletes its routes (``store/purge.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from tripwire.domain.stream import StreamRecord, TrafficRecord
from tripwire.store import keys
from tripwire.store.batch import batch_get
from tripwire.store.dynamo import DynamoStore
from tripwire.store.tables import METADATA, METRICS

SEEN_KEPT = 50  # idempotency ids remembered per cell (Amazon restates an hour a few times)
MAX_ATTEMPTS = 8  # conditional-write retries when a concurrent consumer wrote the item first
LATEST_SK = f"S{keys.SEP}LATEST"
SUBSCRIBED_SK = f"S{keys.SEP}SUBSCRIBED"
ROUTES = f"{keys.SEP}STREAM{keys.SEP}amazon-ads"


def cell_sk(hour: str, entity: str) -> str:
    return f"S{keys.SEP}{hour}{keys.SEP}{entity}"


def _values(record: StreamRecord) -> list[float]:
    if isinstance(record, TrafficRecord):
        return [record.impressions, record.clicks, record.cost]
    return [
        *(record.sales(w) for w in (1, 7, 14, 30)),
        *(record.orders(w) for w in (1, 7, 14, 30)),
    ]


@dataclass
class Applied:
    new: int = 0  # records that filled a cell for the first time
    replaced: int = 0  # records that restated a cell
    duplicates: int = 0  # records seen before (redeliveries): nothing changed
    touched: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """(entity, hour) → the item's cells after the write, for every keyword-hour offered."""


def hour_values(cells: dict[str, Any], window: int) -> tuple[float, float, float, float, float]:
    """(impressions, clicks, spend, sales, orders) of a keyword-hour: its cells summed,
    conversions at the ``window``-day attribution."""
    col = (1, 7, 14, 30).index(window)
    imp = clk = cost = sales = orders = 0.0
    for name, cell in cells.items():
        v = cell["v"]
        if name.startswith("sp-traffic|"):
            imp, clk, cost = imp + v[0], clk + v[1], cost + v[2]
        else:
            sales, orders = sales + v[col], orders + v[4 + col]
    return imp, clk, round(cost, 6), round(sales, 6), orders


class StreamStore(DynamoStore):
    # -- cells ---------------------------------------------------------------------------

    def apply(
        self, tenant: str, profile: str, records: Sequence[tuple[str, StreamRecord]]
    ) -> Applied:
        """Merge ``(entity, record)`` pairs into their keyword-hour items (see the module)."""
        pk = keys.profile_pk(tenant, profile)
        by_item: dict[tuple[str, str], list[StreamRecord]] = {}
        for entity, record in records:
            by_item.setdefault((entity, record.hour), []).append(record)
        applied = Applied()
        for _ in range(MAX_ATTEMPTS):
            stored = self._read(pk, list(by_item))
            retry: dict[tuple[str, str], list[StreamRecord]] = {}
            for key, offered in by_item.items():
                version, cells = stored.get(key, (0, {}))
                counts = _merge(cells, offered)
                if counts != (0, 0) and not self._put(pk, key, cells, version):
                    retry[key] = offered  # a concurrent consumer won: merge again
                    continue
                applied.new += counts[0]
                applied.replaced += counts[1]
                applied.duplicates += len(offered) - sum(counts)
                applied.touched[key] = cells
            if not retry:
                self.mark_latest(tenant, profile, max(hour for _, hour in by_item))
                return applied
            by_item = retry
        raise RuntimeError(f"{len(by_item)} keyword-hours kept changing under the stream consumer")

    def _read(self, pk: str, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        request = [{"pk": {"S": pk}, "sk": {"S": cell_sk(h, e)}} for e, h in wanted]
        found = {}
        for item in batch_get(self._client, METRICS.name, request, ConsistentRead=True):
            _, hour, entity = item["sk"]["S"].split(keys.SEP, 2)
            found[(entity, hour)] = (int(item["v"]["N"]), json.loads(item["cells"]["S"]))
        return found

    def _put(self, pk: str, key: tuple[str, str], cells: dict[str, Any], version: int) -> bool:
        entity, hour = key
        item = {
            "pk": {"S": pk},
            "sk": {"S": cell_sk(hour, entity)},
            "cells": {"S": json.dumps(cells, separators=(",", ":"), sort_keys=True)},
            "v": {"N": str(version + 1)},
        }
        try:
            self._client.put_item(
                TableName=METRICS.name,
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR v = :v",
                ExpressionAttributeValues={":v": {"N": str(version)}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def mark_latest(self, tenant: str, profile: str, hour: str) -> None:
        """Record ``hour`` as the latest streamed, unless a later one is recorded."""
        pk = keys.profile_pk(tenant, profile)
        try:
            self._client.put_item(
                TableName=METRICS.name,
                Item={"pk": {"S": pk}, "sk": {"S": LATEST_SK}, "hour": {"S": hour}},
                ConditionExpression="attribute_not_exists(pk) OR #h < :h",
                ExpressionAttributeNames={"#h": "hour"},
                ExpressionAttributeValues={":h": {"S": hour}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def latest_hour(self, tenant: str, profile: str) -> str | None:
        """The latest hour streamed for the profile (None: it has no hourly data)."""
        item = self._client.get_item(
            TableName=METRICS.name,
            Key={"pk": {"S": keys.profile_pk(tenant, profile)}, "sk": {"S": LATEST_SK}},
        ).get("Item")
        return str(item["hour"]["S"]) if item else None

    # -- routes --------------------------------------------------------------------------

    def put_route(
        self,
        advertiser: str,
        marketplace: str,
        tenant: str,
        profile: str,
        subscriptions: dict[str, str],
    ) -> None:
        self._client.put_item(
            TableName=METADATA.name,
            Item={
                "pk": {"S": ROUTES},
                "sk": {"S": f"{advertiser}{keys.SEP}{marketplace}"},
                "tenant": {"S": tenant},
                "profile": {"S": profile},
                "subscriptions": {"S": json.dumps(subscriptions, sort_keys=True)},
            },
        )
        self._client.put_item(  # the profile's own record of it (deleted with the profile)
            TableName=METRICS.name,
            Item={
                "pk": {"S": keys.profile_pk(tenant, profile)},
                "sk": {"S": SUBSCRIBED_SK},
                "route": {"S": f"{advertiser}{keys.SEP}{marketplace}"},
                "subscriptions": {"S": json.dumps(subscriptions, sort_keys=True)},
            },
        )

    def subscribed(self, tenant: str, profile: str) -> bool:
        item = self._client.get_item(
            TableName=METRICS.name,
            Key={"pk": {"S": keys.profile_pk(tenant, profile)}, "sk": {"S": SUBSCRIBED_SK}},
        ).get("Item")
        return item is not None

    def routes(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, str]]:
        """(advertiser, marketplace) → (tenant, profile) for the pairs that are routed."""
        request = [{"pk": {"S": ROUTES}, "sk": {"S": f"{a}{keys.SEP}{m}"}} for a, m in set(pairs)]
        found = {}
        for item in batch_get(self._client, METADATA.name, request):
            advertiser, marketplace = item["sk"]["S"].split(keys.SEP, 1)
            found[(advertiser, marketplace)] = (item["tenant"]["S"], item["profile"]["S"])
        return found


def _merge(cells: dict[str, Any], offered: list[StreamRecord]) -> tuple[int, int]:
    """Apply records to one item's cells in place; (new, replaced) counts."""
    new = replaced = 0
    seen = {i for cell in cells.values() for i in cell["ids"]}
    for record in offered:
        if record.idempotency_id in seen:
            continue
        seen.add(record.idempotency_id)
        cell = cells.get(record.cell)
        if cell is None:
            cells[record.cell] = {"v": _values(record), "ids": [record.idempotency_id]}
            new += 1
        else:
            cell["v"] = _values(record)
            cell["ids"] = [*cell["ids"], record.idempotency_id][-SEEN_KEPT:]
            replaced += 1
    return new, replaced
