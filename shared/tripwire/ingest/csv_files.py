"""Reading Tripwire's own CSV formats (entities.csv, metrics.csv) into validated rows.

Every row is checked before anything is written. A bad row either stops the whole
import (the default) or is skipped and reported (``skip_bad_rows``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from pydantic import ValidationError
from tqdm import tqdm

from tripwire.domain.entities import PARENT_TYPES, Entity, EntityType, check_parent
from tripwire.domain.metrics import Interval, PPCPoint, format_period
from tripwire.ingest.errors import ImportRejected, RowError, row_errors

ENTITY_COLUMNS = ("entity_id", "entity_type", "parent_id", "name")
METRIC_COLUMNS = ("date", "entity_id", "impressions", "clicks", "spend", "sales", "orders")


def _depth(entity_type: EntityType) -> int:
    """A type's depth in the tree (account 0 … keyword 3)."""
    parents = PARENT_TYPES[entity_type]
    return 0 if not parents else 1 + max(_depth(p) for p in parents)


@dataclass
class Collector:
    """Gathers bad rows; stops at the first one unless bad rows may be skipped."""

    skip_bad_rows: bool
    errors: list[RowError] = field(default_factory=list)

    def add(self, errors: list[RowError]) -> None:
        self.errors.extend(errors)
        if errors and not self.skip_bad_rows:
            raise ImportRejected(errors)


def _decoded(handle: BinaryIO, bar: tqdm, source: str) -> Iterator[str]:
    # Counting bytes as lines are read drives the progress bar without a second pass.
    for number, raw in enumerate(handle):
        bar.update(len(raw))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ImportRejected(
                [RowError(source, number + 1, "row", "is not UTF-8 text")]
            ) from None
        yield text.lstrip("\ufeff") if number == 0 else text


def _rows(
    path: Path, columns: tuple[str, ...], progress: bool
) -> Iterator[tuple[int, dict[str, str]]]:
    total = path.stat().st_size
    with (
        path.open("rb") as handle,
        tqdm(total=total, unit="B", unit_scale=True, desc=path.name, disable=not progress) as bar,
    ):
        reader = csv.DictReader(_decoded(handle, bar, path.name))
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise ImportRejected([RowError(path.name, 1, missing[0], "column is missing")])
        for row in reader:
            if None in row:  # more cells than header columns
                yield reader.line_num, {**row, "__extra__": "1"}
            else:
                yield reader.line_num, row


def read_entities(path: Path, collector: Collector, progress: bool = False) -> list[Entity]:
    """Validated entities; parents must exist in the file (or in ``known``) with the right type."""
    parsed: list[tuple[int, Entity]] = []
    seen: set[str] = set()
    for line, row in _rows(path, ENTITY_COLUMNS, progress):
        if "__extra__" in row:
            collector.add([RowError(path.name, line, "row", "more cells than columns")])
            continue
        data = {c: (row[c] or None) if c == "parent_id" else (row[c] or "") for c in ENTITY_COLUMNS}
        try:
            entity = Entity.model_validate(data)
        except ValidationError as error:
            collector.add(row_errors(error, path.name, line))
            continue
        if entity.entity_id in seen:
            collector.add(
                [RowError(path.name, line, "entity_id", f"{entity.entity_id} appears twice")]
            )
            continue
        seen.add(entity.entity_id)
        parsed.append((line, entity))
    return _with_valid_parents(parsed, path.name, collector)


def _with_valid_parents(
    parsed: list[tuple[int, Entity]], source: str, collector: Collector
) -> list[Entity]:
    by_id = {e.entity_id: e for _, e in parsed}
    accepted: dict[str, Entity] = {}
    # Parents before children, so a skipped parent also rejects its descendants.
    for line, entity in sorted(parsed, key=lambda p: (_depth(p[1].entity_type), p[0])):
        if entity.parent_id is not None:
            parent = accepted.get(entity.parent_id)
            if parent is None:
                why = "is skipped" if entity.parent_id in by_id else "is not in the file"
                collector.add([RowError(source, line, "parent_id", f"{entity.parent_id} {why}")])
                continue
            wrong = check_parent(entity, parent)
            if wrong:
                collector.add([RowError(source, line, "parent_id", wrong)])
                continue
        accepted[entity.entity_id] = entity
    return sorted(accepted.values(), key=lambda e: e.entity_id)


LeafSeries = dict[str, dict[str, tuple[float, ...]]]  # entity -> ISO period -> values


def read_ppc_metrics(
    path: Path,
    entities: Mapping[str, Entity],
    collector: Collector,
    interval: Interval = Interval.D1,
    progress: bool = False,
) -> tuple[LeafSeries, int]:
    """Leaf series from metrics.csv and the number of rows accepted."""
    series: LeafSeries = {}
    accepted = 0
    for line, row in _rows(path, METRIC_COLUMNS, progress):
        if "__extra__" in row:
            collector.add([RowError(path.name, line, "row", "more cells than columns")])
            continue
        problem = _entity_problem(row.get("entity_id") or "", entities)
        if problem:
            collector.add([RowError(path.name, line, "entity_id", problem)])
            continue
        data = {c: row[c] for c in METRIC_COLUMNS if c != "date"}
        try:
            point = PPCPoint.model_validate({**data, "period": row["date"], "interval": interval})
        except ValidationError as error:
            collector.add(row_errors(error, path.name, line, {"period": "date"}))
            continue
        points = series.setdefault(point.entity_id, {})
        period = format_period(point.period, interval)
        if period in points:
            collector.add(
                [RowError(path.name, line, "date", f"{point.entity_id} already has {period}")]
            )
            continue
        points[period] = point.values()
        accepted += 1
    return series, accepted


def _entity_problem(entity_id: str, entities: Mapping[str, Entity]) -> str | None:
    entity = entities.get(entity_id.strip())
    if entity is None:
        return f"unknown entity {entity_id!r}"
    if not entity.is_leaf:
        return f"{entity_id} is a {entity.entity_type}: metrics rows are for leaf entities only"
    return None
