"""Writing an account to entities.csv, metrics.csv and truth.json."""

from __future__ import annotations

import csv
import dataclasses
import datetime
import json
import pathlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from tripwire.demo.account import METRIC_COLUMNS, GeneratedAccount
from tripwire.demo.config import GeneratorConfig
from tripwire.demo.hierarchy import ENTITY_COLUMNS
from tripwire.demo.incidents import Incident


def write(account: GeneratedAccount, out_dir: pathlib.Path) -> dict[str, pathlib.Path]:
    """Writes entities.csv, metrics.csv, truth.json; returns their paths by name
    ('entities', 'metrics', 'truth')."""
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "entities": out_dir / "entities.csv",
        "metrics": out_dir / "metrics.csv",
        "truth": out_dir / "truth.json",
    }
    _write_entities(account.entities, paths["entities"])
    _write_metrics(account.metrics, paths["metrics"])
    paths["truth"].write_text(_truth_json(account), encoding="utf-8")
    return paths


def incident_to_dict(incident: Incident) -> dict[str, Any]:
    """JSON-ready form of an incident (ISO dates, lists instead of tuples)."""
    return _json_ready(incident)


def config_to_dict(config: GeneratorConfig) -> dict[str, Any]:
    return _json_ready(config)


def _json_ready(record: Incident | GeneratorConfig) -> dict[str, Any]:
    """A dataclass's fields with dates as ISO strings and tuples as lists."""
    row = dataclasses.asdict(record)
    for key, value in row.items():
        if isinstance(value, datetime.date):
            row[key] = value.isoformat()
        elif isinstance(value, tuple):
            row[key] = list(value)
    return row


def _write_entities(entities: list[dict[str, str]], path: pathlib.Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=ENTITY_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(entities)


_ROW_FORMAT = "%s,%s,%d,%d,%d.%02d,%d.%02d,%d\n"
_CHUNK = 50_000


def _write_metrics(metrics: npt.NDArray[np.void], path: pathlib.Path) -> None:
    # One C-level %-format per chunk is ~10× faster than csv.writer on a million rows.
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(METRIC_COLUMNS) + "\n")
        for chunk in _chunks(metrics):
            fh.write((_ROW_FORMAT * (chunk.size // 9)) % tuple(chunk.ravel().tolist()))


def _chunks(metrics: npt.NDArray[np.void]) -> Iterator[npt.NDArray[np.object_]]:
    """Rows as (n, 9) object arrays: date, id, impressions, clicks, $, ¢, $, ¢, orders."""
    for lo in range(0, len(metrics), _CHUNK):
        part = metrics[lo : lo + _CHUNK]
        rows = np.empty((len(part), 9), dtype=object)
        rows[:, 0] = part["date"].astype(str)
        rows[:, 1] = part["entity_id"]
        rows[:, 2] = part["impressions"]
        rows[:, 3] = part["clicks"]
        rows[:, 4], rows[:, 5] = _dollars_and_cents(part["spend"])
        rows[:, 6], rows[:, 7] = _dollars_and_cents(part["sales"])
        rows[:, 8] = part["orders"]
        yield rows


def _dollars_and_cents(
    amount: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Whole dollars and the cents left over, for the %d.%02d columns."""
    cents = np.rint(amount * 100).astype(np.int64)
    return cents // 100, cents % 100


def _truth_json(account: GeneratedAccount) -> str:
    doc = {
        "config": config_to_dict(account.config),
        "incidents": [incident_to_dict(i) for i in account.incidents],
    }
    return json.dumps(doc, indent=2) + "\n"
