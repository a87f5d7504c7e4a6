"""The metrics table: fat items, one per entity, interval and time bucket (keys.bucket_of).

A daily or intraday point is stored as ``period -> [values in MEASURES order]`` inside a
JSON string attribute (``points``). An hourly month is one packed attribute (``packed``)
instead: a JSON line naming the item's own sort key and the measures, each point's offset
from the month's first hour in seconds (int32), then its values (float64), zlib-compressed
and base64-spelled (a string: local snapshots write items as JSON). A keyword's full month
of counts is ~5 KB packed against ~33 KB of JSON; the worst case (5 measures × 744 hours of
incompressible values: ~33 KB raw) is ~41 KB base64, far below DynamoDB's 400 KB. Decoded
with ``np.frombuffer`` rather than ``json.loads``, and read by projection: an hourly scan
reads one or two months of every entity of a profile, and ``read_hours`` places the arrays
straight into its dense window. It projects ``packed`` alone — the key inside says whose
month it is — because moto server's answer costs per attribute value, whatever its size
(``bench/moto_batch_get.py``).

Hourly month items written before (the JSON ``points`` attribute, or packed without the key
inside) are still read — ``read_hours`` reads what its first projection could not place
again with the key — and a write to such a month rewrites it in the current layout.

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


def _encode_packed(sk: str, measures: Sequence[str], points: Mapping[str, Values]) -> str:
    origin = _month_start(sk)
    periods = sorted(points)
    offsets = [int((datetime.fromisoformat(p) - origin).total_seconds()) for p in periods]
    values = np.array([points[p] for p in periods], dtype=np.float64).reshape(-1, len(measures))
    head = json.dumps({"sk": sk, "measures": list(measures)}).encode() + b"\n"
    blob = zlib.compress(head + np.array(offsets, dtype=np.int32).tobytes() + values.tobytes())
    return base64.b64encode(blob).decode()


@dataclass(frozen=True)
class Packed:
    """A packed hourly month: its sort key (None when packed before the key was kept
    inside), measures, points' offsets from the month's first hour (s), values (n ×
    measures)."""

    sk: str | None
    measures: list[str]
    offsets: npt.NDArray[np.int32]
    values: npt.NDArray[np.float64]


def _unpack(packed: str) -> Packed:
    head, _, body = zlib.decompress(base64.b64decode(packed)).partition(b"\n")
    named = json.loads(head)
    sk, measures = (named["sk"], named["measures"]) if isinstance(named, dict) else (None, named)
    n = len(body) // (4 + 8 * len(measures))
    offsets = np.frombuffer(body, dtype=np.int32, count=n)
    values = np.frombuffer(body, dtype=np.float64, offset=4 * n).reshape(n, len(measures))
    return Packed(sk, measures, offsets, values)


def _month_start(sk: str) -> datetime:
    return keys.bucket_start(_entity_and_bucket(sk)[1], Interval.H1)


def _decode(item: Item) -> tuple[list[str], Series, FirstSeen]:
    if "packed" in item:
        month = _unpack(item["packed"]["S"])
        origin = _month_start(item["sk"]["S"])
        periods = [(origin + timedelta(seconds=int(s))).isoformat() for s in month.offsets]
        points = dict(zip(periods, map(tuple, month.values.tolist()), strict=True))
        return month.measures, points, {}
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
        hours × ``measures``; 0 where no point is stored), placed from the month items'
        packed arrays without a dict per point. Points off the hour (a bar at 14:30) are not
        hours of this window and are left out.

        One BatchGetItem per 100 months, projecting the month's one attribute (``packed``,
        which names its own key, or the older JSON ``points``). Months stored before the key
        was kept inside come back without it; if any does, the months not placed are read
        again with their keys."""
        pk = keys.profile_pk(tenant, profile)
        end = start + timedelta(hours=hours - 1)
        months = keys.buckets_between(start, end, Interval.H1)
        sks = [keys.metric_sk(Interval.H1, e, m) for e in entity_ids for m in months]
        row = {e: i for i, e in enumerate(entity_ids)}
        raw = np.zeros((len(entity_ids), hours, len(measures)))
        asked, placed = set(sks), set()
        unnamed = False
        for item in self._fetch(pk, sks, ProjectionExpression="packed, points"):
            month = _unpack(item["packed"]["S"]) if "packed" in item else None
            if month is None or month.sk not in asked:
                unnamed = True
                continue
            self._place(raw, row, month.sk, month, measures, start)
            placed.add(month.sk)
        if unnamed:
            rest = [sk for sk in sks if sk not in placed]
            for item in self._fetch(pk, rest, ProjectionExpression="sk, packed, points"):
                self._place_older(raw, row, item, measures, start)
        return raw

    def _place_older(
        self,
        raw: npt.NDArray[np.float64],
        row: Mapping[str, int],
        item: Item,
        measures: Sequence[str],
        start: datetime,
    ) -> None:
        sk = item["sk"]["S"]
        if "packed" in item:
            self._place(raw, row, sk, _unpack(item["packed"]["S"]), measures, start)
            return
        stored, points, _ = _decode(item)  # the JSON layout
        offsets = [(datetime.fromisoformat(p) - _month_start(sk)).total_seconds() for p in points]
        values = np.array(list(points.values()), dtype=np.float64).reshape(len(points), -1)
        month = Packed(sk, stored, np.array(offsets, dtype=np.int32), values)
        self._place(raw, row, sk, month, measures, start)

    @staticmethod
    def _place(
        raw: npt.NDArray[np.float64],
        row: Mapping[str, int],
        sk: str,
        month: Packed,
        measures: Sequence[str],
        start: datetime,
    ) -> None:
        """A month's points placed in the window ``raw`` that begins at ``start``."""
        try:
            columns = [month.measures.index(m) for m in measures]
        except ValueError:
            raise ValueError(f"{sk} is stored with measures {month.measures}") from None
        since = month.offsets.astype(np.int64) + int((_month_start(sk) - start).total_seconds())
        keep = (since % 3600 == 0) & (since >= 0) & (since < raw.shape[1] * 3600)
        raw[row[_entity_and_bucket(sk)[0]], since[keep] // 3600] = month.values[keep][:, columns]

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
            body = {"packed": {"S": _encode_packed(sk, measures, points)}}
        else:
            body = {"points": {"S": _encode(measures, points, first or {})}}
        return {"pk": {"S": pk}, "sk": {"S": sk}, **body, "n": {"N": str(len(points))}}
