"""POST /metrics: a batch of PPC points (and new entities), validated like the CSV import.

Rows are checked with the same domain models and helpers as ``tripwire import`` (Entity,
PPCPoint, check_parent, the importer's row errors); every row is checked before anything
is written, so a bad row rejects the whole request. The write half is the importer's own
(``import_parsed``): parents are rolled up from their leaves and the merge is keyed by
(entity, period), so sending the same batch again changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from tripwire.domain.entities import Entity, Profile, ProfileKind, check_parent
from tripwire.domain.metrics import Interval, PPCPoint, format_period
from tripwire.ingest.csv_files import METRIC_COLUMNS, LeafSeries, _entity_problem
from tripwire.ingest.errors import RowError, row_errors
from tripwire.ingest.importer import import_parsed
from tripwire.store.catalog import CatalogStore
from tripwire.store.metrics import MetricStore

MAX_ERRORS = 20  # reported per request; the first ones are enough to fix a client
ENTITY_FIELDS = ("entity_id", "entity_type", "parent_id", "name")


class BatchRejected(Exception):
    """Rows of the request are invalid; nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(str(errors[0]) if errors else "invalid batch")
        self.errors = errors[:MAX_ERRORS]


def _extra_fields(
    row: Mapping[str, Any], allowed: Sequence[str], source: str, index: int
) -> list[RowError]:
    return [RowError(source, index, str(k), "unknown field") for k in row if k not in allowed]


def _entities(
    rows: Sequence[Mapping[str, Any]], errors: list[RowError]
) -> dict[str, tuple[int, Entity]]:
    """Valid entities by id, with their row index."""
    parsed: dict[str, tuple[int, Entity]] = {}
    for index, row in enumerate(rows):
        extra = _extra_fields(row, ENTITY_FIELDS, "entities", index)
        try:
            entity = Entity.model_validate(row)
        except ValidationError as error:
            # Entity's own check (root vs parent) is about parent_id.
            errors += extra + row_errors(error, "entities", index, {"row": "parent_id"})
            continue
        errors += extra
        if entity.entity_id in parsed:
            errors.append(RowError("entities", index, "entity_id", "appears twice"))
        parsed[entity.entity_id] = (index, entity)
    return parsed


def _parents_known(
    rows: Mapping[str, tuple[int, Entity]], known: Mapping[str, Entity], errors: list[RowError]
) -> None:
    for index, entity in rows.values():
        if entity.parent_id is None:
            continue
        parent = known.get(entity.parent_id)
        if parent is None:
            why = f"{entity.parent_id} is neither in the profile nor in this request"
            errors.append(RowError("entities", index, "parent_id", why))
        elif wrong := check_parent(entity, parent):
            errors.append(RowError("entities", index, "parent_id", wrong))


def _points(
    rows: Sequence[Mapping[str, Any]],
    known: Mapping[str, Entity],
    interval: Interval,
    errors: list[RowError],
) -> LeafSeries:
    series: LeafSeries = {}
    for index, row in enumerate(rows):
        if len(errors) >= MAX_ERRORS:
            break
        extra = _extra_fields(row, METRIC_COLUMNS, "points", index)
        problem = _entity_problem(str(row.get("entity_id") or ""), known)
        if extra or problem:
            errors += extra + ([RowError("points", index, "entity_id", problem)] if problem else [])
            continue
        data = {k: v for k, v in row.items() if k != "date"}
        try:
            point = PPCPoint.model_validate(
                {**data, "period": row.get("date"), "interval": interval}
            )
        except ValidationError as error:
            errors += row_errors(error, "points", index, {"period": "date"})
            continue
        period = format_period(point.period, interval)
        points = series.setdefault(point.entity_id, {})
        if period in points:
            errors.append(
                RowError("points", index, "date", f"{point.entity_id} already has {period}")
            )
            continue
        points[period] = point.values()
    return series


@dataclass
class MetricsIngest:
    catalog: CatalogStore
    metrics: MetricStore

    @classmethod
    def default(cls) -> MetricsIngest:
        return cls(CatalogStore(), MetricStore())

    def ingest(
        self,
        tenant: str,
        profile_id: str,
        interval: Interval,
        entity_rows: Sequence[Mapping[str, Any]],
        point_rows: Sequence[Mapping[str, Any]],
    ) -> dict[str, Any]:
        """Validate every row, then write all of them (or raise BatchRejected, writing none)."""
        profile = self.catalog.get_profile(tenant, profile_id) or Profile(
            tenant_id=tenant, profile_id=profile_id, kind=ProfileKind.ADS
        )
        if profile.kind is not ProfileKind.ADS:
            why = f"profile {profile_id} is a {profile.kind} profile; this route takes PPC points"
            raise BatchRejected([RowError("body", 0, "profile_id", why)])
        errors: list[RowError] = []
        entities = _entities(entity_rows, errors)
        _, stored = self.catalog.get_hierarchy(tenant, profile_id)
        known = {e.entity_id: e for e in stored} | {i: e for i, (_, e) in entities.items()}
        _parents_known(entities, known, errors)
        series = _points(point_rows, known, interval, errors)
        if errors:
            raise BatchRejected(errors)
        report = import_parsed(
            profile,
            [e for _, e in entities.values()],
            series,
            rows=sum(len(p) for p in series.values()),
            skipped=[],
            interval=interval,
            catalog=self.catalog,
            metrics=self.metrics,
        )
        return {
            "profile_id": profile_id,
            "interval": interval.value,
            "entities": report.entities,
            "entities_new": report.entities_new,
            "points": report.rows,
            "points_written": report.points_written,
            "items_changed": report.items_written,
        }
