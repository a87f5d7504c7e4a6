"""`tripwire import` against moto server over HTTP: roll-ups, idempotency, bad rows."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from tests import tiny_account
from tripwire.cli import main as cli
from tripwire.demo.generator import GeneratorConfig, generate, write
from tripwire.domain.metrics import Interval
from tripwire.ingest.errors import ImportRejected
from tripwire.ingest.importer import import_account
from tripwire.store.catalog import CatalogStore
from tripwire.store.metrics import MetricStore

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("local_stack")]
DAY1, DAY2 = datetime(2026, 1, 1), datetime(2026, 1, 2)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write(generate(GeneratorConfig(seed=11)), tmp_path_factory.mktemp("account"))


def test_the_generated_account_imports_with_its_roll_ups(
    generated: dict[str, Path], tenant: str
) -> None:
    report = import_account(tenant, "A1", generated["entities"], generated["metrics"])
    _, entities = CatalogStore().get_hierarchy(tenant, "A1")
    keywords = [e.entity_id for e in entities if e.entity_type == "keyword"]
    assert report.entities == len(entities) and len(keywords) >= 1000
    assert report.rows == len(keywords) * 120

    with generated["metrics"].open() as handle:
        rows = list(csv.DictReader(handle))
    store = MetricStore()
    window = store.read_window(tenant, "A1", Interval.D1, ["A1"], DAY1, datetime(2026, 12, 31))
    first_day = [r for r in rows if r["date"] == "2026-01-01"]
    expected = [sum(float(r[m]) for r in first_day) for m in ("impressions", "spend", "orders")]
    account = window["A1"]["2026-01-01"]
    assert np.allclose([account[0], account[2], account[4]], expected)
    assert len(window["A1"]) == 120


def test_reading_every_entity_window_costs_at_most_two_items_each(
    generated: dict[str, Path], tenant: str
) -> None:
    import_account(tenant, "A1", generated["entities"], generated["metrics"])
    _, entities = CatalogStore().get_hierarchy(tenant, "A1")
    store = MetricStore()
    # A window that crosses a year boundary: the worst case for daily buckets.
    window = store.read_window(
        tenant, "A1", Interval.D1, [e.entity_id for e in entities], datetime(2025, 12, 1), DAY2
    )
    assert store.reads <= 2 * len(entities)
    assert all(len(window[e.entity_id]) == 2 for e in entities)


def test_importing_the_same_files_twice_changes_nothing(tmp_path: Path, tenant: str) -> None:
    entities_path, metrics_path = tiny_account.write(tmp_path)
    first = import_account(tenant, "A1", entities_path, metrics_path)
    second = import_account(tenant, "A1", entities_path, metrics_path)
    assert first.items_written == 7 and first.entities_new == 7
    assert second.items_written == 0 and second.entities_new == 0


def test_a_restated_leaf_updates_every_ancestor_with_stored_siblings(
    tmp_path: Path, tenant: str
) -> None:
    entities_path, metrics_path = tiny_account.write(tmp_path)
    import_account(tenant, "A1", entities_path, metrics_path)
    # Amazon restates sales late: K2's day 2 sales arrive again, higher; nothing else is sent.
    restated = (
        "date,entity_id,impressions,clicks,spend,sales,orders\n2026-01-02,K2,35,2,1.20,51,2\n"
    )
    _, restated_path = tiny_account.write(tmp_path / "restated", metrics=restated)
    import_account(tenant, "A1", entities_path, restated_path)
    window = MetricStore().read_window(tenant, "A1", Interval.D1, ["C1", "A1"], DAY1, DAY2)
    assert window["C1"]["2026-01-02"] == (155, 8, 4.3, 51, 2)  # K1 stored + K2 restated
    assert window["A1"]["2026-01-02"] == (167, 9, 4.75, 51, 2)
    assert window["A1"]["2026-01-01"][3] == 30  # the untouched day is unchanged


GOOD = tiny_account.METRICS


def _metrics(old: str, new: str) -> tuple[str, str]:
    return tiny_account.ENTITIES, GOOD.replace(old, new, 1)


def _entities(old: str, new: str) -> tuple[str, str]:
    return tiny_account.ENTITIES.replace(old, new, 1), GOOD


MET, ENT = "metrics.csv", "entities.csv"
# what is wrong: (the two files, the file, line and field the error must name)
BAD_ROWS = {
    "a count that is not a number": (_metrics(",100,5,", ",lots,5,"), MET, 2, "impressions"),
    "a negative count": (_metrics(",40,1,", ",40,-1,"), MET, 3, "clicks"),
    "NaN spend": (_metrics(",2.50,", ",NaN,"), MET, 2, "spend"),
    "infinite sales": (_metrics(",25.50,", ",inf,"), MET, 6, "sales"),
    "clicks above impressions": (_metrics(",10,0,0", ",10,11,0"), MET, 4, "clicks"),
    "a fractional order": (_metrics(",30.00,1", ",30.00,1.5"), MET, 2, "orders"),
    "an impossible date": (_metrics("2026-01-02,K3", "2026-01-32,K3"), MET, 7, "date"),
    "an unknown entity": (_metrics("2026-01-02,K3", "2026-01-02,K9"), MET, 7, "entity_id"),
    "metrics for a parent": (_metrics("2026-01-02,K3", "2026-01-02,C2"), MET, 7, "entity_id"),
    "a duplicated entity-day": (_metrics("K3,12", "K1,12"), MET, 7, "date"),
    "an empty cell": (_metrics(",0.70,0,0", ",,0,0"), MET, 3, "spend"),
    "a missing column": (_metrics(",orders\n", "\n"), MET, 1, "orders"),
    "an unknown entity type": (_entities("P1,portfolio", "P1,portfolo"), ENT, 3, "entity_type"),
    "a parent of wrong type": (_entities("K3,keyword,C2", "K3,keyword,P1"), ENT, 8, "parent_id"),
    "a missing parent": (_entities("C2,campaign,A1", "C2,campaign,A9"), ENT, 5, "parent_id"),
    "an entity listed twice": (_entities("K3,keyword", "K2,keyword"), ENT, 8, "entity_id"),
}  # fmt: skip


@pytest.mark.parametrize("what", BAD_ROWS)
def test_a_bad_row_stops_the_import_naming_line_and_field_and_writes_nothing(
    tmp_path: Path, tenant: str, what: str
) -> None:
    (entities, metrics), source, line, field = BAD_ROWS[what]
    entities_path, metrics_path = tiny_account.write(tmp_path, entities, metrics)
    with pytest.raises(ImportRejected) as rejected:
        import_account(tenant, "A1", entities_path, metrics_path)
    error = rejected.value.errors[0]
    assert (error.source, error.line, error.field) == (source, line, field)
    catalog = CatalogStore()
    assert catalog.get_hierarchy(tenant, "A1") == (None, [])
    assert catalog.get_profile(tenant, "A1") is None
    window = MetricStore().read_window(tenant, "A1", Interval.D1, ["K1", "A1"], DAY1, DAY2)
    assert window == {"K1": {}, "A1": {}}


def test_the_cli_reports_skipped_rows_and_imports_the_rest(
    tmp_path: Path, tenant: str, capsys: pytest.CaptureFixture[str]
) -> None:
    metrics = GOOD.replace(",40,1,", ",40,-1,").replace("2026-01-02,K3", "2026-01-32,K3")
    entities_path, metrics_path = tiny_account.write(tmp_path, metrics=metrics)
    args = ["import", "--entities", str(entities_path), "--metrics", str(metrics_path)]
    assert cli([*args, "--tenant", tenant, "--quiet"]) == 2
    assert "metrics.csv line 3, field 'clicks'" in capsys.readouterr().err

    assert cli([*args, "--tenant", tenant, "--quiet", "--skip-bad-rows"]) == 0
    out = capsys.readouterr().out
    assert "4 metric rows" in out and "skipped 2 bad rows" in out
    assert "metrics.csv line 7, field 'date'" in out
