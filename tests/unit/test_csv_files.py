"""Reading entities.csv and metrics.csv: what is accepted and how bad rows are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import tiny_account
from tripwire.ingest.csv_files import Collector, read_entities, read_ppc_metrics
from tripwire.ingest.errors import ImportRejected


def test_reads_the_hierarchy_and_leaf_series(tmp_path: Path) -> None:
    entities_path, metrics_path = tiny_account.write(tmp_path)
    entities = read_entities(entities_path, Collector(skip_bad_rows=False))
    assert [e.entity_id for e in entities] == ["A1", "C1", "C2", "K1", "K2", "K3", "P1"]
    by_id = {e.entity_id: e for e in entities}
    series, rows = read_ppc_metrics(metrics_path, by_id, Collector(skip_bad_rows=False))
    assert rows == 6
    assert series["K1"]["2026-01-01"] == (100, 5, 2.5, 30.0, 1)
    assert sorted(series["K3"]) == ["2026-01-01", "2026-01-02"]


def test_skip_bad_rows_reports_every_row_and_cascades_to_children(tmp_path: Path) -> None:
    entities = tiny_account.ENTITIES.replace("C2,campaign,A1", "C2,campain,A1")
    metrics = tiny_account.METRICS.replace("2026-01-02,K1,120,6", "2026-01-02,K1,120,600")
    entities_path, metrics_path = tiny_account.write(tmp_path, entities, metrics)
    collector = Collector(skip_bad_rows=True)
    accepted = read_entities(entities_path, collector)
    _, rows = read_ppc_metrics(metrics_path, {e.entity_id: e for e in accepted}, collector)
    reported = [(e.source, e.line, e.field) for e in collector.errors]
    assert reported == [
        ("entities.csv", 5, "entity_type"),  # the misspelt campaign
        ("entities.csv", 8, "parent_id"),  # its keyword has no parent left
        ("metrics.csv", 4, "entity_id"),  # K3's rows go with it
        ("metrics.csv", 5, "clicks"),
        ("metrics.csv", 7, "entity_id"),
    ]
    assert rows == 3


def test_stops_at_the_first_bad_row_by_default(tmp_path: Path) -> None:
    metrics = tiny_account.METRICS.replace("2026-01-01,K2,40", "2026-01-01,K2,-40")
    entities_path, metrics_path = tiny_account.write(tmp_path, metrics=metrics)
    entities = {e.entity_id: e for e in read_entities(entities_path, Collector(False))}
    with pytest.raises(ImportRejected) as rejected:
        read_ppc_metrics(metrics_path, entities, Collector(False))
    assert str(rejected.value).startswith("metrics.csv line 3, field 'impressions'")


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    entities_path, _ = tiny_account.write(tmp_path)
    entities_path.write_bytes(b"\xef\xbb\xbf" + entities_path.read_bytes())
    assert len(read_entities(entities_path, Collector(False))) == 7
