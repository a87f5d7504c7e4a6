"""The metrics table: fat items, one per entity, interval and time bucket.

A point is stored as ``period -> [values in MEASURES order]`` inside a JSON string
attribute; reading an entity's window costs one or two items (see keys.bucket_of).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tripwire.domain.metrics import Interval, format_period
from tripwire.store import keys
from tripwire.store.batch import Item, batch_get, batch_put
from tripwire.store.dynamo import DynamoStore
from tripwire.store.tables import METRICS

Values = tuple[float, ...]
Series = dict[str, Values]  # ISO period -> values, in the profile's measure order


@dataclass(frozen=True)
class WriteSummary:
    points: int  # points offered
    items_read: int
    items_written: int  # items that changed (unchanged items are not rewritten)


def _encode(measures: Sequence[str], points: Mapping[str, Values]) -> str:
    return json.dumps(
        {"measures": list(measures), "points": {p: list(points[p]) for p in sorted(points)}},
        separators=(",", ":"),
    )


def _decode(item: Item) -> tuple[list[str], Series]:
    body = json.loads(item["points"]["S"])
    return body["measures"], {p: tuple(v) for p, v in body["points"].items()}


def _entity_and_bucket(sk: str) -> tuple[str, str]:
    _, _, entity, bucket = sk.split(keys.SEP)
    return entity, bucket


class MetricStore(DynamoStore):
    def __init__(self, client: Any | None = None) -> None:
        super().__init__(client)
        self.reads = 0  # items read, for benchmarks and the reads-per-entity budget
        self.writes = 0

    def write(
        self,
        tenant: str,
        profile: str,
        interval: Interval,
        measures: Sequence[str],
        series: Mapping[str, Mapping[str, Values]],
    ) -> WriteSummary:
        """Merge ``series`` (entity -> period -> values) into the stored buckets.

        New values replace stored ones for the same period (a restatement); writing
        the same points twice changes nothing and writes nothing.
        """
        pk = keys.profile_pk(tenant, profile)
        incoming: dict[tuple[str, str], Series] = defaultdict(dict)
        offered = 0
        for entity, points in series.items():
            for period, values in points.items():
                bucket = keys.bucket_of(datetime.fromisoformat(period), interval)
                incoming[(entity, bucket)][period] = tuple(values)
                offered += 1
        stored = self._get(pk, [keys.metric_sk(interval, e, b) for e, b in incoming])
        changed: list[Item] = []
        for (entity, bucket), points in incoming.items():
            sk = keys.metric_sk(interval, entity, bucket)
            old_measures, old_points = stored.get(sk, (list(measures), {}))
            if old_measures != list(measures):
                raise ValueError(f"{entity} is stored with measures {old_measures}")
            merged = {**old_points, **points}
            if merged != old_points:
                changed.append(self._item(pk, sk, measures, merged))
        self.writes += batch_put(self._client, METRICS.name, changed)
        return WriteSummary(offered, len(stored), len(changed))

    def read_window(
        self,
        tenant: str,
        profile: str,
        interval: Interval,
        entity_ids: Sequence[str],
        start: datetime,
        end: datetime,
    ) -> dict[str, Series]:
        """Each entity's points in [start, end], fetched in batches (one or two items each)."""
        pk = keys.profile_pk(tenant, profile)
        buckets = keys.buckets_between(start, end, interval)
        sks = [keys.metric_sk(interval, e, b) for e in entity_ids for b in buckets]
        lo, hi = format_period(start, interval), format_period(end, interval)
        window: dict[str, Series] = {e: {} for e in entity_ids}
        for sk, (_, points) in self._get(pk, sks).items():
            entity, _ = _entity_and_bucket(sk)
            window[entity].update({p: v for p, v in points.items() if lo <= p <= hi})
        return {e: dict(sorted(points.items())) for e, points in window.items()}

    def _get(self, pk: str, sks: Sequence[str]) -> dict[str, tuple[list[str], Series]]:
        request = [{"pk": {"S": pk}, "sk": {"S": sk}} for sk in sks]
        items = batch_get(self._client, METRICS.name, request)
        self.reads += len(items)
        return {item["sk"]["S"]: _decode(item) for item in items}

    @staticmethod
    def _item(pk: str, sk: str, measures: Sequence[str], points: Mapping[str, Values]) -> Item:
        return {
            "pk": {"S": pk},
            "sk": {"S": sk},
            "points": {"S": _encode(measures, points)},
            "n": {"N": str(len(points))},
        }
