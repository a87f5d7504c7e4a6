"""The metrics table: fat items, one per entity, interval and time bucket.

A point is stored as ``period -> [values in MEASURES order]`` inside a JSON string
attribute; reading an entity's window costs one or two items (see keys.bucket_of).

A restatement replaces a period's values; the values a period had when it was first written
young (within ``FIRST_SEEN_DAYS`` of the write) are kept beside them as
``first: period -> [age, values…]`` — what a reporting-lag curve is learnt from (first seen
against settled). Items without any keep their old encoding.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tripwire.domain.metrics import Interval, format_period
from tripwire.store import keys
from tripwire.store.batch import Item, batch_get, batch_put
from tripwire.store.dynamo import DynamoStore
from tripwire.store.tables import METRICS

Values = tuple[float, ...]
Series = dict[str, Values]  # ISO period -> values, in the profile's measure order
FirstSeen = dict[str, tuple[int, Values]]  # ISO period -> (age when first written, values)
FIRST_SEEN_DAYS = 3  # younger periods are kept as first seen (Amazon restates ~3 days)


@dataclass(frozen=True)
class WriteSummary:
    points: int  # points offered
    items_read: int
    items_written: int  # items that changed (unchanged items are not rewritten)


def _encode(measures: Sequence[str], points: Mapping[str, Values], first: FirstSeen) -> str:
    body: dict[str, Any] = {
        "measures": list(measures),
        "points": {p: list(points[p]) for p in sorted(points)},
    }
    if first:
        body["first"] = {p: [first[p][0], *first[p][1]] for p in sorted(first)}
    return json.dumps(body, separators=(",", ":"))


def _decode(item: Item) -> tuple[list[str], Series, FirstSeen]:
    body = json.loads(item["points"]["S"])
    first = {p: (int(v[0]), tuple(v[1:])) for p, v in body.get("first", {}).items()}
    return body["measures"], {p: tuple(v) for p, v in body["points"].items()}, first


def _age(period: str, seen_on: date) -> int:
    """Days between a period and the morning it was written: the day after is age 0."""
    return (seen_on - datetime.fromisoformat(period).date()).days - 1


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
        seen_on: date | None = None,
    ) -> WriteSummary:
        """Merge ``series`` (entity -> period -> values) into the stored buckets.

        New values replace stored ones for the same period (a restatement); writing
        the same points twice changes nothing and writes nothing. ``seen_on`` (the import's
        day): a period written for the first time while younger than ``FIRST_SEEN_DAYS``
        keeps these values as its first-seen ones.
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
            old_measures, old_points, old_first = stored.get(sk, (list(measures), {}, {}))
            if old_measures != list(measures):
                raise ValueError(f"{entity} is stored with measures {old_measures}")
            merged = {**old_points, **points}
            first = dict(old_first)
            if seen_on is not None:
                for period, values in points.items():
                    age = _age(period, seen_on)
                    if period not in old_points and 0 <= age < FIRST_SEEN_DAYS:
                        first.setdefault(period, (age, values))
            if merged != old_points or first != old_first:
                changed.append(self._item(pk, sk, measures, merged, first))
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
        first_seen: dict[str, FirstSeen] | None = None,
    ) -> dict[str, Series]:
        """Each entity's points in [start, end], fetched in batches (one or two items each);
        their first-seen values too, into ``first_seen`` (entity → period → (age, values)),
        when given — from the same items, no extra read."""
        pk = keys.profile_pk(tenant, profile)
        buckets = keys.buckets_between(start, end, interval)
        sks = [keys.metric_sk(interval, e, b) for e in entity_ids for b in buckets]
        lo, hi = format_period(start, interval), format_period(end, interval)
        window: dict[str, Series] = {e: {} for e in entity_ids}
        for sk, (_, points, first) in self._get(pk, sks).items():
            entity, _ = _entity_and_bucket(sk)
            window[entity].update({p: v for p, v in points.items() if lo <= p <= hi})
            if first_seen is not None and first:
                kept = {p: v for p, v in first.items() if lo <= p <= hi}
                first_seen.setdefault(entity, {}).update(kept)
        return {e: dict(sorted(points.items())) for e, points in window.items()}

    def _get(self, pk: str, sks: Sequence[str]) -> dict[str, tuple[list[str], Series, FirstSeen]]:
        request = [{"pk": {"S": pk}, "sk": {"S": sk}} for sk in sks]
        items = batch_get(self._client, METRICS.name, request)
        self.reads += len(items)
        return {item["sk"]["S"]: _decode(item) for item in items}

    @staticmethod
    def _item(
        pk: str,
        sk: str,
        measures: Sequence[str],
        points: Mapping[str, Values],
        first: FirstSeen | None = None,
    ) -> Item:
        return {
            "pk": {"S": pk},
            "sk": {"S": sk},
            "points": {"S": _encode(measures, points, first or {})},
            "n": {"N": str(len(points))},
        }
