"""The metrics table: fat items, one per entity, interval and time bucket (keys.bucket_of).

A daily or intraday point is stored as ``period -> [values in MEASURES order]`` inside a
JSON string attribute. An hourly week is one packed attribute instead: the measures (a JSON
line), each point's offset from the week's Monday in seconds (int32), then its values
(float64), zlib-compressed and base64-spelled (a string: local snapshots write items as
JSON) — under 1 KB for a keyword's week where the JSON spelling took 8 KB; decoded with
``np.frombuffer`` rather than ``json.loads``, and read as that one attribute (moto server's
answer costs per attribute value, whatever its size). An hourly scan reads three or four
weeks of every entity of a profile: ``read_hours`` places the arrays straight into its
dense window.

Hourly items of the month layout used before (``M#1h#{entity}#2026-06``, JSON; in local
snapshots taken before) are not read: reading both layouts would double the keys every
hourly scan asks for, for two weeks of history the Marketing Stream refills in two weeks
(README, "Marketing Stream"). They are deleted with the profile.

A restatement replaces a period's values; the values a period had when it was first written
young (within ``FIRST_SEEN_DAYS`` of the write) are kept beside them as
``first: period -> [age, values…]`` — what a reporting-lag curve is learnt from (first seen
against settled). Items without any keep their old encoding.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

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


def _encode_week(monday: datetime, measures: Sequence[str], points: Mapping[str, Values]) -> str:
    periods = sorted(points)
    offsets = [int((datetime.fromisoformat(p) - monday).total_seconds()) for p in periods]
    values = np.array([points[p] for p in periods], dtype=np.float64).reshape(-1, len(measures))
    head = json.dumps(list(measures)).encode() + b"\n"
    blob = zlib.compress(head + np.array(offsets, dtype=np.int32).tobytes() + values.tobytes())
    return base64.b64encode(blob).decode()


def _week_arrays(item: Item) -> tuple[list[str], npt.NDArray[np.int32], npt.NDArray[Any]]:
    """An hourly week item's measures and points: offsets from its Monday (s) and values
    (n × measures). One attribute holds it all: moto server's answer costs per attribute."""
    head, _, body = zlib.decompress(base64.b64decode(item["week"]["S"])).partition(b"\n")
    measures = json.loads(head)
    n = len(body) // (4 + 8 * len(measures))
    offsets = np.frombuffer(body, dtype=np.int32, count=n)
    values = np.frombuffer(body, dtype=np.float64, offset=4 * n).reshape(n, len(measures))
    return measures, offsets, values


def _monday(sk: str) -> datetime:
    return datetime.fromisoformat(_entity_and_bucket(sk)[1])


def _decode(item: Item) -> tuple[list[str], Series, FirstSeen]:
    if "week" in item:
        measures, offsets, values = _week_arrays(item)
        monday = _monday(item["sk"]["S"])
        periods = [(monday + timedelta(seconds=int(s))).isoformat() for s in offsets]
        return measures, dict(zip(periods, map(tuple, values.tolist()), strict=True)), {}
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
        keeps these values as its first-seen ones (daily and intraday bars; not hours).
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
            if seen_on is not None and interval is not Interval.H1:
                for period, values in points.items():
                    age = _age(period, seen_on)
                    if period not in old_points and 0 <= age < FIRST_SEEN_DAYS:
                        first.setdefault(period, (age, values))
            if merged != old_points or first != old_first:
                changed.append(self._item(pk, sk, interval, measures, merged, first))
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
        """Each entity's points in [start, end], fetched in batches (a few items each);
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

    def read_hours(
        self,
        tenant: str,
        profile: str,
        entity_ids: Sequence[str],
        measures: Sequence[str],
        start: datetime,
        hours: int,
    ) -> npt.NDArray[np.float64]:
        """The ``hours`` hours from ``start`` of each entity as one dense array (entities ×
        hours × ``measures``; 0 where no point is stored), placed from the week items'
        arrays without a dict per point. Points off the hour (a bar at 14:30) are not hours
        of this window and are left out."""
        pk = keys.profile_pk(tenant, profile)
        end = start + timedelta(hours=hours - 1)
        weeks = keys.buckets_between(start, end, Interval.H1)
        sks = [keys.metric_sk(Interval.H1, e, w) for e in entity_ids for w in weeks]
        row = {e: i for i, e in enumerate(entity_ids)}
        raw = np.zeros((len(entity_ids), hours, len(measures)))
        for item in self._fetch(pk, sks, ProjectionExpression="sk, week"):
            sk = item["sk"]["S"]
            stored, offsets, values = _week_arrays(item)
            try:
                columns = [stored.index(m) for m in measures]
            except ValueError:
                raise ValueError(f"{sk} is stored with measures {stored}") from None
            since = offsets.astype(np.int64) + int((_monday(sk) - start).total_seconds())
            keep = (since % 3600 == 0) & (since >= 0) & (since < hours * 3600)
            raw[row[_entity_and_bucket(sk)[0]], since[keep] // 3600] = values[keep][:, columns]
        return raw

    def _fetch(self, pk: str, sks: Sequence[str], **options: Any) -> list[Item]:
        request = [{"pk": {"S": pk}, "sk": {"S": sk}} for sk in sks]
        items = batch_get(self._client, METRICS.name, request, **options)
        self.reads += len(items)
        return items

    def _get(self, pk: str, sks: Sequence[str]) -> dict[str, tuple[list[str], Series, FirstSeen]]:
        return {item["sk"]["S"]: _decode(item) for item in self._fetch(pk, sks)}

    @staticmethod
    def _item(
        pk: str,
        sk: str,
        interval: Interval,
        measures: Sequence[str],
        points: Mapping[str, Values],
        first: FirstSeen | None = None,
    ) -> Item:
        if interval is Interval.H1:
            body = {"week": {"S": _encode_week(_monday(sk), measures, points)}}
        else:
            body = {"points": {"S": _encode(measures, points, first or {})}}
        return {"pk": {"S": pk}, "sk": {"S": sk}, **body, "n": {"N": str(len(points))}}
