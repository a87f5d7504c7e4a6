"""Parents' series are sums of their leaves, following ids."""

from __future__ import annotations

from pathlib import Path

from tests import tiny_account
from tripwire.domain.metrics import INTEGER_MEASURES, PPC_MEASURES
from tripwire.ingest.csv_files import Collector, read_entities, read_ppc_metrics
from tripwire.ingest.rollup import ancestors, roll_up


def _tiny(tmp_path: Path):  # type: ignore[no-untyped-def]
    entities_path, metrics_path = tiny_account.write(tmp_path)
    entities = read_entities(entities_path, Collector(False))
    series, _ = read_ppc_metrics(metrics_path, {e.entity_id: e for e in entities}, Collector(False))
    return entities, series


def test_every_ancestor_sums_its_leaves(tmp_path: Path) -> None:
    entities, leaves = _tiny(tmp_path)
    parents = roll_up(entities, leaves, PPC_MEASURES, INTEGER_MEASURES)
    assert parents["C1"]["2026-01-01"] == (140, 6, 3.2, 30.0, 1)
    assert parents["C2"]["2026-01-02"] == (12, 1, 0.45, 0.0, 0)
    assert parents["P1"] == parents["C1"]  # the portfolio holds one campaign
    assert parents["A1"]["2026-01-02"] == (167, 9, 4.75, 25.5, 1)


def test_the_same_keyword_text_in_two_campaigns_stays_two_entities(tmp_path: Path) -> None:
    entities, leaves = _tiny(tmp_path)
    # K1 and K2 are both "chef knife": the campaign total counts both, once each.
    parents = roll_up(entities, leaves, PPC_MEASURES, INTEGER_MEASURES)
    assert parents["C1"]["2026-01-02"][0] == 120 + 35


def test_counts_stay_integers_and_money_has_no_float_noise(tmp_path: Path) -> None:
    entities, leaves = _tiny(tmp_path)
    account = roll_up(entities, leaves, PPC_MEASURES, INTEGER_MEASURES)["A1"]["2026-01-01"]
    assert isinstance(account[0], int) and account[2] == 3.2


def test_only_the_requested_periods_are_rolled_up(tmp_path: Path) -> None:
    entities, leaves = _tiny(tmp_path)
    parents = roll_up(entities, leaves, PPC_MEASURES, INTEGER_MEASURES, ["2026-01-02"])
    assert list(parents["A1"]) == ["2026-01-02"]


def test_ancestors_are_listed_nearest_first(tmp_path: Path) -> None:
    entities, _ = _tiny(tmp_path)
    chains = ancestors(entities)
    assert chains["K1"] == ["C1", "P1", "A1"]
    assert chains["K3"] == ["C2", "A1"]
    assert chains["A1"] == []
