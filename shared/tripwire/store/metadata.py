"""The metadata table: where detection stands for every entity series, in fat items.

One item per *unit* (a leaf's parent, or a non-leaf entity itself) and interval holds the
``DetectionMetadata`` of the unit and its leaf children: ``sk = {interval}#{unit}``. A
campaign's keywords are scanned together (they share a slice), so a slice reads and writes
its state in a few batched items — a few hundredths of a read per entity instead of one.
Each unit belongs to exactly one slice, so two workers never write the same item.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from tripwire.domain.entities import Entity
from tripwire.domain.metrics import Interval
from tripwire.domain.runs import DetectionMetadata, SeriesStatus
from tripwire.store import keys
from tripwire.store.batch import Item, batch_get, batch_put
from tripwire.store.dynamo import DynamoStore
from tripwire.store.tables import METADATA

# Compact row per series:
# [last_detected, model_version, rows_processed, anomalies, status, first_detected]
_Row = list[str | int | None]


@dataclass(frozen=True)
class SeriesState:
    """A series' metadata and the first period detected (with ``last_detected`` the range
    detected so far, which backfills extend)."""

    meta: DetectionMetadata
    first_detected: datetime | None = None


def unit_of(entity: Entity) -> str:
    """The fat item an entity's state lives in: its parent for a leaf, else itself."""
    return entity.parent_id if entity.is_leaf and entity.parent_id else entity.entity_id


def _sk(interval: Interval, unit: str) -> str:
    return f"{interval.value}{keys.SEP}{unit}"


def _row(state: SeriesState) -> _Row:
    meta, first = state.meta, state.first_detected
    return [
        meta.last_detected.isoformat() if meta.last_detected else None,
        meta.model_version,
        meta.rows_processed,
        meta.anomalies_found,
        meta.status.value,
        first.isoformat() if first else None,
    ]


class MetadataStore(DynamoStore):
    def read(
        self, tenant: str, profile: str, interval: Interval, units: Iterable[str]
    ) -> dict[str, SeriesState]:
        """Entity id → its state, for every series stored under ``units`` (batched)."""
        pk = keys.profile_pk(tenant, profile)
        request = [{"pk": {"S": pk}, "sk": {"S": _sk(interval, u)}} for u in sorted(set(units))]
        out: dict[str, SeriesState] = {}
        for item in batch_get(self._client, METADATA.name, request):
            for entity, row in json.loads(item["series"]["S"]).items():
                meta = DetectionMetadata(
                    tenant_id=tenant,
                    profile_id=profile,
                    entity_id=entity,
                    interval=interval,
                    last_detected=datetime.fromisoformat(row[0]) if row[0] else None,
                    model_version=row[1],
                    rows_processed=row[2],
                    anomalies_found=row[3],
                    status=SeriesStatus(row[4]),
                )
                first = datetime.fromisoformat(row[5]) if row[5] else None
                out[entity] = SeriesState(meta, first)
        return out

    def write(
        self,
        tenant: str,
        profile: str,
        interval: Interval,
        by_unit: Mapping[str, Sequence[SeriesState]],
    ) -> int:
        """Replace the items of ``by_unit`` (each unit's complete state); returns items written."""
        pk = keys.profile_pk(tenant, profile)
        items: list[Item] = [
            {
                "pk": {"S": pk},
                "sk": {"S": _sk(interval, unit)},
                "series": {
                    "S": json.dumps(
                        {m.meta.entity_id: _row(m) for m in metas}, separators=(",", ":")
                    )
                },
                "n": {"N": str(len(metas))},
            }
            for unit, metas in by_unit.items()
        ]
        return batch_put(self._client, METADATA.name, items)
