"""Parents with points of their own: campaign reports beside keyword roll-ups."""

from __future__ import annotations

from tripwire.domain.entities import Entity
from tripwire.ingest.rollup import roll_up_levels

MEASURES = ("impressions", "clicks", "spend", "sales", "orders")
INTEGERS = ("impressions", "clicks", "orders")
TREE = [
    Entity(entity_id="A", entity_type="account"),
    Entity(entity_id="P", entity_type="portfolio", parent_id="A"),
    Entity(entity_id="C1", entity_type="campaign", parent_id="P"),  # keywords on day 2 only
    Entity(entity_id="C2", entity_type="campaign", parent_id="P"),  # campaign report only
    Entity(entity_id="K1", entity_type="keyword", parent_id="C1"),
    Entity(entity_id="K2", entity_type="keyword", parent_id="C1"),
]


def test_a_campaigns_own_point_counts_only_where_no_keyword_has_the_day() -> None:
    points = {
        "K1": {"d2": (10, 1, 1.5, 0.0, 0)},
        "K2": {"d2": (5, 0, 0.0, 0.0, 0)},
        "C1": {"d1": (100, 3, 2.0, 9.0, 1), "d2": (999, 9, 9.0, 9.0, 9)},
        "C2": {"d1": (7, 1, 0.25, 0.0, 0), "d2": (8, 2, 0.5, 4.0, 1)},
    }
    series, superseded = roll_up_levels(TREE, points, MEASURES, INTEGERS)
    assert series["C1"] == {"d1": (100, 3, 2.0, 9.0, 1), "d2": (15, 1, 1.5, 0.0, 0)}
    assert series["C2"] == points["C2"]
    assert series["P"] == {"d1": (107, 4, 2.25, 9.0, 1), "d2": (23, 3, 2.0, 4.0, 1)}
    assert series["A"] == series["P"]
    assert superseded == {("C1", "d2")}


def test_without_own_points_it_is_the_plain_leaf_roll_up() -> None:
    points = {"K1": {"d1": (1, 1, 0.1, 0.0, 0)}, "K2": {"d1": (2, 0, 0.2, 1.0, 1)}}
    series, superseded = roll_up_levels(TREE, points, MEASURES, INTEGERS, ["d1"])
    assert series == {
        "C1": {"d1": (3, 1, 0.3, 1.0, 1)},
        "P": {"d1": (3, 1, 0.3, 1.0, 1)},
        "A": {"d1": (3, 1, 0.3, 1.0, 1)},
    }
    assert not superseded


def test_only_the_asked_periods_are_computed() -> None:
    points = {"C2": {"d1": (7, 1, 0.25, 0.0, 0), "d2": (8, 2, 0.5, 4.0, 1)}}
    series, _ = roll_up_levels(TREE, points, MEASURES, INTEGERS, ["d2"])
    assert series["A"] == {"d2": (8, 2, 0.5, 4.0, 1)}
